// Package image assembles the final image: the runtime base plus exactly one layer
// holding the binary, with fixed timestamps so that the same binary on the same base
// always gives the same image ID.
package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/daemon"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
)

// BinDir is where the binary lands in the final image.
const BinDir = "/usr/local/bin"

// nobody is the final image's user: nobody, so that the service does not run as root
// even on a base without a passwd entry for it.
const nobody = "65534:65534"

// Label keys of the OCI image annotations the final image carries.
const (
	LabelSource     = "org.opencontainers.image.source"
	LabelRevision   = "org.opencontainers.image.revision"
	labelCreated    = "org.opencontainers.image.created"
	LabelTitle      = "org.opencontainers.image.title"
	labelBaseName   = "org.opencontainers.image.base.name"
	labelBaseDigest = "org.opencontainers.image.base.digest"
)

// Spec describes the final image.
type Spec struct {
	From       string // the image holding the built binary (the -tmp image)
	BinaryPath string // the binary's path inside From
	Binary     string // the name it gets in the final image
	Base       string // the runtime base, present in the daemon
	Tag        string // "": the image is written untagged, for the caller to tag
	Created    time.Time
	Labels     map[string]string // source and revision; the rest is filled in here
	UserLabels map[string]string // the user's, over all of the above
	Alongside  []string          // other files next to the binary to read in the same pass
	// Files are the binary and the Alongside files already read, by name: then
	// From is not read at all. nil reads them from From.
	Files map[string][]byte
}

// name is how errors name the image: its tag, or what it holds when it is written
// untagged (the caller names it later), never an empty name.
func (s Spec) name() string {
	if s.Tag != "" {
		return s.Tag
	}
	return fmt.Sprintf("of %s on %s (untagged)", s.Binary, s.Base)
}

// Result describes the image written.
type Result struct {
	ID         string
	BinarySize int64
	Size       int64
	Alongside  map[string][]byte // the Spec's Alongside files that were found
}

// Engine is the part of the Docker client that packaging needs.
type Engine interface {
	daemon.Client
	engine.Containers
	CopyFromContainer(ctx context.Context, containerID string, options client.CopyFromContainerOptions) (client.CopyFromContainerResult, error)
}

// Package writes the final image into the daemon and tags it.
func Package(ctx context.Context, e Engine, s Spec) (Result, error) {
	files, bin, err := binaryFiles(ctx, e, s)
	if err != nil {
		return Result{}, err
	}
	layer, err := binaryLayer(s.Binary, bin, s.Created)
	if err != nil {
		return Result{}, err
	}
	baseCF, digest, err := baseConfig(ctx, e, s.Base)
	if err != nil {
		return Result{}, err
	}
	arch, err := binaryArch(bin)
	if err != nil {
		return Result{}, err
	}
	if baseCF.Architecture != "" && baseCF.Architecture != arch {
		return Result{}, fmt.Errorf("the binary is %s but runtime image %s is %s: pick a runtime image for %s", arch, s.Base, baseCF.Architecture, arch)
	}
	cf := finalConfig(baseCF, s, arch, layer.diffID, digest)
	rawConfig, err := json.Marshal(cf)
	if err != nil {
		return Result{}, fmt.Errorf("encoding image config: %w", err)
	}

	tag := ""
	if s.Tag != "" {
		named, err := reference.ParseNormalizedNamed(s.Tag)
		if err != nil {
			return Result{}, fmt.Errorf("image %q: %w", s.Tag, err)
		}
		tag = reference.FamiliarString(reference.TagNameOnly(named))
	}
	id, err := load(ctx, e, tag, rawConfig, cf.RootFS.DiffIDs, layer)
	if err != nil {
		return Result{}, fmt.Errorf("writing image %s: %w", s.name(), err)
	}
	out, err := e.ImageInspect(ctx, id)
	if err != nil {
		return Result{}, fmt.Errorf("inspecting image %s: %w", s.name(), err)
	}
	delete(files, path.Base(s.BinaryPath))
	return Result{ID: out.ID, BinarySize: int64(len(bin)), Size: out.Size, Alongside: files}, nil
}

// binaryFiles are the Spec's binary and Alongside files by name, and the binary:
// those given in Files, else read from From in one pass.
func binaryFiles(ctx context.Context, e Engine, s Spec) (map[string][]byte, []byte, error) {
	files := maps.Clone(s.Files)
	if files == nil {
		var err error
		files, err = engine.ReadFiles(ctx, e, s.From, path.Dir(s.BinaryPath), append([]string{path.Base(s.BinaryPath)}, s.Alongside...)...)
		if err != nil {
			return nil, nil, err
		}
	}
	bin, ok := files[path.Base(s.BinaryPath)]
	if !ok {
		return nil, nil, fmt.Errorf("%s: not found in %s", s.BinaryPath, s.From)
	}
	return files, bin, nil
}

// baseConfig is the runtime image's config and its digest (its ID when it has no
// repo digest). The config comes from the daemon's inspect and history: no export
// of its layers.
func baseConfig(ctx context.Context, e Engine, ref string) (*v1.ConfigFile, string, error) {
	baseRef, err := name.ParseReference(ref)
	if err != nil {
		return nil, "", fmt.Errorf("runtime image %q: %w", ref, err)
	}
	inspect, err := e.ImageInspect(ctx, ref)
	if err != nil {
		return nil, "", fmt.Errorf("inspecting runtime image %s: %w", ref, err)
	}
	base, err := daemon.Image(baseRef, daemon.WithClient(e), daemon.WithContext(ctx))
	if err != nil {
		return nil, "", fmt.Errorf("reading runtime image %s: %w", ref, err)
	}
	cf, err := base.ConfigFile()
	if err != nil {
		return nil, "", fmt.Errorf("reading runtime image config: %w", err)
	}
	return cf, baseDigest(inspect.RepoDigests, inspect.ID), nil
}

// finalConfig is the base's config with the binary's layer on top, the binary as
// the entrypoint run as nobody, and the labels: the Spec's, then the ones filled in
// here, then the user's over all of them.
func finalConfig(base *v1.ConfigFile, s Spec, arch string, diffID v1.Hash, baseDigest string) *v1.ConfigFile {
	dest := path.Join(BinDir, s.Binary)
	cf := base.DeepCopy()
	// What only a registry's copy of the base's config says, and a daemon's
	// inspect does not (the Docker version that built it, its build container,
	// history times below the second), goes: the same base gives the same config,
	// whether it is read from the daemon or from the registry (BuildKit).
	cf.DockerVersion, cf.Container = "", ""
	for i, h := range cf.History {
		cf.History[i].Created = v1.Time{Time: h.Created.Truncate(time.Second)}
	}
	cf.Architecture, cf.OS = arch, "linux"
	cf.Created = v1.Time{Time: s.Created}
	cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, diffID)
	cf.History = append(cf.History, v1.History{
		Created:   v1.Time{Time: s.Created},
		CreatedBy: "rust-s2i-musl: COPY " + s.Binary + " " + dest,
		Comment:   "the static binary",
	})
	cfg := &cf.Config
	cfg.Entrypoint = []string{dest}
	cfg.Cmd = nil
	cfg.User = nobody
	cfg.Labels = maps.Clone(cfg.Labels)
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	maps.Copy(cfg.Labels, s.Labels)
	cfg.Labels[labelCreated] = s.Created.UTC().Format(time.RFC3339)
	cfg.Labels[LabelTitle] = s.Binary
	cfg.Labels[labelBaseName] = s.Base
	cfg.Labels[labelBaseDigest] = baseDigest
	maps.Copy(cfg.Labels, s.UserLabels)
	return cf
}

// load writes the image with config rawConfig into the daemon as tag ("" for
// none) and returns its ID. The archive holds only the new top layer: the daemon loads a layer only
// when it does not have it already, and it has all of the base's. An image it has
// already (the same binary on the same base) is only tagged.
func load(ctx context.Context, e Engine, tag string, rawConfig []byte, diffIDs []v1.Hash, top topLayer) (string, error) {
	sum := sha256.Sum256(rawConfig)
	id := "sha256:" + hex.EncodeToString(sum[:])
	if _, err := e.ImageInspect(ctx, id); err == nil {
		if tag == "" {
			return id, nil
		}
		_, err := e.ImageTag(ctx, client.ImageTagOptions{Source: id, Target: tag})
		return id, err
	}
	var repoTags []string
	if tag != "" {
		repoTags = []string{tag}
	}
	layers := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		layers[i] = d.Hex + "/layer.tar"
	}
	manifest, err := json.Marshal([]map[string]any{{
		"Config":   hex.EncodeToString(sum[:]) + ".json",
		"RepoTags": repoTags,
		"Layers":   layers,
	}})
	if err != nil {
		return "", err
	}
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	for _, f := range []struct {
		name string
		data []byte
	}{
		{hex.EncodeToString(sum[:]) + ".json", rawConfig},
		{layers[len(layers)-1], top.raw},
		{"manifest.json", manifest},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.data))}); err != nil {
			return "", err
		}
		if _, err := tw.Write(f.data); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	res, err := e.ImageLoad(ctx, &archive, client.ImageLoadWithQuiet(true))
	if err != nil {
		return "", err
	}
	defer res.Close()
	return id, engine.ReadMessages(res, nil)
}

func baseDigest(repoDigests []string, id string) string {
	for _, d := range repoDigests {
		if _, digest, ok := strings.Cut(d, "@"); ok {
			return digest
		}
	}
	return id
}

// topLayer is the binary's layer as the uncompressed tar the daemon loads.
type topLayer struct {
	raw    []byte
	diffID v1.Hash
}

// binaryLayer is a one-file layer: the binary at BinDir, root-owned, mode 0755, with
// a fixed time, and nothing else that could vary between builds.
func binaryLayer(binary string, data []byte, t time.Time) (topLayer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{
		Name:     strings.TrimPrefix(path.Join(BinDir, binary), "/"),
		Typeflag: tar.TypeReg,
		Mode:     0o755,
		Size:     int64(len(data)),
		ModTime:  t.UTC(),
		Format:   tar.FormatPAX,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return topLayer{}, fmt.Errorf("writing layer: %w", err)
	}
	if _, err := tw.Write(data); err != nil {
		return topLayer{}, fmt.Errorf("writing layer: %w", err)
	}
	if err := tw.Close(); err != nil {
		return topLayer{}, fmt.Errorf("writing layer: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return topLayer{raw: buf.Bytes(), diffID: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}}, nil
}

// ReadFile reads one regular file out of an image.
func ReadFile(ctx context.Context, e Engine, image, file string) ([]byte, error) {
	files, err := engine.ReadFiles(ctx, e, image, path.Dir(file), path.Base(file))
	if err != nil {
		return nil, err
	}
	data, ok := files[path.Base(file)]
	if !ok {
		return nil, fmt.Errorf("%s: not found in %s", file, image)
	}
	return data, nil
}
