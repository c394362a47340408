package pipeline

import (
	"encoding/base64"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
	builderimage "github.com/rust-s2i/rust-s2i-musl/s2i"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// userScriptEnv are the variables the scripts read that a user may set with env,
// and that nothing else sets: each has a default in the scripts.
var userScriptEnv = []string{"RUST_S2I_LINKER"}

// Every variable the S2I scripts read is set: by the builder's Dockerfile (ENV), by
// the build's request (an annotated build's, which sets the most), or by the
// script itself; or it is one a user may set (userScriptEnv).
func TestScriptVariablesAreSet(t *testing.T) {
	t.Parallel()
	dockerfile, err := fs.ReadFile(builderimage.Files, "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	inEnv := false
	name := regexp.MustCompile(`(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=`)
	for _, line := range strings.Split(string(dockerfile), "\n") {
		trimmed := strings.TrimSpace(line)
		if inEnv = inEnv || strings.HasPrefix(trimmed, "ENV "); inEnv {
			for _, m := range name.FindAllStringSubmatch(strings.TrimPrefix(trimmed, "ENV "), -1) {
				set[m[1]] = true
			}
			inEnv = strings.HasSuffix(trimmed, `\`)
		}
	}
	cfg := config.Defaults()
	cfg.Binary, cfg.Source = "hello", filepath.Join(testenv.RepoRoot(), "examples", "hello")
	pl := testPlan(t, cfg)
	pl.Annotate = true
	// A multi-platform build's request sets the most: its targets besides.
	multi := State{Target: "x86_64-unknown-linux-musl", Targets: []string{"x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"}}
	for _, kv := range (&buildStage{}).request(pl, multi, false).Env {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}

	use := regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
	assign := regexp.MustCompile(`(?:^|[\s;{(])([A-Za-z_][A-Za-z0-9_]*)=|read -r ([A-Za-z_][A-Za-z0-9_]*)|for ([A-Za-z_][A-Za-z0-9_]*) in`)
	scripts, err := fs.ReadDir(builderimage.Files, "bin")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scripts {
		raw, err := fs.ReadFile(builderimage.Files, "bin/"+s.Name())
		if err != nil {
			t.Fatal(err)
		}
		var code []string
		for _, line := range strings.Split(string(raw), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") {
				code = append(code, line)
			}
		}
		own := map[string]bool{}
		for _, m := range assign.FindAllStringSubmatch(strings.Join(code, "\n"), -1) {
			own[m[1]+m[2]+m[3]] = true
		}
		for _, m := range use.FindAllStringSubmatch(strings.Join(code, "\n"), -1) {
			v := m[1]
			if !set[v] && !own[v] && !slices.Contains(userScriptEnv, v) {
				t.Errorf("s2i/bin/%s reads $%s, which neither s2i/Dockerfile, the build's request nor the script sets", s.Name(), v)
			}
		}
	}
}

// fakeCargo stands in for cargo in TestAssembleBuildsEveryTarget: it records its
// arguments, one line per run; a build writes a binary for each --target into the
// release directory, saying which target it is for; metadata prints its
// arguments as the "JSON" (or fails: FAKE_METADATA_FAILS=always, or =offline
// for a run with --offline, as when the dev-dependencies were never fetched), and
// locate-project names the source's Cargo.toml.
const fakeCargo = `#!/bin/sh
echo "$*" >> "$FAKE_CARGO_LOG"
case $1 in
  metadata)
    case "$FAKE_METADATA_FAILS:$*" in
      always:* | offline:*--offline*) echo "error: no matching package" >&2; exit 101 ;;
    esac
    echo "$*"; exit 0 ;;
  locate-project) echo "$PWD/Cargo.toml"; exit 0 ;;
esac
bin= prev=
for a in "$@"; do
  case $prev in
    --bin) bin=$a ;;
    --target) mkdir -p "$CARGO_TARGET_DIR/$a/release"; printf 'binary for %s' "$a" > "$CARGO_TARGET_DIR/$a/release/$bin" ;;
  esac
  prev=$a
done
`

// fakeRustc stands in for rustc -vV.
const fakeRustc = "#!/bin/sh\nprintf 'rustc 1.85.0 (4d91de4e4 2025-02-17)\\nhost: x86_64-unknown-linux-gnu\\n'\n"

// assemble with RUST_S2I_TARGETS runs one cargo build with a --target for each,
// and hands over each target's binary as TRIPLE/BINARY beside the primary one's
// BINARY, which the collector's names (tmpimage.CollectedFiles) all find, the
// hard link of the primary's second name included. Without it, cargo builds
// RUST_TARGET alone and the hand-over is the single-platform one. Beside the
// binaries go the crate list's inputs: cargo metadata per target with the build's
// feature flags and --locked, Cargo.lock and rustc -vV; a cargo metadata that
// fails leaves its file out and the build goes on.
func TestAssembleBuildsEveryTarget(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"sh", "tar", "base64", "date"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("runs s2i/bin/assemble, which needs %s", tool)
		}
	}
	targets := []string{"aarch64-unknown-linux-musl", "x86_64-unknown-linux-musl"}
	tests := []struct {
		name  string
		multi bool
		fails string // FAKE_METADATA_FAILS
	}{
		{"multi-platform", true, ""},
		{"single-platform", false, ""},
		{"dev-dependencies not fetched", false, "offline"},
		{"metadata fails", false, "always"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			log, stdout, stderr := runAssemble(t, t.TempDir(), tc.multi, tc.fails, targets)
			var names []string
			if tc.multi {
				names = targets
			}
			checkCargoRuns(t, log, targets[:max(1, len(names))], tc.fails != "")
			files := handedOver(t, stdout, tmpimage.CollectedFiles("app", names...))
			want := wantHandedOver(targets[0], names, tc.fails != "always", tc.fails == "")
			for name, content := range want {
				if string(files[name]) != content {
					t.Errorf("handed over %s = %q, want %q", name, files[name], content)
				}
			}
			if len(files) != len(want)+len(tmpimage.TimingFiles) {
				t.Errorf("handed over %d files, want %d", len(files), len(want)+len(tmpimage.TimingFiles))
			}
			if tc.fails == "always" && !strings.Contains(stderr, "cargo metadata for "+targets[0]+" failed") {
				t.Errorf("a failed cargo metadata is not said:\n%s", stderr)
			}
		})
	}
}

// checkCargoRuns checks cargo's log: one build with a --target for each of
// targets, then a metadata run for each with the build's flags, offline, and
// when that fails (retried) once more online.
func checkCargoRuns(t *testing.T, log string, targets []string, retried bool) {
	t.Helper()
	var builds, metadata []string
	for _, run := range strings.Split(strings.TrimSpace(log), "\n") {
		switch {
		case strings.HasPrefix(run, "build "):
			builds = append(builds, run)
		case strings.HasPrefix(run, "metadata "):
			metadata = append(metadata, run)
		}
	}
	wantBuild := "--target " + strings.Join(targets, " --target ")
	if len(builds) != 1 || !strings.HasSuffix(builds[0], wantBuild) {
		t.Errorf("cargo built %q, want once, ending %q", builds, wantBuild)
	}
	var want []string
	for _, tg := range targets {
		want = append(want, metadataArgs(tg, true))
		if retried {
			want = append(want, metadataArgs(tg, false))
		}
	}
	if !slices.Equal(metadata, want) {
		t.Errorf("cargo ran\n %q\nwant\n %q", metadata, want)
	}
}

// metadataArgs are the arguments of assemble's cargo metadata for target.
func metadataArgs(target string, offline bool) string {
	mode := ""
	if offline {
		mode = " --offline"
	}
	return "metadata --format-version 1" + mode + " --filter-platform " + target + " --locked --features loud,tls --no-default-features"
}

// wantHandedOver are the files assemble hands over, by name, with their content:
// with metadata, the offline run's output, else the online one's.
func wantHandedOver(primary string, targets []string, metadata, offline bool) map[string]string {
	want := map[string]string{"app": "binary for " + primary,
		tmpimage.LockFile:  "# lock\n",
		tmpimage.RustcFile: "rustc 1.85.0 (4d91de4e4 2025-02-17)\nhost: x86_64-unknown-linux-gnu\n",
	}
	meta := func(tg string) string { return metadataArgs(tg, offline) + "\n" }
	if metadata && len(targets) == 0 {
		want[tmpimage.MetadataFile] = meta(primary)
	}
	for _, tg := range targets {
		want[tmpimage.TargetBinary(tg, "app")] = "binary for " + tg
		if metadata {
			want[tmpimage.TargetFile(tg, tmpimage.MetadataFile)] = meta(tg)
		}
	}
	return want
}

// runAssemble runs s2i/bin/assemble in dir with the fake cargo, and returns
// cargo's log and assemble's stdout.
func runAssemble(t *testing.T, dir string, multi bool, metadataFails string, targets []string) (cargoLog, stdout, stderr string) {
	t.Helper()
	script, err := fs.ReadFile(builderimage.Files, "bin/assemble")
	if err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string]string{
		"assemble": string(script), "fake/cargo": fakeCargo, "fake/rustc": fakeRustc,
		"dest/src/Cargo.toml": "[package]\n", "dest/src/Cargo.lock": "# lock\n", "dest/.token": "TOKEN123",
	} {
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "home"), 0o755); err != nil { // the builder's HOME
		t.Fatal(err)
	}
	cmd := exec.Command("sh", filepath.Join(dir, "assemble"))
	cmd.Env = []string{
		"PATH=" + filepath.Join(dir, "fake") + ":" + os.Getenv("PATH"), "FAKE_CARGO_LOG=" + filepath.Join(dir, "cargo.log"),
		"BINARY=app", "RUST_TARGET=" + targets[0], "HOME=" + filepath.Join(dir, "home"), "RUST_S2I_LINKER=default",
		"CARGO_TARGET_DIR=" + filepath.Join(dir, "home", "target"), "RUST_S2I_STATE_DIRS=" + strings.Join(tmpimage.StateDirs, " "),
		"RUST_S2I_DESTINATION=" + filepath.Join(dir, "dest"), "RUST_S2I_SOURCE_DIR=" + filepath.Join(dir, "home", "src"),
		"RUST_S2I_BIN_DIR=" + filepath.Join(dir, "home", "bin"), "RUST_S2I_SECRETS_FILE=" + filepath.Join(dir, "no-secrets"),
		"RUST_S2I_COLLECT_TOKEN=" + filepath.Join(dir, "dest", ".token"),
		"RUST_S2I_CARGO_MS_FILE=" + tmpimage.CargoTimeFile, "RUST_S2I_TIMES_FILE=" + tmpimage.TimesFile,
		"RUST_S2I_METADATA_FILE=" + tmpimage.MetadataFile, "RUST_S2I_LOCK_FILE=" + tmpimage.LockFile,
		"RUST_S2I_RUSTC_FILE=" + tmpimage.RustcFile,
		"RUST_S2I_FEATURES=loud,tls", "RUST_S2I_NO_DEFAULT_FEATURES=true",
	}
	cmd.Env = append(cmd.Env, "FAKE_METADATA_FAILS="+metadataFails)
	if multi {
		cmd.Env = append(cmd.Env, "RUST_S2I_TARGETS="+strings.Join(targets, " "))
	}
	var errs strings.Builder
	cmd.Stderr = &errs
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("assemble: %v\n%s%s", err, out, errs.String())
	}
	logged, err := os.ReadFile(filepath.Join(dir, "cargo.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(logged), string(out), errs.String()
}

// handedOver decodes the files between assemble's token lines, as the collector
// reads them.
func handedOver(t *testing.T, stdout string, names []string) map[string][]byte {
	t.Helper()
	_, rest, ok := strings.Cut(stdout, "TOKEN123 begin\n")
	payload, _, ok2 := strings.Cut(rest, "TOKEN123 end\n")
	if !ok || !ok2 {
		t.Fatalf("no hand-over between the token lines in:\n%s", stdout)
	}
	files, err := archive.ReadFiles(base64.NewDecoder(base64.StdEncoding, strings.NewReader(payload)), "", names, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return files
}
