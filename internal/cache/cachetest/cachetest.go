// Package cachetest holds what the tests of every cache backend need, so that
// each backend's tests read the same way. Only tests import it.
package cachetest

import (
	"context"
	"io"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
)

// LoadAll loads keys from s and reads the whole content, closing it.
func LoadAll(ctx context.Context, s cache.Store, keys ...string) (matched string, content []byte, err error) {
	matched, rc, err := s.Load(ctx, keys)
	if err != nil {
		return "", nil, err
	}
	defer rc.Close()
	content, err = io.ReadAll(rc)
	return matched, content, err
}
