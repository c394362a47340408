package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// bootstrap turns a cargo home filled by `cargo fetch` into the previous-build image,
// and the build after it compiles with the build container's network off: the git
// dependency is reachable only through that cargo home.
func TestBootstrapThenOfflineBuild(t *testing.T) {
	needDocker(t)
	t.Parallel()
	dep := copyTree(t, crate("greet"))
	initRepo(t, dep)
	src := copyTree(t, crate("fetched"))
	home := filepath.Join(t.TempDir(), "cargo-home")

	// CARGO_HOME=… cargo fetch, with the builder's cargo, where the dependency is.
	dockerRun(t, "--network", "none", "-v", dep+":/deps/greet", "-v", src+":/src", "-v", home+":/cargo",
		"-e", "CARGO_HOME=/cargo", "-w", "/src", rustImage, "cargo", "fetch")

	final, tmp := names(t)
	r := runCmd(t, nil, "bootstrap", "--cargo-home", home, "--binary", "fetched", "--builder", builderImage, "--tmp-image", tmp)
	if r.code != 0 {
		t.Fatalf("bootstrap failed:\n%s", r)
	}
	if strings.TrimSpace(r.stdout) != tmp || imageID(t, tmp) == "" {
		t.Fatalf("bootstrap did not make %s:\n%s", tmp, r)
	}

	r = mustBuild(t, src, "fetched", final, tmp, "--network", "none")
	if !strings.Contains(r.stderr, "building on top of "+tmp) {
		t.Errorf("the build did not start from the bootstrapped image:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "Updating git repository") {
		t.Errorf("the build fetched instead of using the bootstrapped cargo home:\n%s", r.stderr)
	}
	if got := runImage(t, final); !strings.Contains(got, "greetings, fetched") {
		t.Errorf("image printed %q", got)
	}
}

// bootstrap reports every bad input at once.
func TestBootstrapBadInput(t *testing.T) {
	needDocker(t)
	t.Parallel()
	r := runCmd(t, nil, "bootstrap", "--cargo-home", "/does/not/exist", "--builder", "Not A Ref")
	if r.code != 2 {
		t.Fatalf("want exit 2\n%s", r)
	}
	for _, want := range []string{"--cargo-home", "--binary", "--builder"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error lacks %s:\n%s", want, r.stderr)
		}
	}
}
