package e2e

// C libraries from the builder (docs/builder.md#c-libraries): the test builder,
// made from s2i/Dockerfile's defaults, brings OpenSSL, libpq, zlib and SQLite built
// static for both musl targets, and names them in its io.rust-s2i.clibs label.
// Crates that link them through their -sys crates build for linux/amd64 and
// linux/arm64 with no setting, into static binaries that run (arm64 through binfmt
// QEMU) and report the very versions the label names; a crate whose library the
// builder does not bring fails with its own error and a hint.

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
	"github.com/rust-s2i/rust-s2i-musl/test/testpki"
)

// builderCLibs is what the test builder's io.rust-s2i.clibs label says it brings.
func builderCLibs(t *testing.T) clibs.Set {
	t.Helper()
	in, err := docker.ImageInspect(context.Background(), builderImage)
	if err != nil {
		t.Fatal(err)
	}
	return tmpimage.BuilderCLibs(in)
}

// version is the builder's version of lib; the test fails when the label names none.
func version(t *testing.T, libs clibs.Set, lib string) string {
	t.Helper()
	v := libs[lib]
	if v == "" {
		t.Fatalf("the builder's %s label (%q) names no %s: the default builder brings it", clibs.Label, libs, lib)
	}
	return v
}

// pqLibVersion is PQlibVersion()'s number for a libpq release: major * 10000 +
// minor since PostgreSQL 10 (15.14 is 150014).
func pqLibVersion(t *testing.T, release string) string {
	t.Helper()
	m := regexp.MustCompile(`^([0-9]+)\.([0-9]+)$`).FindStringSubmatch(release)
	if m == nil {
		t.Fatalf("libpq %q is not a PostgreSQL 10 or later release, MAJOR.MINOR", release)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return strconv.Itoa(major*10000 + minor)
}

// printed is the first group of re in what a binary printed; the test fails
// without a match.
func printed(t *testing.T, out, re string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)` + re).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the binary printed no line matching %s:\n%s", re, out)
	}
	return m[1]
}

// clibsCase is a test crate that links C libraries from the builder.
type clibsCase struct {
	crate string
	// actions builds it as the action, whose job summary is checked too.
	actions bool
	// linked are the c-libraries output's lines the builder's libs give.
	linked func(t *testing.T, libs clibs.Set) []string
	// check checks what the binary printed, run with no argument, on platform;
	// ref names its image there.
	check func(t *testing.T, out string, libs clibs.Set, platform, ref string)
}

// Each crate, built for both platforms with the default test builder and nothing
// else, is a static ELF of each platform's machine, which runs there and prints
// the versions of the builder's label; the c-libraries output names what it
// links, and so does its SBOM. tlsconnect makes a TLS connection with the
// builder's OpenSSL on both platforms; zsqlite is built as the action, and its
// job summary lists zlib and SQLite with the label's versions.
func TestCLibsPlatforms(t *testing.T) {
	needDocker(t)
	t.Parallel()
	tests := []clibsCase{
		{crate: "tlsconnect",
			linked: func(t *testing.T, libs clibs.Set) []string {
				return []string{"openssl " + version(t, libs, clibs.OpenSSL) + " openssl-sys"}
			},
			check: func(t *testing.T, out string, libs clibs.Set, platform, ref string) {
				if got, want := printed(t, out, `^openssl: OpenSSL (\S+) `), version(t, libs, clibs.OpenSSL); got != want {
					t.Errorf("the %s binary links OpenSSL %s, the builder brings %s", platform, got, want)
				}
				checkTLS(t, platform, ref)
			}},
		{crate: "pqversion",
			linked: func(t *testing.T, libs clibs.Set) []string {
				// libpq is built with the builder's OpenSSL, which comes along.
				return []string{"openssl " + version(t, libs, clibs.OpenSSL) + " pq-sys", "libpq " + version(t, libs, clibs.LibPQ) + " pq-sys"}
			},
			check: func(t *testing.T, out string, libs clibs.Set, platform, _ string) {
				if got, want := printed(t, out, `^libpq: ([0-9]+)$`), pqLibVersion(t, version(t, libs, clibs.LibPQ)); got != want {
					t.Errorf("the %s binary's PQlibVersion() is %s, the builder brings libpq %s (%s)", platform, got, libs[clibs.LibPQ], want)
				}
			}},
		{crate: "zsqlite", actions: true,
			linked: func(t *testing.T, libs clibs.Set) []string {
				return []string{"zlib " + version(t, libs, clibs.Zlib) + " libz-sys", "sqlite " + version(t, libs, clibs.SQLite) + " libsqlite3-sys"}
			},
			check: func(t *testing.T, out string, libs clibs.Set, platform, _ string) {
				for lib, re := range map[string]string{clibs.Zlib: `^zlib: (\S+)$`, clibs.SQLite: `^sqlite: (\S+)$`} {
					if got, want := printed(t, out, re), version(t, libs, lib); got != want {
						t.Errorf("the %s binary links %s %s, the builder brings %s", platform, lib, got, want)
					}
				}
				// Used, not only linked: the round trip and the table's row came back.
				printed(t, out, `^(zlib roundtrip): 368 bytes compressed to [0-9]+$`)
				printed(t, out, `^sqlite row: (rust-s2i-musl links zlib and SQLite statically)$`)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.crate, func(t *testing.T) {
			t.Parallel()
			libs := builderCLibs(t)
			linked := tc.linked(t, libs)
			ref := pushedName(t, tc.crate, "clibs")
			r, summary := buildCLibsCrate(t, tc, ref)
			if r.code != 0 {
				t.Fatalf("two-platform build and push of %s failed:\n%s", tc.crate, r)
			}
			if got, want := output(r, "c-libraries"), strings.Join(linked, ","); got != want {
				t.Errorf("c-libraries output %q, want %q", got, want)
			}
			checkSBOMCLibs(t, output(r, "sbom"), linked)
			if tc.actions {
				checkSummaryCLibs(t, summary, linked)
			}
			_, images := pushedIndex(t, ref, tc.crate)
			repo := strings.TrimSuffix(ref, ":clibs")
			for i, img := range images {
				want := wantPlatforms[i]
				checkStaticFor(t, img.binary, want.machine)
				imgRef := repo + "@" + img.digest.String()
				out := runPlatform(t, want.platform, imgRef)
				t.Logf("%s on %s printed:\n%s", tc.crate, want.platform, out)
				tc.check(t, out, libs, want.platform, imgRef)
			}
		})
	}
}

// buildCLibsCrate builds tc's crate for both platforms on the two-platform base
// and pushes it to ref, from flags or, with tc.actions, as the action; it returns
// the run and the job summary ("" from flags). The SBOM goes to the test's
// temporary directory.
func buildCLibsCrate(t *testing.T, tc clibsCase, ref string) (result, string) {
	t.Helper()
	_, tmp := names(t)
	runnerTemp := []string{"RUNNER_TEMP=" + t.TempDir()}
	if !tc.actions {
		return runCmd(t, runnerTemp, platformArgs(t, copyTree(t, crate(tc.crate)), tc.crate, ref, tmp, "--push")...), ""
	}
	ws, src := inWorkspace(t, tc.crate, "svc")
	env, _, summaryFile := actionsEnv(t, ws, map[string]string{
		"binary": tc.crate, "source": src, "builder": builderFor(src), "runtime-image": testenv.MultiArchBase(t),
		"image": ref, "tmp-image": tmp, "cache": "none", "platforms": bothPlatforms, "push": "true",
	})
	r := runCmd(t, append(env, runnerTemp...), "build")
	summary, err := os.ReadFile(summaryFile)
	if err != nil {
		t.Fatal(err)
	}
	return r, string(summary)
}

// checkSBOMCLibs checks that the SPDX file at path lists each library of linked
// (c-libraries output lines: NAME VERSION CRATE...) with its generic purl.
func checkSBOMCLibs(t *testing.T, path string, linked []string) {
	t.Helper()
	_, purls := sbomCrates(t, path)
	for _, line := range linked {
		f := strings.Fields(line)
		if got, want := purls[f[0]+"@"+f[1]], "pkg:generic/"+f[0]+"@"+f[1]; got != want {
			t.Errorf("the SBOM gives %s %s the purl %q, want %q", f[0], f[1], got, want)
		}
	}
}

// checkSummaryCLibs checks the job summary's row of the C libraries: each of
// linked with its version and crates, in order.
func checkSummaryCLibs(t *testing.T, summary string, linked []string) {
	t.Helper()
	var libs []string
	for _, line := range linked {
		f := strings.Fields(line)
		libs = append(libs, fmt.Sprintf("%s %s (%s)", f[0], f[1], strings.Join(f[2:], ", ")))
	}
	if want := "| C libraries from the builder | " + strings.Join(libs, ", ") + " |\n"; !strings.Contains(summary, want) {
		t.Errorf("the job summary lacks %q:\n%s", want, summary)
	}
}

// checkTLS runs tlsconnect's image ref on platform against a TLS server on
// loopback (the container on the host network): trusting the server's CA it
// prints the server's answer to its line; trusting another CA it refuses the
// server, exits non-zero and prints no answer, so the handshake was verified.
func checkTLS(t *testing.T, platform, ref string) {
	t.Helper()
	addr, caPEM, answer := tlsServer(t)
	other, err := testpki.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, pem := range map[string][]byte{"ca.pem": caPEM, "other.pem": other.PEM} {
		// World-readable: the image runs as a user of its own.
		if err := os.WriteFile(filepath.Join(dir, name), pem, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(ca string) (string, error) {
		return dockerRunPlatform(t, platform, ref, []string{"--network", "host", "-v", filepath.Join(dir, ca) + ":/ca.pem:ro"}, addr, "/ca.pem")
	}
	out, err := run("ca.pem")
	if err != nil {
		t.Fatalf("tlsconnect on %s against %s: %v\n%s", platform, addr, err, out)
	}
	if want := "tls: " + answer("hello from tlsconnect"); !strings.Contains(out, want+"\n") {
		t.Errorf("tlsconnect on %s printed %q, want the server's answer %q", platform, out, want)
	}
	out, err = run("other.pem")
	if err == nil || strings.Contains(out, "tls: ") {
		t.Errorf("tlsconnect on %s trusting another CA: %v, printed %q; want a refused handshake", platform, err, out)
	}
}

// tlsServer serves TLS on loopback with a certificate for 127.0.0.1 from a CA of
// its own, until the test ends: each connection's first line gets one line back,
// which only this server can give (a random token and the line). It returns the
// address, the CA's PEM and the answer to a line.
func tlsServer(t *testing.T) (addr string, caPEM []byte, answer func(line string) string) {
	t.Helper()
	ca, err := testpki.NewCA("rust-s2i-musl e2e CA")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.Server("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pair.TLS()
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	token := make([]byte, 8)
	rand.Read(token)
	answer = func(line string) string { return hex.EncodeToString(token) + " got " + strconv.Quote(line) }
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return // closed when the test ends
			}
			go answerLine(c, answer)
		}
	}()
	return l.Addr().String(), ca.PEM, answer
}

// answerLine reads one line from c and writes answer's line back. A client under
// QEMU is slow, but not a minute slow.
func answerLine(c net.Conn, answer func(string) string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return // a client that refused the certificate says nothing
	}
	fmt.Fprintln(c, answer(strings.TrimSuffix(line, "\n")))
}

// A crate whose -sys crate's library the builder does not bring (libdbus-sys)
// fails the build (exit 1) with its build script's own message, and after the
// error one hint line names the crate and what the builder brings, by its label:
// the four libraries of the default builder, or none for a builder whose label
// names none.
func TestCLibsMissingLibrary(t *testing.T) {
	needDocker(t)
	t.Parallel()
	tests := []struct {
		name    string
		builder func(t *testing.T) string
		brings  func(t *testing.T) string
	}{
		{"the default builder", func(*testing.T) string { return testenv.CratesBuilderImage },
			func(t *testing.T) string { return "brings static musl C libraries: " + builderCLibs(t).Describe() }},
		{"a builder that brings none", func(t *testing.T) string {
			return relabelled(t, testenv.CratesBuilderImage, "no-clibs", clibs.Label+"=")
		},
			func(*testing.T) string {
				return "brings no static musl C libraries (its " + clibs.Label + " label names none)"
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := tc.builder(t)
			final, tmp := names(t)
			args := platformArgs(t, copyTree(t, crate("missinglib")), "missinglib", final, tmp)
			args[slices.Index(args, "--builder")+1] = b
			r := runCmd(t, nil, args...)
			if r.code != 1 {
				t.Fatalf("a build with a library the builder does not bring: want exit 1\n%s", r)
			}
			for _, want := range []string{"failed to run custom build command for `libdbus-sys v0.2.2`", "pkg_config failed:", "'libdbus-1-dev' and 'pkg-config'"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("the build's output lacks libdbus-sys's own %q:\n%s", want, r.stderr)
				}
			}
			hint := "hint: libdbus-sys's build script failed; builder " + b + " " + tc.brings(t) + " (" + clibs.DocsAnchor + "). " +
				"A library it does not bring needs a custom builder (rust-s2i-musl builder --base ...) or the crate's vendored/bundled feature."
			lines := strings.Split(r.stderr, "\n")
			at := slices.Index(lines, hint)
			if at < 1 || !strings.HasPrefix(lines[at-1], "error: assemble failed") || strings.Count(r.stderr, "hint: ") != 1 {
				t.Errorf("want one line\n%s\nright after the error:\n%s", hint, r.stderr)
			}
		})
	}
}
