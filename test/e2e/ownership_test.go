package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// A -tmp image belongs to the source it was built from. Repository B, with a binary
// of the same name and the same -tmp image name (as two repositories on one shared
// daemon had before), never builds on repository A's: it builds cold, says so, and
// replaces it, so A's git checkouts do not reach B's image or cache.
func TestTmpImageBelongsToOneSource(t *testing.T) {
	needDocker(t)
	t.Parallel()
	final, tmp := names(t)
	a := withGitDep(t)
	git(t, a, "init", "-q", "-b", "main")
	git(t, a, "remote", "add", "origin", "https://example.com/team-a/service.git")
	mustBuild(t, a, "gitdep", final, tmp)
	first := imageID(t, tmp)
	if !hasGitCheckout(t, tmp) {
		t.Fatal("repository A's -tmp image holds no cargo git checkout: the test shows nothing")
	}

	// B: another repository whose binary is also called gitdep.
	b := withGitDep(t)
	git(t, b, "init", "-q", "-b", "main")
	git(t, b, "remote", "add", "origin", "https://x-access-token:SECRET-TOKEN@example.com/team-b/service.git")
	r := mustBuild(t, b, "gitdep", final, tmp)
	if !strings.Contains(r.stderr, "was built from https://example.com/team-a/service.git, not from https://example.com/team-b/service.git") {
		t.Errorf("no line says the -tmp image belongs to another source:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "building on top of") || !strings.Contains(r.stderr, "Compiling greet") {
		t.Errorf("B's build used A's state:\n%s", r.stderr)
	}
	if imageID(t, first) != "" {
		t.Error("A's -tmp image is still in the daemon after B replaced it")
	}
	in, err := docker.ImageInspect(t.Context(), tmp)
	if err != nil {
		t.Fatal(err)
	}
	if got := in.Config.Labels["io.rust-s2i.source"]; got != "https://example.com/team-b/service.git" {
		t.Errorf("the -tmp image's source label is %q", got)
	}
	for k, v := range in.Config.Labels {
		if strings.Contains(v, "SECRET-TOKEN") {
			t.Errorf("label %s carries the remote's token: %q", k, v)
		}
	}
	// The next build of B runs on top of its own image again.
	appendLine(t, b+"/src/main.rs", "// a change")
	if r := mustBuild(t, b, "gitdep", final, tmp); !strings.Contains(r.stderr, "building on top of") {
		t.Errorf("B's next build did not use its own -tmp image:\n%s", r.stderr)
	}
}

// hasGitCheckout reports whether the -tmp image holds a cargo git checkout.
func hasGitCheckout(t *testing.T, img string) bool {
	t.Helper()
	out, err := exec.Command("docker", "run", "--rm", "--entrypoint", "ls", img, "/opt/app-root/cargo/git/checkouts").CombinedOutput()
	return err == nil && strings.TrimSpace(string(out)) != ""
}
