package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/test/seaweedfs"
)

// ciVars are the variables of a CI's environment the build reads to know its
// repository and its ref. A test that sets some blanks the rest, so that the CI the
// tests themselves run in (a pull request's, say) decides nothing.
var ciVars = []string{
	"GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_REF", "GITHUB_HEAD_REF", "GITHUB_BASE_REF", "GITHUB_EVENT_PATH",
	"CI_REPO_URL", "CI_REPO", "CI_COMMIT_REF", "CI_COMMIT_PULL_REQUEST", "CI_COMMIT_TARGET_BRANCH",
	"CI_COMMIT_TAG", "CI_COMMIT_BRANCH", "CI_REPO_DEFAULT_BRANCH",
	"DRONE_REPO_LINK", "DRONE_REPO", "DRONE_PULL_REQUEST", "DRONE_TARGET_BRANCH", "DRONE_COMMIT_REF",
	"DRONE_TAG", "DRONE_BRANCH", "DRONE_REPO_BRANCH",
}

// ciEnv is the environment of a Woodpecker build of the repository at repoURL,
// with vars (KEY=VALUE, such as the ref's) and every other CI variable blank. The
// source's identity is then repoURL, whatever the source directory.
func ciEnv(repoURL string, vars ...string) []string {
	var env []string
	for _, k := range ciVars {
		env = append(env, k+"=")
	}
	return append(append(env, "CI_REPO_URL="+repoURL), vars...)
}

// Woodpecker's variables of a pull request n into main, and of a push to main.
func prVars(n string) []string {
	return []string{"CI_COMMIT_PULL_REQUEST=" + n, "CI_COMMIT_REF=refs/pull/" + n + "/head",
		"CI_COMMIT_TARGET_BRANCH=main", "CI_REPO_DEFAULT_BRANCH=main"}
}

var mainVars = []string{"CI_COMMIT_REF=refs/heads/main", "CI_COMMIT_BRANCH=main", "CI_REPO_DEFAULT_BRANCH=main"}

var savedLine = regexp.MustCompile(`(?m)^cache: saved (\S+) \(`)

// savedKey is the key the build whose log is given saved its entry ("registry" or
// "target") under; the test fails when it saved none.
func savedKey(t *testing.T, log, entry string) string {
	t.Helper()
	for _, m := range savedLine.FindAllStringSubmatch(log, -1) {
		if strings.Contains(m[1], "-"+entry+"-") {
			return m[1]
		}
	}
	t.Fatalf("the build saved no %s entry:\n%s", entry, log)
	return ""
}

// Two repositories with a binary of the same name share one cache directory, as
// the README's Woodpecker example has it: B's build after A's restores nothing of
// A's (it compiles the git dependency A's state holds), and A's next build on a
// fresh machine still restores its own.
func TestCacheScopedBySourceLocal(t *testing.T) {
	needDocker(t)
	t.Parallel()
	cacheDir := t.TempDir()
	twoRepositories(t, "--cache", "local", "--cache-dir", cacheDir)
}

// The same with one bucket of an S3 store, as the README's fleet example has it.
func TestCacheScopedBySourceS3(t *testing.T) {
	needDocker(t)
	t.Parallel()
	srv := weed.Get(t)
	bucket := weed.Bucket(t)
	if err := s3Admin(t, srv.Endpoint).MakeBucket(context.Background(), bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	twoRepositories(t, "--cache", "s3", "--cache-bucket", bucket, "--cache-endpoint", srv.Endpoint, "--cache-path-style")
}

// twoRepositories builds repository A, then B, then A again on a fresh machine,
// all with the cache flags given (and the s3 store's credentials, as a CI agent
// passes them).
func twoRepositories(t *testing.T, cacheFlags ...string) {
	t.Helper()
	const urlA, urlB = "https://example.com/team-a/service", "https://example.com/team-b/service"
	s3Env := []string{"AWS_ACCESS_KEY_ID=" + seaweedfs.AccessKey, "AWS_SECRET_ACCESS_KEY=" + seaweedfs.SecretKey}
	final, tmp := names(t)
	a, b := withGitDep(t), withGitDep(t)
	build := func(src, url, who string) result {
		t.Helper()
		env := append(ciEnv(url, mainVars...), s3Env...)
		env = append(env, "RUNNER_TEMP="+t.TempDir())
		r := runCmd(t, env, buildArgs(src, "gitdep", final+"-"+who, tmp+"-"+who, cacheFlags...)...)
		if r.code != 0 {
			t.Fatalf("%s's build failed:\n%s", who, r)
		}
		t.Logf("%s:\n%s", who, cacheLines(r.stderr))
		return r
	}
	t.Cleanup(func() { removeAll(t, final+"-a", tmp+"-a", final+"-b", tmp+"-b") })

	r := build(a, urlA, "a")
	if !strings.Contains(r.stderr, "Compiling greet") {
		t.Fatalf("A's first build did not compile the dependency:\n%s", r.stderr)
	}
	savedA := savedKey(t, r.stderr, "target")
	if !strings.HasPrefix(savedA, cache.Scope(urlA, "")+"-") {
		t.Errorf("A saved %s, not under its scope %s", savedA, cache.Scope(urlA, ""))
	}

	r = build(b, urlB, "b")
	if strings.Contains(r.stderr, "cache: restored") || !strings.Contains(r.stdout, "cache-hit=false") {
		t.Errorf("B restored an entry: only A's were there\n%s", r)
	}
	if !strings.Contains(r.stderr, "Compiling greet") {
		t.Errorf("B did not compile the git dependency: it got A's state\n%s", r.stderr)
	}
	if savedB := savedKey(t, r.stderr, "target"); !strings.HasPrefix(savedB, cache.Scope(urlB, "")+"-") {
		t.Errorf("B saved %s, not under its scope %s", savedB, cache.Scope(urlB, ""))
	}

	// A on a fresh machine: no -tmp image, only the cache.
	removeAll(t, tmp+"-a")
	r = build(a, urlA, "a")
	if strings.Contains(r.stderr, "Compiling greet") || !strings.Contains(r.stdout, "cache-hit=true") {
		t.Errorf("A's second build did not restore its own state:\n%s", r)
	}
	if !strings.Contains(r.stdout, "cache-matched-key="+savedA+"\n") {
		t.Errorf("A's second build should restore %s exactly:\n%s", savedA, r.stdout)
	}
}

// Pull requests and the default branch share one cache directory and one -tmp
// image name: a pull request's build saves under its own ref, and neither builds
// on its -tmp image nor restores its entries on main; a pull request then
// restores main's state.
func TestCacheScopedByRef(t *testing.T) {
	needDocker(t)
	t.Parallel()
	const url = "https://example.com/team/service"
	src := withGitDep(t)
	final, tmp := names(t)
	cacheDir := t.TempDir()
	build := func(who string, vars []string) result {
		t.Helper()
		r := runCmd(t, append(ciEnv(url, vars...), "RUNNER_TEMP="+t.TempDir()),
			buildArgs(src, "gitdep", final, tmp, "--cache", "local", "--cache-dir", cacheDir)...)
		if r.code != 0 {
			t.Fatalf("%s's build failed:\n%s", who, r)
		}
		t.Logf("%s:\n%s", who, cacheLines(r.stderr))
		return r
	}

	r := build("pull request 12", prVars("12"))
	if saved := savedKey(t, r.stderr, "target"); !strings.HasPrefix(saved, cache.Scope(url, "refs/pull/12")+"-") {
		t.Errorf("the pull request saved %s, not under its ref's scope %s", saved, cache.Scope(url, "refs/pull/12"))
	}
	if got := imageLabel(t, tmp, "io.rust-s2i.ref"); got != "refs/pull/12" {
		t.Errorf("the pull request's -tmp image has ref label %q", got)
	}

	// main, with the pull request's -tmp image still in the daemon under its name.
	r = build("main", mainVars)
	if !strings.Contains(r.stderr, "was built from "+url+" (refs/pull/12), not from "+url) || strings.Contains(r.stderr, "building on top of") {
		t.Errorf("main did not refuse the pull request's -tmp image:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "cache: restored") || !strings.Contains(r.stderr, "Compiling greet") {
		t.Errorf("main restored the pull request's state:\n%s", r.stderr)
	}
	mainKey := savedKey(t, r.stderr, "target")
	if !strings.HasPrefix(mainKey, cache.Scope(url, "")+"-") {
		t.Errorf("main saved %s, not under the default branch's scope %s", mainKey, cache.Scope(url, ""))
	}
	if got := imageLabel(t, tmp, "io.rust-s2i.ref"); got != "" {
		t.Errorf("main's -tmp image has ref label %q, want none", got)
	}

	// Another pull request restores main's state.
	r = build("pull request 13", prVars("13"))
	if strings.Contains(r.stderr, "Compiling greet") || !strings.Contains(r.stdout, "cache-matched-key="+mainKey+"\n") {
		t.Errorf("pull request 13 did not restore main's %s:\n%s", mainKey, r)
	}
}

// imageLabel is the label key of img, "" when it has none.
func imageLabel(t *testing.T, img, key string) string {
	t.Helper()
	in, err := docker.ImageInspect(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if in.Config == nil {
		return ""
	}
	return in.Config.Labels[key]
}
