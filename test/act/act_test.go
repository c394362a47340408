package act

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// The images this package uses: the builder and runtime base from the Makefile's
// test-images target, shared with test/e2e.
var (
	runtimeImage = testenv.RuntimeImage
	builderImage = testenv.BuilderImage
)

const (
	// actionImage is the action image built offline, as test/e2e builds it.
	actionImage = testenv.ActionImage
	// jobImage stands in for ubuntu-latest: act needs a shell named bash and tail
	// (its job container runs `tail -f /dev/null`). Reused when present.
	jobImage = "rust-s2i-test/act-job:latest"
	// greeting is what examples/hello prints.
	greeting = "Hello, world! (from a static Rust binary built by rust-s2i-musl)"
)

var (
	binPath string // the command, built once
	actPath string // nektos/act: ACT, built by hack/go-tool.sh in a module of its own
	docker  *client.Client
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run() // every test skips itself
	}
	dir, err := os.MkdirTemp("", "rust-s2i-musl-act")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "rust-s2i-musl")
	// act is built in a module of its own (hack/go-tool.sh, which `make test`
	// runs and hands over as ACT): its dependencies are not this module's, whose
	// BuildKit client needs a go-archive that act v0.2.89 does not build with.
	if actPath = os.Getenv("ACT"); actPath == "" {
		fmt.Fprintln(os.Stderr, "ACT is not set: run the tests with `make test`, or set ACT=$(bash hack/go-tool.sh act github.com/nektos/act v0.2.89)")
		return 1
	}
	start := time.Now()
	if err := testenv.GoBuild(binPath, "./cmd/rust-s2i-musl"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("go build ./cmd/rust-s2i-musl: %s\n", time.Since(start).Round(time.Millisecond))
	}
	if docker, err = testenv.Docker(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := buildActionImage(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := buildJobImage(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// buildActionImage builds the action image from the static command, as
// test/e2e's actionImage does (the real Dockerfile needs a registry).
func buildActionImage() error {
	before := imageID(actionImage)
	if err := testenv.BuildActionImage(binPath); err != nil {
		return err
	}
	// The image the tag named before is now dangling, unless something else still
	// names it. Without Force the daemon keeps it when a container or a tag uses it.
	if before != "" && before != imageID(actionImage) {
		if in, err := docker.ImageInspect(context.Background(), before); err == nil && len(in.RepoTags) == 0 {
			_, _ = docker.ImageRemove(context.Background(), before, client.ImageRemoveOptions{PruneChildren: true})
		}
	}
	return nil
}

// buildJobImage builds act's job image unless it exists. busybox has no bash
// applet, so bash is a wrapper around busybox sh, which takes the options act's
// default shell line passes (--noprofile --norc -e -o pipefail).
func buildJobImage() error {
	if _, err := docker.ImageInspect(context.Background(), jobImage); err == nil {
		return nil
	}
	return testenv.DockerBuild(jobImage, "FROM "+runtimeImage+"\n"+
		"COPY bash /bin/bash\n",
		map[string][]byte{"bash": []byte("#!/bin/sh\nexec /bin/sh \"$@\"\n")})
}

func repoRoot() string { return testenv.RepoRoot() }

// rewriteImage replaces the value of `runs.image` in action.yml and nothing else.
// The `image` input has the same key one level down in `inputs`, so the line is
// looked for only among the direct children of `runs:`.
func rewriteImage(actionYML []byte, image string) ([]byte, error) {
	lines := strings.SplitAfter(string(actionYML), "\n")
	inRuns, childIndent, done := false, "", false
	for i, l := range lines {
		text := strings.TrimRight(l, "\r\n")
		content := strings.TrimLeft(text, " ")
		if content == "" || strings.HasPrefix(content, "#") {
			continue
		}
		indent := text[:len(text)-len(content)]
		if indent == "" {
			inRuns = strings.HasPrefix(content, "runs:")
			continue
		}
		if !inRuns || done {
			continue
		}
		if childIndent == "" {
			childIndent = indent
		}
		if indent == childIndent && strings.HasPrefix(content, "image:") {
			lines[i] = indent + "image: " + image + l[len(text):]
			done = true
		}
	}
	if !done {
		return nil, fmt.Errorf("action.yml has no runs.image line")
	}
	return []byte(strings.Join(lines, "")), nil
}

// The workflow: a checkout, the action from the repository root, then a step that
// prints its outputs, each on a line of its own, for the test to read from act's log.
// act does not fetch actions/checkout of the repository itself: it copies the
// working directory into the job's workspace instead, so this runs offline.
const workflow = `name: test
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: build
        uses: ./
        with:
          binary: hello
          source: hello
          builder: %[1]s
          runtime-image: %[2]s
          image: %[3]s
          tmp-image: %[4]s
          cache: gha
      - name: outputs
        run: |
          echo "OUT image=${{ steps.build.outputs.image }}"
          echo "OUT image-id=${{ steps.build.outputs.image-id }}"
          echo "OUT tmp-image=${{ steps.build.outputs.tmp-image }}"
          echo "OUT binary-size=${{ steps.build.outputs.binary-size }}"
          echo "OUT image-size=${{ steps.build.outputs.image-size }}"
          echo "OUT cache-hit=${{ steps.build.outputs.cache-hit }}"
          echo "OUT cache-matched-key=${{ steps.build.outputs.cache-matched-key }}"
`

// makeRepo makes the repository act runs in: action.yml with only its image line
// changed, examples/hello as hello/, the workflow, all committed.
func makeRepo(t *testing.T, final, tmp string) string {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "repo")
	orig, err := os.ReadFile(filepath.Join(repoRoot(), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	changed, err := rewriteImage(orig, "docker://"+actionImage)
	if err != nil {
		t.Fatal(err)
	}
	a, b := strings.Split(string(orig), "\n"), strings.Split(string(changed), "\n")
	if diff := lineDiff(a, b); len(a) != len(b) || len(diff) != 1 {
		t.Fatalf("the rewrite of action.yml must change exactly one line, changed %v", diff)
	}
	copyTree(t, filepath.Join(repoRoot(), "examples", "hello"), filepath.Join(repo, "hello"))
	write(t, filepath.Join(repo, "action.yml"), changed)
	write(t, filepath.Join(repo, ".github", "workflows", "test.yml"),
		[]byte(fmt.Sprintf(workflow, builderImage, runtimeImage, final, tmp)))
	git(t, repo, "init", "-q", "-b", "main")
	git(t, repo, "add", "-A")
	git(t, repo, "commit", "-q", "-m", "test")
	return repo
}

func lineDiff(a, b []string) []string {
	var d []string
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			d = append(d, fmt.Sprintf("%q -> %q", a[i], b[i]))
		}
	}
	return d
}

func write(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := testenv.CopyTree(src, dst); err != nil {
		t.Fatal(err)
	}
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	if _, err := testenv.Git(dir, args...); err != nil {
		t.Fatal(err)
	}
}

// actEnv is this process's environment without what a runner around the test (the
// project's own CI) would pass into act's containers: act takes
// ACTIONS_RUNTIME_TOKEN and ACTIONS_RUNTIME_URL from its own environment when they
// are set. HOME and the XDG directories are the test's, so no .actrc applies.
func actEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "ACTIONS_"), strings.HasPrefix(k, "GITHUB_"),
			strings.HasPrefix(k, "RUNNER_"), strings.HasPrefix(k, "INPUT_"),
			strings.HasPrefix(k, "XDG_"), k == "HOME", k == "CI", k == "ACT":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
}

// actRun is one run of the workflow through act.
type actRun struct {
	err  error
	log  string
	took time.Duration
}

// runAct runs the workflow in repo, with act's cache server storing into cacheDir.
func runAct(t *testing.T, repo, cacheDir string) actRun {
	t.Helper()
	home := t.TempDir()
	args := []string{"push",
		"-W", ".github/workflows/test.yml",
		"-P", "ubuntu-latest=" + jobImage,
		// Without it act tries to pull the docker:// action image.
		"--pull=false",
		"--action-offline-mode",
		"--action-cache-path", filepath.Join(home, "act"),
		"--cache-server-path", cacheDir,
		"--cache-server-addr", "127.0.0.1",
		// ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL are set only with an
		// artifact server.
		"--artifact-server-path", t.TempDir(),
		"--artifact-server-addr", "127.0.0.1",
		"--artifact-server-port", strconv.Itoa(testenv.FreePort(t)), // not act's fixed 34567, which another act on the machine may hold
		"--rm",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, actPath, args...)
	cmd.Dir = repo
	cmd.Env = actEnv(home)
	// On a timeout act is interrupted, so it removes its containers itself.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = time.Minute
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	return actRun{err: err, log: out.String(), took: time.Since(start)}
}

// outputLine is a line of the outputs step in act's log: "[test/build]   | OUT k=v".
var outputLine = regexp.MustCompile(`(?m)\|\s*OUT ([a-z-]+)=(.*?)\r?$`)

// outputs reads the step outputs that the workflow printed.
func outputs(log string) map[string]string {
	out := map[string]string{}
	for _, m := range outputLine.FindAllStringSubmatch(log, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func removeImages(t *testing.T, imgs ...string) {
	t.Helper()
	for _, img := range imgs {
		_, _ = docker.ImageRemove(context.Background(), img, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	}
}

func imageID(img string) string {
	in, err := docker.ImageInspect(context.Background(), img)
	if err != nil {
		return ""
	}
	return in.ID
}

// removeActVolumes removes, when the test ends, act's shared tool cache volume if this
// test created it.
func removeActVolumes(t *testing.T) {
	t.Helper()
	const toolcache = "act-toolcache"
	if exec.Command("docker", "volume", "inspect", toolcache).Run() == nil {
		return
	}
	t.Cleanup(func() { _ = exec.Command("docker", "volume", "rm", toolcache).Run() })
}

// The action, run the way a runner runs it: act runs the workflow, the action's
// container builds examples/hello with the gha cache on act's cache server, and the
// step outputs reach the next step. A second run on a "fresh machine" (no -tmp
// image in the daemon) restores the build state from the cache.
func TestWorkflowThroughAct(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a Docker daemon and act; runs without -short")
	}
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	final, tmp := "rust-s2i-act-hello-"+suffix, "rust-s2i-act-hello-"+suffix+"-tmp"
	t.Cleanup(func() { removeImages(t, final, tmp) })
	removeActVolumes(t)
	repo := makeRepo(t, final, tmp)
	cacheDir := t.TempDir()

	// First run: a cold build that fills the cache.
	r1 := runAct(t, repo, cacheDir)
	t.Logf("first run: %s", r1.took.Round(time.Millisecond))
	if r1.err != nil || !strings.Contains(r1.log, "Job succeeded") {
		t.Fatalf("first run failed: %v\n%s", r1.err, r1.log)
	}
	out1 := outputs(r1.log)
	checkOutputs(t, "first run", out1, final, tmp, r1.log)
	if out1["cache-hit"] != "false" {
		t.Errorf("first run: cache-hit = %q, want false", out1["cache-hit"])
	}
	for _, want := range []string{"cache: no target entry", "cache: saved "} {
		if !strings.Contains(r1.log, want) {
			t.Errorf("first run: the action's log lacks %q", want)
		}
	}
	checkNoCacheWarnings(t, "first run", r1.log)
	// Two entries: the cargo registry and the build state.
	if n := storedEntries(t, cacheDir); n != 2 {
		t.Errorf("first run: act's cache server holds %d entries, want 2", n)
	}
	checkImage(t, "first run", out1)
	if t.Failed() {
		t.Fatalf("first run's log:\n%s", r1.log)
	}

	// A fresh machine: neither image is in the daemon, only the cache has the state.
	removeImages(t, final, tmp)
	for _, img := range []string{final, tmp} {
		if imageID(img) != "" {
			t.Fatalf("%s is still in the daemon", img)
		}
	}

	// Second run: the build state comes from act's cache server.
	r2 := runAct(t, repo, cacheDir)
	t.Logf("second run: %s", r2.took.Round(time.Millisecond))
	if r2.err != nil || !strings.Contains(r2.log, "Job succeeded") {
		t.Fatalf("second run failed: %v\n%s", r2.err, r2.log)
	}
	out2 := outputs(r2.log)
	checkOutputs(t, "second run", out2, final, tmp, r2.log)
	if !strings.Contains(r2.log, "cache: restored target from ") {
		t.Errorf("second run: the action's log lacks %q", "cache: restored target from ")
	}
	if out2["cache-hit"] != "true" {
		t.Errorf("second run: cache-hit = %q, want true", out2["cache-hit"])
	}
	if out2["cache-matched-key"] == "" {
		t.Error("second run: cache-matched-key is empty")
	}
	// An exact hit is not saved again.
	if strings.Contains(r2.log, "cache: saved ") {
		t.Error("second run: an exact cache hit was saved again")
	}
	checkNoCacheWarnings(t, "second run", r2.log)
	checkImage(t, "second run", out2)
	// Same commit, same builder: the same final image.
	if out1["image-id"] != out2["image-id"] {
		t.Errorf("image-id differs between the runs: %s, then %s", out1["image-id"], out2["image-id"])
	}
	if t.Failed() {
		t.Logf("second run's log:\n%s", r2.log)
	}
}

// The rewrite changes the action's image and nothing else; the `image` input, whose
// key is the same, stays as it is.
func TestRewriteImage(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(repoRoot(), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := rewriteImage(orig, "docker://example/x:1")
	if err != nil {
		t.Fatal(err)
	}
	a, b := strings.Split(string(orig), "\n"), strings.Split(string(got), "\n")
	diff := lineDiff(a, b)
	if len(a) != len(b) || len(diff) != 1 {
		t.Fatalf("want one changed line, got %d lines -> %d, changes %v", len(a), len(b), diff)
	}
	// The real action.yml names the prebuilt image (docker://…:vX.Y.Z): the whole value goes.
	if !regexp.MustCompile(`^"  image: docker://ghcr\.io/rust-s2i/rust-s2i-musl:v[0-9]+\.[0-9]+\.[0-9]+" -> "  image: docker://example/x:1"$`).MatchString(diff[0]) {
		t.Errorf("changed %s", diff[0])
	}
	// Any old value, the pinned docker:// one among them, is replaced whole: with
	// quotes, a comment after it, or CRLF line ends, nothing of it stays.
	for _, old := range []string{
		"Dockerfile",
		"docker://ghcr.io/rust-s2i/rust-s2i-musl:v1.2.3",
		"'docker://ghcr.io/rust-s2i/rust-s2i-musl:v1.2.3'",
		`"docker://ghcr.io/rust-s2i/rust-s2i-musl:v1.2.3"`,
		"docker://ghcr.io/rust-s2i/rust-s2i-musl:v1.2.3 # pinned by the release",
		"docker://ghcr.io/rust-s2i/rust-s2i-musl:v1.2.3@sha256:" + strings.Repeat("0", 64),
	} {
		yml := "inputs:\n  image:\n    default: ''\nruns:\n  using: docker\n  args:\n    - image: no\n  image: " + old + "\r\n"
		got, err = rewriteImage([]byte(yml), "docker://rust-s2i-test/action:latest")
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Replace(yml, "  image: "+old+"\r\n", "  image: docker://rust-s2i-test/action:latest\r\n", 1)
		if string(got) != want {
			t.Errorf("old value %s:\n got  %q\n want %q", old, got, want)
		}
	}
	if _, err := rewriteImage([]byte("inputs:\n  image:\n    default: x\nruns:\n  using: node20\n"), "x"); err == nil {
		t.Error("no error for an action.yml without runs.image")
	}
}

// checkOutputs checks the outputs every successful run has.
func checkOutputs(t *testing.T, run string, out map[string]string, final, tmp, log string) {
	t.Helper()
	if len(out) == 0 {
		t.Fatalf("%s: the outputs step printed nothing:\n%s", run, log)
	}
	if img := out["image"]; img != final && !strings.HasPrefix(img, final+":") {
		t.Errorf("%s: image = %q, want %s", run, img, final)
	}
	if id := out["image-id"]; !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(id) {
		t.Errorf("%s: image-id = %q, want sha256:<64 hex>", run, id)
	}
	if img := out["tmp-image"]; img != tmp && !strings.HasPrefix(img, tmp+":") {
		t.Errorf("%s: tmp-image = %q, want %s", run, img, tmp)
	}
	for _, k := range []string{"binary-size", "image-size"} {
		if n, err := strconv.ParseInt(out[k], 10, 64); err != nil || n <= 0 {
			t.Errorf("%s: %s = %q, want a positive number", run, k, out[k])
		}
	}
}

// storedEntries counts the entries act's cache server (v0.2.89) holds under dir:
// one file each under cache/, beside its bolt.db and its cache/tmp uploads.
func storedEntries(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	root := filepath.Join(dir, "cache")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && p == filepath.Join(root, "tmp"):
			return filepath.SkipDir
		case d.Type().IsRegular():
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkNoCacheWarnings fails on the warnings a broken cache costs: the build goes on
// without it, so only the log tells.
func checkNoCacheWarnings(t *testing.T, run, log string) {
	t.Helper()
	for _, bad := range []string{"unavailable, building without it", "not restored", "not saved", "not usable"} {
		if strings.Contains(log, bad) {
			t.Errorf("%s: the action warned %q", run, bad)
		}
	}
}

// checkImage checks that the final image is in the daemon under the reported ID
// and runs.
func checkImage(t *testing.T, run string, out map[string]string) {
	t.Helper()
	img := out["image"]
	if img == "" {
		return
	}
	if id := imageID(img); id == "" || id != out["image-id"] {
		t.Errorf("%s: the daemon has %s as %q, the output says %q", run, img, id, out["image-id"])
	}
	got, err := exec.Command("docker", "run", "--rm", img).CombinedOutput()
	if err != nil || !strings.Contains(string(got), greeting) {
		t.Errorf("%s: docker run %s: %v, printed %q", run, img, err, got)
	}
}
