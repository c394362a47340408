package tmpimage

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
)

// Engine is the part of the Docker client that writing a -tmp image needs.
type Engine interface {
	engine.Containers
	CopyToContainer(ctx context.Context, containerID string, options client.CopyToContainerOptions) (client.CopyToContainerResult, error)
	ContainerCommit(ctx context.Context, containerID string, options client.ContainerCommitOptions) (client.ContainerCommitResult, error)
	ImageInspect(ctx context.Context, image string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImageRemove(ctx context.Context, image string, options client.ImageRemoveOptions) (client.ImageRemoveResult, error)
}

// FromCargoHome writes tag from builder and a cargo home filled by `cargo fetch`:
// its registry/ and git/ become the image's cargo/. It fails when the directory
// holds neither.
func FromCargoHome(ctx context.Context, e Engine, builder, tag, cargoHome string, labels map[string]string) (id string, err error) {
	var subs []string
	for _, sub := range []string{"registry", "git"} {
		if st, err := os.Stat(filepath.Join(cargoHome, sub)); err == nil && st.IsDir() {
			subs = append(subs, sub)
		}
	}
	if len(subs) == 0 {
		return "", fmt.Errorf("%s holds no registry/ or git/: fill it with CARGO_HOME=%s cargo fetch", cargoHome, cargoHome)
	}
	return write(ctx, e, builder, tag, labels, func(tw *tar.Writer) error {
		for _, sub := range subs {
			if err := archive.AddDir(tw, "cargo/"+sub, filepath.Join(cargoHome, sub), BuildUser); err != nil {
				return fmt.Errorf("archiving %s: %w", filepath.Join(cargoHome, sub), err)
			}
		}
		return nil
	})
}

// FromEntries writes tag from builder and cache entries extracted into dirs, each
// laid out as Export wrote it (names relative to AppRoot).
func FromEntries(ctx context.Context, e Engine, builder, tag string, labels map[string]string, dirs ...string) (string, error) {
	return write(ctx, e, builder, tag, labels, func(tw *tar.Writer) error {
		for _, d := range dirs {
			if err := archive.AddDir(tw, "", d, BuildUser); err != nil {
				return err
			}
		}
		return nil
	})
}

// StateEngine is the part of the Docker client that FromImage needs: it reads one
// image's state and writes another.
type StateEngine interface {
	Engine
	Exporter
}

// FromImage writes tag from builder and the StateDirs of the image prev (an
// earlier -tmp image, by ID, since tag may name it), with labels, and returns the
// new image ID. It is how a build starts over from a new builder with the old
// state, in place of S2I's save-artifacts, which untars a container's output on
// the host with lexical checks only: here the state streams from a container of
// prev into one of builder through an archive.Copier, so it never touches the
// host's disk, and an entry that would land outside the state's root (a symlink
// an earlier build planted, then a file through it) fails the whole copy, and
// nothing is committed.
func FromImage(ctx context.Context, e StateEngine, prev, builder, tag string, labels map[string]string) (string, error) {
	return write(ctx, e, builder, tag, labels, func(tw *tar.Writer) error {
		return engine.WithContainer(ctx, e, client.ContainerCreateOptions{Image: prev}, func(c string) error {
			return copyState(ctx, e, c, archive.NewCopier(tw, BuildUser))
		})
	})
}

// write commits builder plus the state that fill writes (names relative to
// AppRoot, owned by the build user) as tag, with labels, and returns the new image
// ID. The state streams into the container: nothing is staged whole in memory or on
// disk.
func write(ctx context.Context, e Engine, builder, tag string, labels map[string]string, fill func(*tar.Writer) error) (string, error) {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := fill(tw)
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	id, err := commit(ctx, e, builder, tag, labels, pr)
	pr.CloseWithError(err) // unblocks fill when the daemon stopped reading
	return id, err
}

// commit makes tag from builder plus the state tar. Nothing is committed unless the
// state copied whole. A tag it replaces is removed, so nothing dangles.
func commit(ctx context.Context, e Engine, builder, tag string, labels map[string]string, state io.Reader) (id string, err error) {
	b, err := e.ImageInspect(ctx, builder)
	if err != nil {
		return "", fmt.Errorf("inspecting builder %s: %w", builder, err)
	}
	old, _ := e.ImageInspect(ctx, tag)
	err = engine.WithContainer(ctx, e, client.ContainerCreateOptions{Image: builder}, func(c string) error {
		if _, err := e.CopyToContainer(ctx, c, client.CopyToContainerOptions{DestinationPath: AppRoot, Content: state}); err != nil {
			return fmt.Errorf("copying build state into %s: %w", builder, err)
		}
		res, err := e.ContainerCommit(ctx, c, client.ContainerCommitOptions{
			Reference: tag,
			Comment:   "rust-s2i-musl: build state",
			Changes:   labelChanges(labels, b.ID),
		})
		if err != nil {
			return fmt.Errorf("committing %s: %w", tag, err)
		}
		id = res.ID
		return nil
	})
	if err != nil {
		return "", err
	}
	if old.ID != "" && old.ID != id {
		// Best effort: a container may still use it, and then it stays.
		_, _ = e.ImageRemove(ctx, old.ID, client.ImageRemoveOptions{PruneChildren: true})
	}
	return id, nil
}

// labelChanges are the commit's LABEL instructions: labels and LabelBuilder, quoted
// as a Dockerfile reads them (a local source's path may hold spaces).
func labelChanges(labels map[string]string, builderID string) []string {
	changes := []string{"LABEL " + LabelBuilder + "=" + strconv.Quote(builderID)}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		changes = append(changes, "LABEL "+k+"="+strconv.Quote(labels[k]))
	}
	return changes
}
