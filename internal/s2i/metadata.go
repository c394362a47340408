package s2i

import (
	"context"
	"errors"

	"github.com/moby/moby/client"
)

// errNoDownloads is what S2I gets when it asks to read files out of a container.
var errNoDownloads = errors.New("rust-s2i-musl: s2i reads nothing out of build containers")

// CopyFromContainer refuses S2I every read out of a container. S2I uses it for one
// thing in these builds: after assemble, it downloads /tmp/.s2i/image_metadata.json
// from the build container, untars it on the host with its own extractor, and puts
// the labels it lists on the -tmp image, over this tool's own (the builder and
// source labels the next build trusts). Anything the build runs (a build script
// of the crate or of a dependency) could write that file. S2I takes a failed
// download as "no new labels" and goes on. The collector reads the files it needs
// through the daemon client directly, not through here.
func (t *tracker) CopyFromContainer(context.Context, string, client.CopyFromContainerOptions) (client.CopyFromContainerResult, error) {
	return client.CopyFromContainerResult{}, errNoDownloads
}
