package s2i

import (
	"context"
	"errors"
	"testing"

	"github.com/moby/moby/client"
)

// S2I, building through the tracker, can read nothing out of a container: not the
// image_metadata.json whose labels a build script could write over the tool's own.
func TestTrackerRefusesDownloads(t *testing.T) {
	t.Parallel()
	tr := &tracker{}
	for _, p := range []string{"/tmp/.s2i/image_metadata.json", "/opt/app-root"} {
		if _, err := tr.CopyFromContainer(context.Background(), "c", client.CopyFromContainerOptions{SourcePath: p}); !errors.Is(err, errNoDownloads) {
			t.Errorf("CopyFromContainer(%s) = %v, want errNoDownloads", p, err)
		}
	}
}
