package builderimage

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// assembleRun is assemble run with sh on the host, in a fake builder: the paths of
// the builder's ENV below a temporary directory, a cargo that writes a binary, and
// stubs put first on PATH.
type assembleRun struct {
	root, bin      string
	stdout, stderr string
	err            error
}

// runAssemble runs assemble with stubs (name: sh script) on PATH, env added to its
// environment and, when token is set, the collect token beside the source. A stub
// named cargo replaces the one that writes a binary.
func runAssemble(t *testing.T, stubs map[string]string, token string, env ...string) assembleRun {
	t.Helper()
	root := t.TempDir()
	dirs := map[string]string{"home": "home", "dest": "dest", "stubs": "stubs", "secrets": "secrets", "src": "dest/src"}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	home, dest := filepath.Join(root, "home"), filepath.Join(root, "dest")
	// The crate list's inputs are not these tests' business: cargo metadata and
	// rustc fail, which leaves them out of the hand-over (TestAssembleBuildsEveryTarget
	// in internal/pipeline hands them over).
	if _, ok := stubs["rustc"]; !ok {
		stubs["rustc"] = "exit 1"
	}
	if _, ok := stubs["cargo"]; !ok {
		stubs["cargo"] = `for a; do [ "$prev" = --target ] && t=$a; [ "$prev" = --bin ] && b=$a; prev=$a; done
mkdir -p "$CARGO_TARGET_DIR/$t/release" && echo "a binary" > "$CARGO_TARGET_DIR/$t/release/$b"`
	}
	stubs["cargo"] = "case $1 in metadata | locate-project) exit 1 ;; esac\n" + stubs["cargo"]
	for name, body := range stubs {
		if err := os.WriteFile(filepath.Join(root, "stubs", name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if token != "" {
		if err := os.WriteFile(filepath.Join(dest, ".rust-s2i-collect"), []byte(token+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script, err := Files.ReadFile("bin/assemble")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", string(script))
	cmd.Env = []string{
		"PATH=" + filepath.Join(root, "stubs") + ":" + os.Getenv("PATH"),
		"HOME=" + home, "CARGO_HOME=" + home + "/cargo", "CARGO_TARGET_DIR=" + home + "/target",
		"RUST_S2I_SOURCE_DIR=" + home + "/src", "RUST_S2I_BIN_DIR=" + home + "/bin",
		"RUST_S2I_STATE_DIRS=cargo/registry cargo/git target", "RUST_S2I_DESTINATION=" + dest,
		"RUST_S2I_COLLECT_TOKEN=" + dest + "/.rust-s2i-collect", "RUST_S2I_SECRETS_FILE=" + root + "/secrets/env",
		"RUST_S2I_CARGO_MS_FILE=.cargo-ms", "RUST_S2I_TIMES_FILE=.times",
		"RUST_S2I_METADATA_FILE=.cargo-metadata.json", "RUST_S2I_LOCK_FILE=.Cargo.lock", "RUST_S2I_RUSTC_FILE=.rustc-vV",
		"RUST_TARGET=x86_64-unknown-linux-musl", "BINARY=hello",
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	return assembleRun{root: root, bin: home + "/bin", stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// checkTimes checks the times file: three times in nanoseconds since the epoch, in
// order, and close to now.
func checkTimes(t *testing.T, r assembleRun, began time.Time) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(r.bin, ".times"))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(raw))
	if len(fields) != 3 {
		t.Fatalf("times file %q: want three times", raw)
	}
	var last int64
	for _, f := range fields {
		ns, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			t.Fatalf("times file %q: %v", raw, err)
		}
		if at := time.Unix(0, ns); at.Before(began.Add(-2*time.Second)) || at.After(time.Now().Add(time.Second)) || ns < last {
			t.Errorf("times file %q: %s is not a time of this run, in order", raw, at)
		}
		last = ns
	}
	if ms, err := os.ReadFile(filepath.Join(r.bin, ".cargo-ms")); err != nil {
		t.Error(err)
	} else if _, err := strconv.Atoi(strings.TrimSpace(string(ms))); err != nil {
		t.Errorf("cargo-ms file %q is not a number of milliseconds", ms)
	}
}

// assemble on a builder whose date has no %N (busybox's, on Alpine) still builds,
// and still reports its times in nanoseconds since the epoch.
func TestAssembleWithoutDateNanoseconds(t *testing.T) {
	t.Parallel()
	date, err := exec.LookPath("date")
	if err != nil {
		t.Skip("no date on this host")
	}
	began := time.Now()
	r := runAssemble(t, map[string]string{
		"date": `case "$*" in *%N*) echo "date: invalid format '$*'" >&2; exit 1;; esac; exec ` + date + ` "$@"`,
	}, "")
	if r.err != nil {
		t.Fatalf("assemble with a date without %%N: %v\n%s", r.err, r.stderr)
	}
	checkTimes(t, r, began)
}

// With GNU date, the times are date's own.
func TestAssembleTimes(t *testing.T) {
	t.Parallel()
	began := time.Now()
	r := runAssemble(t, map[string]string{}, "")
	if r.err != nil {
		t.Fatalf("assemble: %v\n%s", r.err, r.stderr)
	}
	checkTimes(t, r, began)
}

// The binary and the timings go out on stdout between the token's lines, as a
// base64 tar.
func TestAssembleHandsOverFiles(t *testing.T) {
	t.Parallel()
	r := runAssemble(t, map[string]string{}, "tok-0123")
	if r.err != nil {
		t.Fatalf("assemble: %v\n%s", r.err, r.stderr)
	}
	_, rest, ok := strings.Cut(r.stdout, "tok-0123 begin\n")
	body, _, ok2 := strings.Cut(rest, "tok-0123 end\n")
	if !ok || !ok2 {
		t.Fatalf("stdout lacks the token's lines:\n%s", r.stdout)
	}
	tr := tar.NewReader(base64.NewDecoder(base64.StdEncoding, strings.NewReader(body)))
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the handed-over tar: %v", err)
		}
		names = append(names, h.Name)
	}
	if strings.Join(names, " ") != "hello .cargo-ms .times" {
		t.Errorf("handed over %q, want hello, .cargo-ms and .times", names)
	}
}

// A tar or base64 that fails while the files are handed over fails the build,
// with a message that says so, and still closes the handed-over part.
func TestAssembleHandOverFailureFailsBuild(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"tar", "base64"} {
		t.Run(tool, func(t *testing.T) {
			t.Parallel()
			r := runAssemble(t, map[string]string{tool: `cat >/dev/null; echo "` + tool + `: broken" >&2; exit 2`}, "tok-0123")
			if r.err == nil {
				t.Fatalf("assemble with a failing %s succeeded:\n%s", tool, r.stdout)
			}
			if want := "handing hello over to rust-s2i-musl failed: " + tool + " exited with an error"; !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
			if !strings.Contains(r.stdout, "tok-0123 end\n") {
				t.Errorf("stdout lacks the closing token line:\n%s", r.stdout)
			}
		})
	}
}

// A compile error becomes one ::error workflow command whose file, message and
// properties are escaped as the Actions toolkit escapes them: a message with a
// newline-like %0A, or a file name with a comma or colon, must not end the command
// early or inject another property.
func TestAssembleAnnotationsEscaped(t *testing.T) {
	t.Parallel()
	r := runAssemble(t, map[string]string{
		"cargo": `case "$*" in *--message-format=short*)
  echo 'src/a,b:c.rs:3:7: error: 100% wrong, file=evil::x'
  echo 'warning: not an error';;
esac
exit 101`,
	}, "", "RUST_S2I_ANNOTATE=github", "RUST_S2I_SOURCE_PREFIX=sub/")
	if r.err == nil {
		t.Fatal("assemble succeeded with a failing cargo")
	}
	var got []string
	for _, line := range strings.Split(r.stdout+r.stderr, "\n") {
		if strings.HasPrefix(line, "::error") {
			got = append(got, line)
		}
	}
	want := "::error file=sub/src/a%2Cb%3Ac.rs,line=3,col=7::error: 100%25 wrong, file=evil::x"
	if len(got) != 1 || got[0] != want {
		t.Errorf("annotations %q, want exactly %q", got, want)
	}
}

// Secrets are loaded in the subshell that runs cargo: one named like a variable of
// assemble's own (app, target, bin, profile_dir) reaches cargo and changes nothing
// of what assemble does, and the binary is still handed over from where cargo wrote it.
func TestAssembleSecretsCannotClobber(t *testing.T) {
	t.Parallel()
	evil := t.TempDir()
	secrets := filepath.Join(t.TempDir(), "env")
	lines := "app='" + evil + "'\ntarget='aarch64-evil'\nbin='" + evil + "'\nprofile_dir='evil'\n"
	if err := os.WriteFile(secrets, []byte(lines), 0o400); err != nil {
		t.Fatal(err)
	}
	// The later RUST_S2I_SECRETS_FILE wins: exec keeps the last of a duplicate key.
	r := runAssemble(t, map[string]string{
		"cargo": `[ "$app" = "` + evil + `" ] || { echo "the secret did not reach cargo" >&2; exit 3; }
for a; do [ "$prev" = --target ] && t=$a; [ "$prev" = --bin ] && b=$a; prev=$a; done
mkdir -p "$CARGO_TARGET_DIR/$t/release" && echo "a binary" > "$CARGO_TARGET_DIR/$t/release/$b"`,
	}, "", "RUST_S2I_SECRETS_FILE="+secrets)
	if r.err != nil {
		t.Fatalf("assemble with secrets named like its variables: %v\n%s", r.err, r.stderr)
	}
	if data, err := os.ReadFile(filepath.Join(r.bin, "hello")); err != nil || string(data) != "a binary\n" {
		t.Errorf("the binary was not handed over to %s: %q, %v", r.bin, data, err)
	}
	if entries, _ := os.ReadDir(evil); len(entries) != 0 {
		t.Errorf("assemble wrote into the directory a secret named: %v", entries)
	}
}

// What cargo and rustc record in target/ of the variables a build reads (rustc's
// dep-info env-dep lines, cargo's copy of them in the fingerprints, and the value a
// build script's rerun-if-env-changed fingerprint keeps) is scrubbed of the
// secrets before the build's state is kept, whether cargo succeeded or failed;
// what names no secret stays, and so does the build script's output, which is the
// crate's own doing.
func TestAssembleScrubsSecrets(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-value"
	// A cargo that leaves what a build of a crate reading MY_SECRET leaves.
	cargo := `t=$CARGO_TARGET_DIR/x86_64-unknown-linux-musl/release
mkdir -p "$t/deps" "$t/.fingerprint/app-0123" "$t/.fingerprint/app-4567" "$t/build/app-4567"
printf '%s\n' "$t/deps/app-0123: src/main.rs" "" "# env-dep:MY_SECRET=$MY_SECRET" "# env-dep:PLAIN=visible" "# env-dep:MY_SECRET_NOT=other" > "$t/deps/app-0123.d"
printf 'src/main.rs\0MY_SECRET\0%s\0' "$MY_SECRET" > "$t/.fingerprint/app-0123/dep-bin-app"
echo 0123456789abcdef > "$t/.fingerprint/app-0123/bin-app"
printf '{"local":[{"RerunIfEnvChanged":{"var":"MY_SECRET","val":"%s"}}]}' "$MY_SECRET" > "$t/.fingerprint/app-4567/run-build-script-build-script-build.json"
echo fedcba9876543210 > "$t/.fingerprint/app-4567/run-build-script-build-script-build"
echo cargo:rerun-if-env-changed=MY_SECRET > "$t/build/app-4567/output"
mkdir -p "$t" && echo "a binary" > "$t/hello"
`
	for _, tc := range []struct {
		name string
		exit string
	}{{"cargo succeeds", "exit 0"}, {"cargo fails", "exit 101"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			secrets := filepath.Join(dir, "env")
			if err := os.WriteFile(secrets, []byte("MY_SECRET='"+secret+"'\n"), 0o400); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(secrets+".names", []byte("MY_SECRET\n"), 0o400); err != nil {
				t.Fatal(err)
			}
			r := runAssemble(t, map[string]string{"cargo": cargo + tc.exit}, "", "RUST_S2I_SECRETS_FILE="+secrets)
			if (r.err == nil) != (tc.exit == "exit 0") {
				t.Fatalf("assemble: %v\n%s", r.err, r.stderr)
			}
			target := filepath.Join(r.root, "home", "target", "x86_64-unknown-linux-musl", "release")
			var kept []string
			err := filepath.WalkDir(target, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				if strings.Contains(string(data), secret) {
					t.Errorf("%s still holds the secret: %q", p, data)
				}
				rel, _ := filepath.Rel(target, p)
				kept = append(kept, rel)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{".fingerprint/app-0123/bin-app", ".fingerprint/app-4567/run-build-script-build-script-build",
				"build/app-4567/output", "deps/app-0123.d", "hello"}
			if strings.Join(kept, " ") != strings.Join(want, " ") {
				t.Errorf("target/ holds %q, want %q", kept, want)
			}
			d, _ := os.ReadFile(filepath.Join(target, "deps", "app-0123.d"))
			if !strings.Contains(string(d), "# env-dep:PLAIN=visible\n# env-dep:MY_SECRET_NOT=other\n") || strings.Contains(string(d), "env-dep:MY_SECRET=") {
				t.Errorf("dep-info after the scrub:\n%s", d)
			}
		})
	}
}

// With the build's token, assemble marks its annotations with it (rust-s2i-musl
// takes them out of the log and writes them when the runner takes commands again),
// and the token's file is gone before cargo runs: a build script can neither read
// the token nor mark lines of its own.
func TestAssembleAnnotationsMarked(t *testing.T) {
	t.Parallel()
	const token = "rust-s2i-collect-0123456789abcdef"
	r := runAssemble(t, map[string]string{
		"cargo": `if [ -e "$RUST_S2I_COLLECT_TOKEN" ]; then echo "cargo can read the token" >&2; exit 3; fi
case "$*" in *--message-format=short*) echo 'src/main.rs:2:5: error: mismatched types';; esac
echo '::error file=fake.rs,line=1,col=1::a build script'
exit 101`,
	}, token, "RUST_S2I_ANNOTATE=github", "RUST_S2I_SOURCE_PREFIX=svc/")
	if r.err == nil || strings.Contains(r.stderr, "cargo can read the token") {
		t.Fatalf("assemble: %v\n%s", r.err, r.stderr)
	}
	want := token + " annotate ::error file=svc/src/main.rs,line=2,col=5::error: mismatched types"
	var marked []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, token) {
			marked = append(marked, line)
		}
	}
	if len(marked) != 1 || marked[0] != want {
		t.Errorf("marked lines %q, want exactly %q", marked, want)
	}
}
