package registry

import (
	"context"
	"strings"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
)

// Download is what a pull's progress messages say the daemon downloaded. The
// daemon names each blob by a short ID: while it downloads one it reports
// "Downloading" with the blob's size as the total, then "Download complete"; a
// layer it had is "Already exists". Both image stores speak so, but the
// containerd one looks at its downloads only every 100 ms: a blob fetched
// faster completes without a size, and some engines report manifests and
// configs too.
type Download struct {
	Blobs int // blobs the daemon downloaded
	// Bytes is the size of those whose size the daemon reported, as the
	// registry stores them: compressed layers. A download that restarted after
	// a failure counts once.
	Bytes int64
	// Unsized are downloaded blobs of no reported size: Bytes is then less than
	// what was downloaded, by their sizes.
	Unsized  int
	Reused   int  // layers the daemon already had
	UpToDate bool // the daemon said the image it had was the registry's
}

// Nothing reports whether the messages say that nothing was downloaded: the
// image was up to date, or every layer was there already. A pull whose
// messages said nothing either way (none, or an engine of other words) is not
// taken for one that downloaded nothing.
func (d Download) Nothing() bool {
	return d.Blobs == 0 && (d.UpToDate || d.Reused > 0)
}

// downloads counts what a pull downloads from its progress messages.
type downloads struct {
	size     map[string]int64 // the largest total a blob's download reported
	done     map[string]bool  // the blobs whose download completed
	exists   map[string]bool  // the layers the daemon had
	upToDate bool
}

// read reads a pull's messages to their end, counting its downloads, and
// returns the error the daemon reports in-band, as resp.Wait would: a pull can
// fail after its HTTP status said 200. That error has the daemon's text.
func (d *downloads) read(ctx context.Context, resp client.ImagePullResponse) error {
	for m, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return err
		}
		if m.Error != nil {
			return m.Error
		}
		d.add(m)
	}
	return nil
}

// add counts one progress message.
func (d *downloads) add(m jsonstream.Message) {
	if d.size == nil {
		d.size, d.done, d.exists = map[string]int64{}, map[string]bool{}, map[string]bool{}
	}
	switch {
	case m.ID == "":
		// "Status: Image is up to date for REF" ends a pull that had the image.
		d.upToDate = d.upToDate || strings.HasPrefix(m.Status, "Status: Image is up to date")
	case m.Status == "Download complete":
		d.done[m.ID] = true
	case m.Status == "Already exists":
		d.exists[m.ID] = true
	case downloading(m.Status) && m.Progress != nil && m.Progress.Units == "" && m.Progress.Total > 0:
		// The largest: the classic store's total after a resumed download is
		// what was left of the blob.
		d.size[m.ID] = max(d.size[m.ID], m.Progress.Total)
	}
}

// downloading reports whether a blob's status is its download under way: the
// classic store's words and the containerd store's, which names a layer's
// download "Pulling layer fs" on some engines.
func downloading(status string) bool {
	return status == "Downloading" || status == "Pulling layer fs"
}

// result is what the messages counted so far say was downloaded.
func (d *downloads) result() Download {
	out := Download{Reused: len(d.exists), UpToDate: d.upToDate}
	for id := range d.done {
		out.Blobs++
		if n := d.size[id]; n > 0 {
			out.Bytes += n
		} else {
			out.Unsized++
		}
	}
	return out
}
