package pipeline

import (
	"archive/tar"
	"context"
	"io"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// The secrets volume gets the secrets as lines sh sources and, beside them, their
// names alone, which assemble scrubs target/ of; both belong to the build user and
// only it may read them.
func TestSecretsTar(t *testing.T) {
	t.Parallel()
	tr := tar.NewReader(secretsTar([]string{"A=1", "B=it's, a=b\nc"}))
	want := map[string]string{
		tmpimage.SecretsFile: "A='1'\nB='it'\\''s, a=b\nc'\n",
		secretNamesFile:      "A\nB\n",
	}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if w, ok := want[hdr.Name]; !ok || string(data) != w {
			t.Errorf("%s = %q, want %q", hdr.Name, data, w)
		}
		if hdr.Mode != 0o400 || hdr.Uid != tmpimage.BuildUser.UID {
			t.Errorf("%s: mode %o uid %d, want 0400 and the build user", hdr.Name, hdr.Mode, hdr.Uid)
		}
		delete(want, hdr.Name)
	}
	if len(want) != 0 {
		t.Errorf("missing %v", want)
	}
}

// volumeRemover answers VolumeRemove with errs in turn, then nil.
type volumeRemover struct {
	errs  []error
	calls int
}

func (v *volumeRemover) VolumeRemove(context.Context, string, client.VolumeRemoveOptions) (client.VolumeRemoveResult, error) {
	v.calls++
	if len(v.errs) == 0 {
		return client.VolumeRemoveResult{}, nil
	}
	err := v.errs[0]
	v.errs = v.errs[1:]
	return client.VolumeRemoveResult{}, err
}

// The secrets volume is removed once the lease on its way out lets go of it: a
// volume in use is tried again; any other answer is final.
func TestRemoveVolumeWaitsForLease(t *testing.T) {
	t.Parallel()
	inUse := cerrdefs.ErrConflict.WithMessage("volume is in use")
	tests := []struct {
		name  string
		errs  []error
		calls int
	}{
		{"removed", nil, 1},
		{"in use twice", []error{inUse, inUse}, 3},
		{"gone already", []error{cerrdefs.ErrNotFound}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := &volumeRemover{errs: tc.errs}
			removeVolume(t.Context(), v, "rust-s2i-secrets-x")
			if v.calls != tc.calls {
				t.Errorf("%d calls, want %d", v.calls, tc.calls)
			}
		})
	}
}
