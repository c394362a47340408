package buildkit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"

	"github.com/rust-s2i/rust-s2i-musl/internal/pipeline"
)

// product names this program's builds to buildkitd (its history and logs).
const product = "rust-s2i-musl"

// Inspect implements pipeline.Kit: buildkitd resolves ref (with the logins in
// kc), and the files in dir are read from the image it pulls, which the build
// then runs on.
func (e *Engine) Inspect(ctx context.Context, ref, dir string, kc authn.Keychain) (pipeline.KitImage, error) {
	var img pipeline.KitImage
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return img, fmt.Errorf("image name %q: %w", ref, err)
	}
	opt := bkclient.SolveOpt{Session: []session.Attachable{authProvider(kc)}}
	_, err = e.c.Build(ctx, opt, product, func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
		_, dgst, raw, err := gw.ResolveImageConfig(ctx, named.String(), sourceresolver.Opt{
			LogName:  "resolving " + ref,
			ImageOpt: &sourceresolver.ResolveImageOpt{ResolveMode: llb.ResolveModeDefault.String()},
		})
		if err != nil {
			return nil, err
		}
		pinned, err := reference.WithDigest(reference.TrimNamed(named), dgst)
		if err != nil {
			return nil, err
		}
		img.Ref, img.Digest = pinned.String(), dgst.String()
		if err := json.Unmarshal(raw, &img.Config); err != nil {
			return nil, fmt.Errorf("its config: %w", err)
		}
		img.Files, err = readDir(ctx, gw, img.Ref, dir)
		return gwclient.NewResult(), err
	}, quiet())
	if err != nil {
		return img, fmt.Errorf("on buildkitd at %s: %s", e.host, oneLine(err))
	}
	return img, nil
}

// readDir reads the regular files directly in dir of the image ref.
func readDir(ctx context.Context, gw gwclient.Client, ref, dir string) (map[string][]byte, error) {
	def, err := llb.Image(ref).Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := gw.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, err
	}
	r, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	stats, err := r.ReadDir(ctx, gwclient.ReadDirRequest{Path: dir})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	files := map[string][]byte{}
	for _, st := range stats {
		if !os.FileMode(st.Mode).IsRegular() {
			continue
		}
		data, err := r.ReadFile(ctx, gwclient.ReadRequest{Filename: path.Join(dir, st.Path)})
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path.Join(dir, st.Path), err)
		}
		files[st.Path] = data
	}
	return files, nil
}

// quiet is a status channel whose updates are read and dropped: a client must
// drain it, and resolving an image says nothing worth a line.
func quiet() chan *bkclient.SolveStatus {
	ch := make(chan *bkclient.SolveStatus)
	go func() {
		for range ch {
		}
	}()
	return ch
}
