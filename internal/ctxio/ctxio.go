// Package ctxio stops long copies when their context is done: io.Copy has no
// context, and a cancelled job should not keep writing files that will be thrown
// away (a cache entry, a builder's layers).
package ctxio

import (
	"context"
	"io"
)

// Reader reads r until ctx is done, and then fails with ctx's error.
func Reader(ctx context.Context, r io.Reader) io.Reader { return reader{ctx, r} }

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (c reader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
