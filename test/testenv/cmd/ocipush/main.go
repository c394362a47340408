// Command ocipush pushes an image to a registry over plain http: the tests' way to put
// an image into the registry of a BuildKit test world (testenv.BuildKit.PushImage),
// which only a process inside the world's network namespace reaches.
//
//	ocipush SOURCE REFERENCE
//
// SOURCE is a `docker save` tarball of one image, or an OCI image layout directory:
// a layout whose index holds one image or one index pushes that, one with more pushes
// the layout's index itself. REFERENCE is host:port/repository[:tag].
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: ocipush SOURCE REFERENCE (SOURCE: a docker save tarball or an OCI layout directory)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := push(ctx, os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "ocipush: %v\n", err)
		os.Exit(1)
	}
}

func push(ctx context.Context, src, dst string) error {
	ref, err := name.ParseReference(dst, name.Insecure) // plain http: a loopback registry
	if err != nil {
		return err
	}
	opts := []remote.Option{remote.WithContext(ctx)}
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		img, err := tarball.ImageFromPath(src, nil)
		if err != nil {
			return err
		}
		return remote.Write(ref, img, opts...)
	}
	idx, err := layout.ImageIndexFromPath(src)
	if err != nil {
		return err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	if len(m.Manifests) != 1 {
		return remote.WriteIndex(ref, idx, opts...)
	}
	return pushOne(ref, idx, m.Manifests[0], opts)
}

// pushOne pushes the one manifest of a layout's index: an image or an index.
func pushOne(ref name.Reference, idx v1.ImageIndex, d v1.Descriptor, opts []remote.Option) error {
	if d.MediaType.IsIndex() {
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return err
		}
		return remote.WriteIndex(ref, child, opts...)
	}
	img, err := idx.Image(d.Digest)
	if err != nil {
		return err
	}
	return remote.Write(ref, img, opts...)
}
