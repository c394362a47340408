package e2e

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// The musl binaries are what users expect: for the std-only crate and for the crate
// with a (git) dependency, built by the musl test builder with no --target, the
// binary is a static x86_64 ELF linked by mold, it runs on the busybox base and on an
// empty scratch-like base, the size-minded release profile users copy builds and
// runs, and GNU ld links the same program that mold does.
func TestMuslBinaries(t *testing.T) {
	needDocker(t)
	t.Parallel()
	if got := builderTarget(t, builderImage); got != testenv.MuslTarget {
		t.Fatalf("the test builder %s builds %q, want the default %s", builderImage, got, testenv.MuslTarget)
	}
	crates := []struct {
		name  string
		setup func(*testing.T) string // a copy of the crate the test may change
		want  string                  // what the binary prints
	}{
		{"hello", func(t *testing.T) string { return copyTree(t, crate("hello")) }, "Hello, world!"},
		{"gitdep", withGitDep, "greetings, gitdep"},
	}
	for _, c := range crates {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			src := c.setup(t)
			final, tmp := names(t)

			// The defaults: the builder's target, mold, the busybox base.
			r := mustBuild(t, src, c.name, final, tmp)
			if want := "--target " + testenv.MuslTarget; !strings.Contains(r.stderr, want) {
				t.Errorf("assemble did not run cargo with %q:\n%s", want, r.stderr)
			}
			bin := binaryOf(t, final, c.name)
			checkStaticX86(t, bin)
			t.Logf("%s, musl, linked by mold: %d bytes", c.name, len(bin))
			if comment := elfComment(t, bin); !strings.Contains(comment, "mold") {
				t.Errorf("the binary's .comment does not name mold, so mold did not link it: %q", comment)
			} else {
				t.Logf("%s .comment: %s", c.name, comment)
			}
			if glibcInside(bin) {
				t.Error("the musl binary carries glibc")
			}
			byMold := runImage(t, final)
			if !strings.Contains(byMold, c.want) {
				t.Errorf("on busybox the binary printed %q, want %q", byMold, c.want)
			}
			in, err := docker.ImageInspect(context.Background(), final)
			if err != nil {
				t.Fatal(err)
			}
			if in.Architecture != "amd64" || in.Os != "linux" {
				t.Errorf("final image is %s/%s, want linux/amd64 as the binary", in.Os, in.Architecture)
			}

			// An empty base: nothing but the binary, and no /etc/passwd for the
			// numeric user. Same source, same -tmp image: only the final image differs.
			scratch := scratchImage(t)
			onScratch := extraImage(t, final, "scratch")
			if r := runCmd(t, nil, "build", "--source", src, "--binary", c.name, "--builder", builderImage,
				"--runtime-image", scratch, "--image", onScratch, "--tmp-image", tmp); r.code != 0 {
				t.Fatalf("build on the empty base failed:\n%s", r)
			}
			base, err := docker.ImageInspect(context.Background(), scratch)
			if err != nil {
				t.Fatal(err)
			}
			img, err := docker.ImageInspect(context.Background(), onScratch)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(img.RootFS.Layers), len(base.RootFS.Layers)+1; got != want || img.RootFS.Layers[0] != base.RootFS.Layers[0] {
				t.Errorf("image on the empty base has layers %v, want the base's %v plus one", img.RootFS.Layers, base.RootFS.Layers)
			}
			if !bytes.Equal(binaryOf(t, onScratch, c.name), bin) {
				t.Error("the binary on the empty base is not the one built for busybox")
			}
			if got := runImage(t, onScratch); got != byMold {
				t.Errorf("on the empty base the binary printed %q, on busybox %q", got, byMold)
			}
			if out, err := exec.Command("docker", "run", "--rm", "--entrypoint", "/bin/sh", onScratch, "-c", "true").CombinedOutput(); err == nil {
				t.Errorf("the empty base has a shell, so it is not empty:\n%s", out)
			}

			// GNU ld instead of mold (RUST_S2I_LINKER=default): another link of the
			// same program, which prints the same.
			byLd := extraImage(t, final, "ld")
			mustBuild(t, src, c.name, byLd, extraImage(t, tmp, "ld"), "--env", "RUST_S2I_LINKER=default")
			ldBin := binaryOf(t, byLd, c.name)
			checkStaticX86(t, ldBin)
			if comment := elfComment(t, ldBin); strings.Contains(comment, "mold") {
				t.Errorf("RUST_S2I_LINKER=default still linked with mold: .comment %q", comment)
			}
			if bytes.Equal(ldBin, bin) {
				t.Error("GNU ld and mold gave the same bytes: one of them did not link")
			}
			if got := runImage(t, byLd); got != byMold {
				t.Errorf("linked by GNU ld the binary printed %q, linked by mold %q", got, byMold)
			}
			t.Logf("%s, musl, linked by GNU ld: %d bytes", c.name, len(ldBin))

			// The release profile users copy to shrink images. A panic path shows
			// that panic = "abort" took effect: the process dies of SIGABRT (exit
			// 134) instead of unwinding to exit 101. Under --init: as PID 1 the
			// process ignores its own SIGABRT, and musl's abort() then ends in a
			// crash instruction, SIGSEGV (exit 139).
			withSmallProfile(t, src)
			small, smallTmp := extraImage(t, final, "small"), extraImage(t, tmp, "small")
			mustBuild(t, src, c.name, small, smallTmp)
			smallBin := binaryOf(t, small, c.name)
			checkStaticX86(t, smallBin)
			t.Logf("%s, musl, lto + codegen-units 1 + panic abort + strip: %d bytes", c.name, len(smallBin))
			if len(smallBin) >= len(bin) {
				t.Errorf("with the small release profile the binary is %d bytes, not less than the default's %d",
					len(smallBin), len(bin))
			}
			if got := runImage(t, small); got != byMold {
				t.Errorf("with the small profile the binary printed %q, by default %q", got, byMold)
			}
			out, code := runExit(t, small, "--init", "-e", "RUST_S2I_TEST_PANIC=1")
			if code != 134 || !strings.Contains(out, "asked to panic") {
				t.Errorf("a panic with panic = \"abort\" exited %d (want 134, SIGABRT) and printed %q", code, out)
			}
		})
	}
}

// A dependency with C code: ring compiles C and assembly through the cc crate, which
// for the musl target calls musl-gcc. The binary is static and computes SHA-256 right.
func TestMuslCDependency(t *testing.T) {
	needDocker(t)
	t.Parallel()
	final, tmp := names(t)
	r := mustBuild(t, crate("ringdigest"), "ringdigest", final, tmp)
	for _, want := range []string{"Compiling ring v0.16", "--target " + testenv.MuslTarget} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the build log lacks %q:\n%s", want, r.stderr)
		}
	}
	bin := binaryOf(t, final, "ringdigest")
	checkStaticX86(t, bin)
	if glibcInside(bin) {
		t.Error("the musl binary carries glibc")
	}
	t.Logf("ringdigest, musl: %d bytes", len(bin))
	for _, tc := range []struct{ arg, want string }{
		// sha256sum of the same bytes
		{"", "sha256(rust-s2i-musl) = ee48911c3639cc6e7d8dc867a86d250579e36b627d475228b51be900645b5f42"},
		{"abc", "sha256(abc) = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	} {
		var args []string
		if tc.arg != "" {
			args = append(args, tc.arg)
		}
		if got := strings.TrimSpace(runImage(t, final, args...)); got != tc.want {
			t.Errorf("ringdigest %s printed %q, want %q", tc.arg, got, tc.want)
		}
	}
}

// A -gnu target, which users may pick: the builder links it with +crt-static, and the
// binary is as static as a musl one and runs on the busybox base, which has no glibc.
func TestGnuCrtStatic(t *testing.T) {
	needDocker(t)
	t.Parallel()
	gnuBuilder := testenv.GnuBuilderImage
	if err := testenv.NeedImage(context.Background(), docker, gnuBuilder); err != nil {
		t.Fatal(err)
	}
	if got := builderTarget(t, gnuBuilder); got != testenv.GnuTarget {
		t.Fatalf("%s builds %q, want %s", gnuBuilder, got, testenv.GnuTarget)
	}
	final, tmp := names(t)
	r := runCmd(t, nil, "build", "--source", crate("hello"), "--binary", "hello", "--builder", gnuBuilder,
		"--runtime-image", runtimeImage, "--image", final, "--tmp-image", tmp)
	if r.code != 0 {
		t.Fatalf("build failed:\n%s", r)
	}
	if want := "--target " + testenv.GnuTarget; !strings.Contains(r.stderr, want) {
		t.Errorf("assemble did not run cargo with %q:\n%s", want, r.stderr)
	}
	bin := binaryOf(t, final, "hello")
	checkStaticX86(t, bin)
	if !glibcInside(bin) {
		t.Error("the -gnu binary does not carry glibc: was it built for another target?")
	}
	t.Logf("hello, gnu +crt-static: %d bytes", len(bin))
	if got := runImage(t, final, "gnu"); !strings.Contains(got, "Hello, gnu!") {
		t.Errorf("image printed %q", got)
	}
}

// builderTarget is the target a builder image builds, from its io.rust-s2i.target label.
func builderTarget(t *testing.T, img string) string {
	t.Helper()
	in, err := docker.ImageInspect(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	target := in.Config.Labels["io.rust-s2i.target"]
	if target == "" {
		t.Fatalf("builder %s has no io.rust-s2i.target label", img)
	}
	return target
}

// checkStaticX86 fails the test unless data is a 64-bit x86_64 ELF executable with no
// interpreter and no shared libraries.
func checkStaticX86(t *testing.T, data []byte) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("binary is not ELF: %v", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		t.Errorf("binary is %v %v, want ELFCLASS64 EM_X86_64", f.Class, f.Machine)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		t.Errorf("binary is an ELF %v, want an executable", f.Type)
	}
	if !isStatic(t, data) {
		t.Error("the binary has a PT_INTERP or DT_NEEDED: it is dynamically linked")
	}
}

// elfComment is the ELF's .comment section, where compilers and linkers put their
// names (mold stamps "mold x.y.z"), its NUL-separated strings joined by " | ".
func elfComment(t *testing.T, data []byte) string {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("binary is not ELF: %v", err)
	}
	s := f.Section(".comment")
	if s == nil {
		return ""
	}
	b, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, p := range bytes.Split(b, []byte{0}) {
		if len(p) > 0 {
			parts = append(parts, string(p))
		}
	}
	return strings.Join(parts, " | ")
}

// glibcInside reports whether a static binary has glibc linked in, by glibc's own
// version tags, which a static glibc keeps and musl never has.
func glibcInside(data []byte) bool {
	return bytes.Contains(data, []byte("GLIBC_"))
}

// extraImage is one more image name for a test, next to one from names, removed when
// the test ends.
func extraImage(t *testing.T, name, suffix string) string {
	t.Helper()
	img := name + "-" + suffix
	t.Cleanup(func() {
		_, _ = docker.ImageRemove(context.Background(), img, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	})
	return img
}

// withSmallProfile gives a crate copy the release profile users copy to shrink images,
// and a panic on request as the first thing main does.
func withSmallProfile(t *testing.T, src string) {
	t.Helper()
	manifest := filepath.Join(src, "Cargo.toml")
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("[profile.")) {
		t.Fatalf("%s already has a profile", manifest)
	}
	data = append(data, "\n[profile.release]\nlto = true\ncodegen-units = 1\npanic = \"abort\"\nstrip = true\n"...)
	if err := os.WriteFile(manifest, data, 0o644); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(src, "src", "main.rs")
	code, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	const fnMain = "fn main() {\n"
	if !bytes.Contains(code, []byte(fnMain)) {
		t.Fatalf("%s has no %q line", main, fnMain)
	}
	code = bytes.Replace(code, []byte(fnMain), []byte(fnMain+
		"    if std::env::var_os(\"RUST_S2I_TEST_PANIC\").is_some() { panic!(\"asked to panic\"); }\n"), 1)
	if err := os.WriteFile(main, code, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runExit runs img with the docker run options opts and returns what it printed and
// its exit code.
func runExit(t *testing.T, img string, opts ...string) (string, int) {
	t.Helper()
	args := append(append([]string{"run", "--rm"}, opts...), img)
	out, err := exec.Command("docker", args...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("docker run %s: %v\n%s", img, err, out)
	}
	return string(out), 0
}

var scratchOnce struct {
	sync.Once
	err error
}

// scratchImage is an empty base image, as FROM scratch gives: one empty layer, made
// with docker import, since there is no registry to pull one from. Made once, kept.
func scratchImage(t *testing.T) string {
	t.Helper()
	const img = "rust-s2i-test/scratch:latest"
	scratchOnce.Do(func() {
		if in, err := docker.ImageInspect(context.Background(), img); err == nil {
			if len(in.RootFS.Layers) == 1 && in.Size == 0 {
				return
			}
		}
		tarball := filepath.Join(t.TempDir(), "empty.tar")
		if out, err := exec.Command("tar", "-cf", tarball, "-T", "/dev/null").CombinedOutput(); err != nil {
			scratchOnce.err = errors.New("tar: " + err.Error() + "\n" + string(out))
			return
		}
		if out, err := exec.Command("docker", "import", tarball, img).CombinedOutput(); err != nil {
			scratchOnce.err = errors.New("docker import: " + err.Error() + "\n" + string(out))
		}
	})
	if scratchOnce.err != nil {
		t.Fatal(scratchOnce.err)
	}
	return img
}
