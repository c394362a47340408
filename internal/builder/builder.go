// Package builder makes the builder image, the Rust toolchain plus the S2I scripts,
// from the s2i/ files embedded in the binary, through the Engine API. It replaces the
// original design's `make TOOLCHAIN=…`.
package builder

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	builderimage "github.com/rust-s2i/rust-s2i-musl/s2i"
)

// Options say which toolchain the builder image holds and what it is called.
type Options struct {
	Base      string // Rust base image; "" keeps the Dockerfile's default
	Toolchain string // rustup toolchain; "" keeps the Dockerfile's default
	Target    string // target triple; "" keeps the Dockerfile's default
	// Targets are every target the builder serves, Target among them; empty keeps
	// the Dockerfile's default (both musl targets) for either of those, and is Target
	// alone for any other.
	Targets []string
	Tag     string
	// CLibs are the C libraries the builder builds for musl (the CLIBS build
	// argument): nil keeps the Dockerfile's default, an empty set builds none.
	CLibs clibs.Set
	// CLibsSource is where their sources come from (CLIBS_SOURCE): upstream or
	// debian; "" keeps the Dockerfile's default.
	CLibsSource string
}

// Engine is the part of the Docker client that building an image needs.
type Engine interface {
	ImageBuild(ctx context.Context, buildContext io.Reader, options client.ImageBuildOptions) (client.ImageBuildResult, error)
}

// Build builds the builder image and streams the daemon's build log to out.
func Build(ctx context.Context, e Engine, o Options, out io.Writer) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeContext(pw)) }()

	targets := strings.Join(o.Targets, " ")
	if targets == "" && o.Target != "" && DefaultTarget("x86_64") != o.Target && DefaultTarget("aarch64") != o.Target {
		targets = o.Target // a target of its own (-gnu, another architecture): that one alone
	}
	res, err := e.ImageBuild(ctx, pr, client.ImageBuildOptions{
		Tags:        []string{o.Tag},
		BuildArgs:   buildArgs(o, targets),
		Remove:      true,
		ForceRemove: true,
		Dockerfile:  "Dockerfile",
	})
	if err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("building builder image %s: %w", o.Tag, err)
	}
	defer res.Body.Close()
	if err := streamBuildLog(res.Body, out); err != nil {
		return fmt.Errorf("building builder image %s: %w", o.Tag, err)
	}
	return nil
}

// buildArgs are the Dockerfile's build arguments for o: the settings that are
// set, each else left to the Dockerfile's default. CLIBS is set when CLibs is
// not nil, empty ones too: an empty CLIBS builds no C library. A builder none of
// whose targets is musl (-gnu) gets none unless asked: the libraries are built for
// musl targets only, and the recipe refuses to label a builder with libraries it
// would not have.
func buildArgs(o Options, targets string) map[string]*string {
	if o.CLibs == nil && targets != "" && !strings.Contains(targets, "-musl") {
		o.CLibs = clibs.Set{}
	}
	args := map[string]*string{}
	for k, v := range map[string]string{"BASE_IMAGE": o.Base, "TOOLCHAIN": o.Toolchain, "TARGET": o.Target, "TARGETS": targets, "CLIBS_SOURCE": o.CLibsSource} {
		if v != "" {
			args[k] = &v
		}
	}
	if o.CLibs != nil {
		v := o.CLibs.String()
		args["CLIBS"] = &v
	}
	return args
}

// streamBuildLog copies the daemon's build messages to out as plain text and
// returns the build's error.
func streamBuildLog(r io.Reader, out io.Writer) error {
	return engine.ReadMessages(r, func(m jsonstream.Message) {
		if m.Stream != "" {
			io.WriteString(out, m.Stream)
		} else if m.Status != "" {
			fmt.Fprintln(out, m.Status)
		}
	})
}

// writeContext writes the embedded s2i/ files as a tar build context. The embedded
// files lose their modes, so the scripts are made executable here.
func writeContext(w io.Writer) error {
	tw := tar.NewWriter(w)
	err := fs.WalkDir(builderimage.Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == "." {
			return err
		}
		if d.IsDir() {
			return tw.WriteHeader(&tar.Header{Name: path + "/", Typeflag: tar.TypeDir, Mode: 0o755})
		}
		data, err := fs.ReadFile(builderimage.Files, path)
		if err != nil {
			return err
		}
		mode := int64(0o644)
		if strings.HasPrefix(path, "bin/") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: path, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("writing build context: %w", err)
	}
	return tw.Close()
}
