package registry

import (
	"testing"

	"github.com/moby/moby/api/types/jsonstream"
)

// progress is a blob's "Downloading" message: current of total bytes.
func progress(id string, current, total int64) jsonstream.Message {
	return jsonstream.Message{ID: id, Status: "Downloading", Progress: &jsonstream.Progress{Current: current, Total: total}}
}

func status(id, s string) jsonstream.Message { return jsonstream.Message{ID: id, Status: s} }

// What a pull downloaded is counted from its messages, as each image store
// writes them.
func TestDownloads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		msgs    []jsonstream.Message
		want    Download
		nothing bool
	}{
		{"classic store", []jsonstream.Message{
			status("stable", "Pulling from rust-s2i/builder"),
			status("aaa", "Pulling fs layer"), status("bbb", "Pulling fs layer"), status("ccc", "Already exists"),
			status("bbb", "Waiting"),
			progress("aaa", 49152, 4335400), progress("aaa", 4335400, 4335400),
			status("aaa", "Verifying Checksum"), status("aaa", "Download complete"),
			progress("bbb", 1000, 11107850), progress("bbb", 11107850, 11107850), status("bbb", "Download complete"),
			{ID: "aaa", Status: "Extracting", Progress: &jsonstream.Progress{Current: 4335400, Total: 4335400}},
			status("aaa", "Pull complete"), status("bbb", "Pull complete"),
			status("", "Digest: sha256:0123"), status("", "Status: Downloaded newer image for ghcr.io/rust-s2i/builder:stable"),
		}, Download{Blobs: 2, Bytes: 4335400 + 11107850, Reused: 1}, false},
		// The containerd store polls: a big layer's last report is short of its
		// size, a small one's download is never seen.
		{"containerd store", []jsonstream.Message{
			status("aaa", "Waiting"), status("bbb", "Waiting"),
			progress("aaa", 3_000_000, 695_000_000), progress("aaa", 690_000_000, 695_000_000),
			status("bbb", "Download complete"), status("aaa", "Download complete"),
			{ID: "aaa", Status: "Extracting", Progress: &jsonstream.Progress{Current: 3, Units: "s"}},
			status("aaa", "Pull complete"),
		}, Download{Blobs: 2, Bytes: 695_000_000, Unsized: 1}, false},
		{"layer fs", []jsonstream.Message{
			{ID: "aaa", Status: "Pulling layer fs", Progress: &jsonstream.Progress{Current: 10, Total: 2048}},
			status("aaa", "Download complete"),
		}, Download{Blobs: 1, Bytes: 2048}, false},
		// A resumed download reports what was left of the blob.
		{"resumed", []jsonstream.Message{
			progress("aaa", 600, 1000), status("aaa", "Retrying in 5 seconds"), progress("aaa", 400, 400),
			status("aaa", "Download complete"),
		}, Download{Blobs: 1, Bytes: 1000}, false},
		// Not complete: the pull failed, or is no download of ours to count.
		{"not complete", []jsonstream.Message{progress("aaa", 10, 1000)}, Download{}, false},
		{"up to date", []jsonstream.Message{
			status("stable", "Pulling from rust-s2i/builder"), status("", "Digest: sha256:0123"),
			status("", "Status: Image is up to date for ghcr.io/rust-s2i/builder:stable"),
		}, Download{UpToDate: true}, true},
		{"every layer there", []jsonstream.Message{status("aaa", "Already exists"), status("bbb", "Already exists")}, Download{Reused: 2}, true},
		{"no messages", nil, Download{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var d downloads
			for _, m := range tc.msgs {
				d.add(m)
			}
			got := d.result()
			if got != tc.want {
				t.Errorf("downloaded %+v, want %+v", got, tc.want)
			}
			if got.Nothing() != tc.nothing {
				t.Errorf("Nothing() = %v, want %v", got.Nothing(), tc.nothing)
			}
		})
	}
}

// Pull returns what its messages counted.
func TestPullCounts(t *testing.T) {
	t.Parallel()
	f := &fakePuller{msgs: []jsonstream.Message{progress("aaa", 5, 5), status("aaa", "Download complete"), status("bbb", "Already exists")}}
	got, err := Pull(t.Context(), f, "ghcr.io/o/base:1", Auth{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Download{Blobs: 1, Bytes: 5, Reused: 1}); got != want {
		t.Errorf("Pull = %+v, want %+v", got, want)
	}
}
