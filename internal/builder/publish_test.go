package builder

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
)

// exportEngine is a daemon with one image, whose container exports fs.
type exportEngine struct {
	image   client.ImageInspectResult
	fs      []byte
	created []string
	removed []string
}

func (e *exportEngine) ImageInspect(context.Context, string, ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	return e.image, nil
}

func (e *exportEngine) ContainerCreate(_ context.Context, o client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	e.created = append(e.created, o.Image)
	return client.ContainerCreateResult{ID: "c1"}, nil
}

func (e *exportEngine) ContainerRemove(_ context.Context, id string, _ client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	e.removed = append(e.removed, id)
	return client.ContainerRemoveResult{}, nil
}

func (e *exportEngine) ContainerExport(context.Context, string, client.ContainerExportOptions) (client.ContainerExportResult, error) {
	return io.NopCloser(bytes.NewReader(e.fs)), nil
}

// builderExport is a little builder filesystem, as a container's export.
func builderExport(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{
		{".dockerenv", ""},
		{"bin/sh", "sh"},
		{"usr/local/musl/x86_64-unknown-linux-musl/lib/libz.a", "libz"},
		{"usr/local/rustup/toolchains/stable/bin/rustc", "rustc"},
		{"usr/local/rustup/toolchains/stable/lib/rustlib/x86_64-unknown-linux-musl/lib/libstd.rlib", "std"},
		{"usr/libexec/s2i/assemble", "#!/bin/sh"},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(f.body))}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, f.body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Publish pushes the gzip variant to REF and the zstd one to REF-zstd, each with
// its media types, the same diff IDs and the builder's config, and removes the
// container it exported.
func TestPublish(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	cfg := &dockerspec.DockerOCIImageConfig{}
	cfg.Env = []string{"HOME=/opt/app-root"}
	cfg.Labels = map[string]string{"io.rust-s2i.scripts-protocol": "4"}
	cfg.User, cfg.WorkingDir, cfg.Cmd = "1001", "/opt/app-root", []string{"/usr/libexec/s2i/usage"}
	e := &exportEngine{
		image: client.ImageInspectResult{InspectResponse: image.InspectResponse{ID: "sha256:b", Os: "linux", Architecture: "amd64", Config: cfg}},
		fs:    builderExport(t),
	}
	ref := u.Host + "/rs2i/builder:stable"
	var log strings.Builder
	got, err := Publish(context.Background(), e, PublishOptions{Image: "local-builder", Gzip: ref, Zstd: ref + "-zstd", TempDir: t.TempDir()}, &log)
	if err != nil {
		t.Fatalf("Publish: %v\n%s", err, log.String())
	}
	if !slices.Equal(e.created, []string{"local-builder"}) || !slices.Equal(e.removed, []string{"c1"}) {
		t.Errorf("containers created from %q, removed %q; want one, removed", e.created, e.removed)
	}
	var parts []string
	for _, l := range got.Layers {
		parts = append(parts, l.Part)
	}
	if want := []string{"system", "c-libraries", "rust", "std-x86_64-musl", "s2i"}; !slices.Equal(parts, want) {
		t.Errorf("parts %q, want %q", parts, want)
	}
	if len(got.Pushed) != 2 || got.Pushed[0].Ref != ref || got.Pushed[1].Ref != ref+"-zstd" {
		t.Fatalf("pushed %+v", got.Pushed)
	}

	diffIDs := map[compression.Compression][]v1.Hash{}
	for _, tc := range []struct {
		p               Pushed
		manifest, layer types.MediaType
	}{
		{got.Pushed[0], types.DockerManifestSchema2, types.DockerLayer},
		{got.Pushed[1], types.OCIManifestSchema1, types.OCILayerZStd},
	} {
		tag, err := name.NewTag(tc.p.Ref)
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(tag)
		if err != nil {
			t.Fatalf("%s is not in the registry: %v", tag, err)
		}
		d, _ := img.Digest()
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if d.String() != tc.p.Digest || m.MediaType != tc.manifest {
			t.Errorf("%s: %s %s, want %s %s", tag, d, m.MediaType, tc.p.Digest, tc.manifest)
		}
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range layers {
			if mt, _ := l.MediaType(); mt != tc.layer {
				t.Errorf("%s: layer %d is %s, want %s", tag, i, mt, tc.layer)
			}
			// The diff ID of what the registry serves, decompressed here, not the
			// config's word for it.
			rc, err := l.Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			h, _, err := v1.SHA256(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("%s: layer %d does not decompress: %v", tag, i, err)
			}
			diffIDs[tc.p.Compression] = append(diffIDs[tc.p.Compression], h)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cf.RootFS.DiffIDs, diffIDs[tc.p.Compression]) {
			t.Errorf("%s: the config's diff IDs %v are not its layers' %v", tag, cf.RootFS.DiffIDs, diffIDs[tc.p.Compression])
		}
		if cf.Config.User != "1001" || cf.Config.WorkingDir != "/opt/app-root" || cf.Config.Labels["io.rust-s2i.scripts-protocol"] != "4" ||
			!slices.Equal(cf.Config.Env, cfg.Env) || !slices.Equal(cf.Config.Cmd, cfg.Cmd) || cf.Architecture != "amd64" || cf.OS != "linux" {
			t.Errorf("%s: config %+v, want the builder's", tag, cf)
		}
	}
	if !slices.Equal(diffIDs[compression.GZip], diffIDs[compression.ZStd]) {
		t.Errorf("zstd layers unpack to %v, gzip ones to %v", diffIDs[compression.ZStd], diffIDs[compression.GZip])
	}
	for _, want := range []string{"pushing " + ref + " (gzip layers)", "pushed " + ref + "-zstd@sha256:"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, log.String())
		}
	}
}

// A registry that wants a login gets none, and the error says how to give one.
func TestPublishRefusedHintsLogin(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(registryWantingLogin{})
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	e := &exportEngine{image: client.ImageInspectResult{InspectResponse: image.InspectResponse{Os: "linux", Architecture: "amd64"}}, fs: builderExport(t)}
	ref := u.Host + "/rs2i/builder:stable"
	_, err := Publish(context.Background(), e, PublishOptions{Image: "b", Gzip: ref, Zstd: ref + "-zstd", TempDir: t.TempDir()}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "docker login "+u.Host) {
		t.Fatalf("Publish = %v, want the login hint", err)
	}
	if len(e.removed) != 1 {
		t.Errorf("container removed %d times, want once", len(e.removed))
	}
}

// registryWantingLogin answers every request 401, as a registry does to an
// anonymous push.
type registryWantingLogin struct{}

func (registryWantingLogin) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
	w.WriteHeader(http.StatusUnauthorized)
}
