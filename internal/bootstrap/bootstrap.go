// Package bootstrap turns saved build state, such as a cargo home filled by
// `cargo fetch`, into a previous-build (-tmp) image, so that the next S2I build is
// incremental from it and needs no network for what it holds. It replaces the
// original design's bootstrap-image.sh, and the cache restores through it too.
package bootstrap

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
)

// AppRoot is the build user's home in the builder image; save-artifacts reads
// cargo/registry, cargo/git and target below it.
const AppRoot = "/opt/app-root"

// LabelBuilder names the builder image ID a -tmp image was made with: a build may
// run on top of that image only with the same builder.
const LabelBuilder = "io.rust-s2i.builder"

// BuildUser owns the build state, as the builder image's USER.
var BuildUser = archive.Owner{UID: 1001, GID: 0}

// Engine is the part of the Docker client that making the image needs.
type Engine interface {
	ContainerCreate(ctx context.Context, options client.ContainerCreateOptions) (client.ContainerCreateResult, error)
	CopyToContainer(ctx context.Context, containerID string, options client.CopyToContainerOptions) (client.CopyToContainerResult, error)
	ContainerCommit(ctx context.Context, containerID string, options client.ContainerCommitOptions) (client.ContainerCommitResult, error)
	ContainerRemove(ctx context.Context, containerID string, options client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
	ImageInspect(ctx context.Context, image string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImageRemove(ctx context.Context, image string, options client.ImageRemoveOptions) (client.ImageRemoveResult, error)
}

// Image commits builder plus states (tars with paths relative to AppRoot) as tag,
// and returns the new image ID. Nothing is committed unless every state copied
// whole. A tag it replaces is removed, so nothing dangles.
func Image(ctx context.Context, e Engine, builder, tag string, states ...io.Reader) (id string, err error) {
	old, _ := e.ImageInspect(ctx, tag)
	c, err := e.ContainerCreate(ctx, client.ContainerCreateOptions{
		Image: builder,
	})
	if err != nil {
		return "", fmt.Errorf("creating container from %s: %w", builder, err)
	}
	defer func() {
		if _, rmErr := e.ContainerRemove(context.WithoutCancel(ctx), c.ID, client.ContainerRemoveOptions{Force: true}); err == nil && rmErr != nil {
			err = fmt.Errorf("removing container: %w", rmErr)
		}
	}()
	for _, state := range states {
		if _, err := e.CopyToContainer(ctx, c.ID, client.CopyToContainerOptions{DestinationPath: AppRoot, Content: state}); err != nil {
			return "", fmt.Errorf("copying build state into %s: %w", builder, err)
		}
	}
	b, err := e.ImageInspect(ctx, builder)
	if err != nil {
		return "", fmt.Errorf("inspecting builder %s: %w", builder, err)
	}
	res, err := e.ContainerCommit(ctx, c.ID, client.ContainerCommitOptions{
		Reference: tag,
		Comment:   "rust-s2i-musl bootstrap",
		Changes:   []string{"LABEL " + LabelBuilder + "=" + b.ID},
	})
	if err != nil {
		return "", fmt.Errorf("committing %s: %w", tag, err)
	}
	if old.ID != "" && old.ID != res.ID {
		// Best effort: a container may still use it, and then it stays.
		_, _ = e.ImageRemove(ctx, old.ID, client.ImageRemoveOptions{PruneChildren: true})
	}
	return res.ID, nil
}

// CargoHome writes a cargo home's registry and git directories as a state tar, the
// way save-artifacts lays them out. It fails when the directory holds neither.
func CargoHome(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	found := 0
	for _, sub := range []string{"registry", "git"} {
		p := filepath.Join(dir, sub)
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			continue
		}
		found++
		if err := archive.AddDir(tw, "cargo/"+sub, p, BuildUser); err != nil {
			return fmt.Errorf("archiving %s: %w", p, err)
		}
	}
	if found == 0 {
		return fmt.Errorf("%s holds no registry/ or git/: fill it with CARGO_HOME=%s cargo fetch", dir, dir)
	}
	return tw.Close()
}
