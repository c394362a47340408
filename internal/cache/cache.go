// Package cache keeps build state between CI runs. A Store is one backend: the
// GitHub Actions cache service (gha) or a local directory (local). --cache none is
// no Store at all: the pipeline then skips restore and save.
package cache

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound is returned by Load when no entry matches.
var ErrNotFound = errors.New("cache entry not found")

// ErrExists is returned by Save when the key is already taken; callers treat it as
// success, since entries are immutable and another run saved the same key.
var ErrExists = errors.New("cache entry already exists")

// Blob is an entry's content to save: random access, because the Actions cache
// uploads it in parallel chunks, and a known size.
type Blob interface {
	io.ReaderAt
	Size() int64
}

// Store is one cache backend.
type Store interface {
	// Load finds the entry whose key equals keys[0], or else the newest entry whose key
	// starts with keys[1], then keys[2], and so on (GitHub's restore-keys rule). It
	// returns the key matched and the entry's content, which the caller closes.
	Load(ctx context.Context, keys []string) (matched string, content io.ReadCloser, err error)
	// Save stores blob under key. Entries are immutable: a key that exists gives ErrExists.
	Save(ctx context.Context, key string, blob Blob) error
}
