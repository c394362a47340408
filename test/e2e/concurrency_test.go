package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/client"
)

// Two builds of the same binary at once both exit cleanly and leave one consistent
// -tmp image, one final image and one cache state; no dangling image piles up.
func TestSameBinaryAtOnce(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("hello"))
	final, tmp := names(t)
	cacheDir := t.TempDir()
	flags := []string{"--cache", "local", "--cache-dir", cacheDir}
	mustBuild(t, src, "hello", final, tmp, flags...) // a -tmp image to stack on
	if err := os.WriteFile(filepath.Join(src, "src", "main.rs"), []byte("fn main() {\n    println!(\"both at once\");\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runCmd(t, nil, buildArgs(src, "hello", final, tmp, flags...)...)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("build %d failed:\n%s", i, r)
		}
	}
	if got := runImage(t, final); !strings.Contains(got, "both at once") {
		t.Errorf("image printed %q", got)
	}
	// The -tmp image is whole: the next build stacks on it and finds its state.
	r := mustBuild(t, src, "hello", final, tmp, "--clean")
	if !strings.Contains(runImage(t, final), "both at once") {
		t.Errorf("rebuild after the race printed something else:\n%s", r.stderr)
	}
	ctx := context.Background()
	dangling, err := docker.ImageList(ctx, client.ImageListOptions{All: true, Filters: make(client.Filters).Add("dangling", "true").Add("label", "io.k8s.display-name="+tmp)})
	if err != nil {
		t.Fatal(err)
	}
	if len(dangling.Items) != 0 {
		t.Errorf("%d dangling -tmp images left by the race", len(dangling.Items))
	}
	entries, _ := filepath.Glob(filepath.Join(cacheDir, "k-*"))
	if len(entries) != 2 {
		t.Errorf("want the two cache entries, got %v", entries)
	}
}
