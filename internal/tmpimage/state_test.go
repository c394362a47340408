package tmpimage

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
)

// stateDaemon is an in-memory daemon for FromImage: the previous image's
// containers answer CopyFromContainer with state, keyed by the directory below
// AppRoot; what is copied into the builder's container is kept, and commits are
// counted.
type stateDaemon struct {
	StateEngine
	state map[string][]byte // a tar as the daemon writes one of that directory

	mu        sync.Mutex
	copied    bytes.Buffer // what reached CopyToContainer
	copyErr   error        // how reading it ended
	commits   int
	removed   []string
	created   map[string]string // container ID: image
	destroyed map[string]bool
}

func (d *stateDaemon) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	if ref == "builder" {
		return client.ImageInspectResult{InspectResponse: image.InspectResponse{ID: "sha256:builder"}}, nil
	}
	return client.ImageInspectResult{}, cerrdefs.ErrNotFound
}

func (d *stateDaemon) ContainerCreate(_ context.Context, opts client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	id := "c" + string(rune('0'+len(d.created)))
	d.created[id] = opts.Image
	return client.ContainerCreateResult{ID: id}, nil
}

func (d *stateDaemon) ContainerRemove(_ context.Context, id string, _ client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.destroyed[id] = true
	return client.ContainerRemoveResult{}, nil
}

func (d *stateDaemon) CopyFromContainer(_ context.Context, id string, opts client.CopyFromContainerOptions) (client.CopyFromContainerResult, error) {
	d.mu.Lock()
	img := d.created[id]
	d.mu.Unlock()
	data, ok := d.state[strings.TrimPrefix(opts.SourcePath, AppRoot+"/")]
	if img != "sha256:prev" || !ok {
		return client.CopyFromContainerResult{}, cerrdefs.ErrNotFound
	}
	return client.CopyFromContainerResult{Content: io.NopCloser(bytes.NewReader(data))}, nil
}

func (d *stateDaemon) CopyToContainer(_ context.Context, _ string, opts client.CopyToContainerOptions) (client.CopyToContainerResult, error) {
	var buf bytes.Buffer
	_, err := io.Copy(&buf, opts.Content)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.copied, d.copyErr = buf, err
	return client.CopyToContainerResult{}, err
}

func (d *stateDaemon) ContainerCommit(context.Context, string, client.ContainerCommitOptions) (client.ContainerCommitResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.commits++
	return client.ContainerCommitResult{ID: "sha256:new"}, nil
}

func (d *stateDaemon) ImageRemove(_ context.Context, id string, _ client.ImageRemoveOptions) (client.ImageRemoveResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.removed = append(d.removed, id)
	return client.ImageRemoveResult{}, nil
}

// stateTar is a tar of dir (below AppRoot) as the daemon writes one.
func stateTar(t *testing.T, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = "x"
			h.Size = 1
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	tw.Close()
	return buf.Bytes()
}

// FromImage carries the previous image's state into one made from the builder:
// benign state arrives whole under AppRoot's names; state that an earlier build
// planted to escape (a symlink to an absolute directory, then a file through it,
// as S2I's extractor on the host would have followed) fails the copy, nothing is
// committed, and nothing appears in that directory.
func TestFromImage(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	tests := []struct {
		name    string
		state   map[string][]byte
		wantErr string
		want    []string // names that reached the builder's container
	}{
		{"benign", map[string][]byte{
			"cargo/registry": nil, // filled below
			"target":         nil,
		}, "", []string{"cargo/", "cargo/registry/", "cargo/registry/index/", "cargo/registry/index/x", "target/", "target/release/", "target/release/app"}},
		{"symlink out, then a file through it", map[string][]byte{
			"cargo/registry": nil,
		}, "symlink to absolute path", nil},
	}
	tests[0].state["cargo/registry"] = stateTar(t, &tar.Header{Name: "registry/", Typeflag: tar.TypeDir},
		&tar.Header{Name: "registry/index/x", Typeflag: tar.TypeReg})
	tests[0].state["target"] = stateTar(t, &tar.Header{Name: "target/", Typeflag: tar.TypeDir},
		&tar.Header{Name: "target/release/app", Typeflag: tar.TypeReg})
	tests[1].state["cargo/registry"] = stateTar(t, &tar.Header{Name: "registry/", Typeflag: tar.TypeDir},
		&tar.Header{Name: "registry/esc", Typeflag: tar.TypeSymlink, Linkname: outside},
		&tar.Header{Name: "registry/esc/planted/x", Typeflag: tar.TypeReg})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := &stateDaemon{state: tc.state, created: map[string]string{}, destroyed: map[string]bool{}}
			_, err := FromImage(context.Background(), d, "sha256:prev", "builder", "app-tmp", nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("FromImage = %v, want an error saying %q", err, tc.wantErr)
				}
				if d.commits != 0 {
					t.Error("an image was committed from a refused state")
				}
				if strings.Contains(d.copied.String(), "planted") {
					t.Error("the entry through the symlink reached the container")
				}
			} else if err != nil {
				t.Fatal(err)
			} else if got := names(t, d.copied.Bytes()); !slices.Equal(got, tc.want) {
				t.Errorf("copied %q, want %q", got, tc.want)
			}
			if left, _ := os.ReadDir(outside); len(left) != 0 {
				t.Errorf("%s holds %v", outside, left)
			}
			for id := range d.created {
				if !d.destroyed[id] {
					t.Errorf("container %s (%s) left", id, d.created[id])
				}
			}
		})
	}
}

func names(t *testing.T, data []byte) []string {
	t.Helper()
	var got []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h.Name)
	}
}
