package s2i

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The child's result lines: the collected files come first and reach the callback
// while the child still runs; the result line ends the read.
func TestReadChild(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "0")
	if err := os.WriteFile(bin, []byte("\x7fELF"), 0o600); err != nil {
		t.Fatal(err)
	}
	var lines strings.Builder
	enc := json.NewEncoder(&lines)
	enc.Encode(childResult{Collected: map[string]string{"hello": bin}})
	enc.Encode(childResult{Done: true, ImageID: "sha256:1"})

	calls := 0
	res, files := readChild(strings.NewReader(lines.String()), func(got map[string][]byte) {
		calls++
		if string(got["hello"]) != "\x7fELF" {
			t.Errorf("callback got %q", got)
		}
	})
	if !res.Done || res.ImageID != "sha256:1" || calls != 1 || string(files["hello"]) != "\x7fELF" {
		t.Errorf("result %+v, %d callbacks, files %q", res, calls, files)
	}

	// A file that is gone: no callback and no files, and the result still counts.
	lines.Reset()
	enc.Encode(childResult{Collected: map[string]string{"hello": bin + ".gone"}})
	enc.Encode(childResult{Done: true, ImageID: "sha256:2"})
	res, files = readChild(strings.NewReader(lines.String()), func(map[string][]byte) { t.Error("callback without the files") })
	if !res.Done || files != nil {
		t.Errorf("result %+v, files %q", res, files)
	}

	// A child that died half-way: no result.
	if res, _ := readChild(strings.NewReader(`{"Collected":`), nil); res.Done {
		t.Errorf("a cut-off line gave a result: %+v", res)
	}
}
