package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
)

// S2I's default exclude pattern, (^|/)\.git(/|$), would break git dependencies: it
// strips the .git of the repository inside the source tree (and of cargo's checkouts
// in the save-artifacts stream), so cargo cannot load the dependency. The same build
// with the pattern the pipeline uses, "", succeeds.
func TestDefaultExcludeBreaksGitDependencies(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := withGitDep(t)
	_, tmp := names(t)
	req := s2i.Request{
		Source:   src,
		Copy:     true,
		Builder:  builderImage,
		Tag:      tmp,
		Env:      []string{"BINARY=gitdep", "RUST_TARGET=" + builderTarget(t, builderImage)},
		Endpoint: docker.DaemonHost(),
		Exclude:  s2i.DefaultExclude,
	}
	_, err := s2i.Build(context.Background(), docker, req)
	var failed *s2i.FailedError
	if !errors.As(err, &failed) {
		t.Fatalf("build with S2I's default exclude: got %v, want a failed assemble", err)
	}
	if imageID(t, tmp) != "" {
		t.Error("the failed build left an image")
	}

	req.Exclude = ""
	if _, err := s2i.Build(context.Background(), docker, req); err != nil {
		t.Fatalf("the same build excluding nothing failed: %v", err)
	}
	if !strings.HasPrefix(imageID(t, tmp), "sha256:") {
		t.Error("no -tmp image after the build excluding nothing")
	}
}
