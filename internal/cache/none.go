package cache

import (
	"context"
	"io"
)

// None is the Store behind --cache none: every build is cold and leaves nothing
// behind, which is what a user wants when a cache is suspected of causing trouble or
// when a build must not depend on state from earlier runs. It lets the pipeline treat
// "no cache" as just another backend instead of a special case.
type None struct{}

var _ Store = None{}

// Load never finds anything, so the pipeline takes its cold-build path.
func (None) Load(context.Context, []string) (string, io.ReadCloser, error) {
	return "", nil, ErrNotFound
}

// Save discards the entry and reports success: with no cache configured there is
// nothing to warn about.
func (None) Save(context.Context, string, Blob) error { return nil }
