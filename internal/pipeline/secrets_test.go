package pipeline

import (
	"archive/tar"
	"io"
	"testing"

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
