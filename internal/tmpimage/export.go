package tmpimage

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
)

// Exporter is the part of the Docker client that reading state out of an image needs.
type Exporter interface {
	engine.Containers
	CopyFromContainer(ctx context.Context, containerID string, options client.CopyFromContainerOptions) (client.CopyFromContainerResult, error)
}

// Export writes entry's state from image to w as a tar whose names are relative to
// AppRoot, the layout FromEntries takes back. It leaves out what is not worth
// keeping: own lists the workspace's package and binary names, whose artifacts the
// next build recompiles from its source anyway, so they are left out of target/.
func Export(ctx context.Context, e Exporter, image, entry string, own []string, w io.Writer) error {
	dir, ok := entryDirs[entry]
	if !ok {
		return fmt.Errorf("unknown cache entry %q", entry)
	}
	keep := func(string) bool { return true }
	if entry == cache.EntryTarget {
		keep = notOwn(own)
	}
	return engine.WithContainer(ctx, e, client.ContainerCreateOptions{Image: image}, func(c string) error {
		res, err := e.CopyFromContainer(ctx, c, client.CopyFromContainerOptions{SourcePath: path.Join(AppRoot, dir)})
		if err != nil {
			return fmt.Errorf("reading %s from %s: %w", dir, image, err)
		}
		defer res.Content.Close()
		if err := filter(res.Content, w, keep); err != nil {
			return fmt.Errorf("reading %s from %s: %w", dir, image, err)
		}
		return nil
	})
}

// copyState passes the StateDirs of container c on to cp, names relative to
// AppRoot. A state directory the container lacks (no git dependencies: no
// cargo/git) is skipped.
func copyState(ctx context.Context, e Exporter, c string, cp *archive.Copier) error {
	for _, dir := range StateDirs {
		res, err := e.CopyFromContainer(ctx, c, client.CopyFromContainerOptions{SourcePath: path.Join(AppRoot, dir)})
		if cerrdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s of the previous image: %w", dir, err)
		}
		err = cp.Copy(res.Content, dir)
		res.Content.Close()
		if err != nil {
			return fmt.Errorf("%s of the previous image: %w", dir, err)
		}
	}
	return nil
}

// notOwn keeps a target/ path unless it is an artifact of one of the own names:
// deps/, .fingerprint/ and build/ entries named NAME-HASH (or libNAME-HASH.ext), the
// uplifted NAME and NAME.d in a profile directory, and incremental/ state.
func notOwn(own []string) func(string) bool {
	if len(own) == 0 {
		return func(string) bool { return true }
	}
	quoted := make([]string, len(own))
	for i, n := range own {
		quoted[i] = regexp.QuoteMeta(n)
	}
	names := "(" + strings.Join(quoted, "|") + ")"
	hashed := regexp.MustCompile(`^(lib)?` + names + `-[0-9a-f]{16}(\..*)?$`)
	uplifted := regexp.MustCompile(`^` + names + `(\.d)?$`)
	return func(name string) bool {
		parts := strings.Split(strings.Trim(name, "/"), "/")
		for i, p := range parts {
			if p == "incremental" {
				return false
			}
			if i == 0 {
				continue
			}
			parent := parts[i-1]
			switch {
			case (parent == "deps" || parent == ".fingerprint" || parent == "build") && hashed.MatchString(p):
				return false
			case (parent == "release" || parent == "debug") && i == len(parts)-1 && uplifted.MatchString(p):
				return false
			}
		}
		return true
	}
}

// filter copies the tar stream r to w, leaving out entries keep refuses and hard
// links to them.
func filter(r io.Reader, w io.Writer, keep func(string) bool) error {
	tw := tar.NewWriter(w)
	dropped := map[string]bool{}
	err := archive.EachEntry(r, func(hdr *tar.Header, content io.Reader) error {
		if !keep(hdr.Name) || (hdr.Typeflag == tar.TypeLink && dropped[hdr.Linkname]) {
			dropped[hdr.Name] = true
			return nil
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := io.Copy(tw, content)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
