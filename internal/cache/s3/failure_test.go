package s3

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/cachetest"
)

// failingBlob is a blob whose reads past failAt fail (a disk error half-way), or
// call hook first.
type failingBlob struct {
	size   int64
	failAt int64
	hook   func(off int64)
	reads  atomic.Int64
}

func (b *failingBlob) Size() int64 { return b.size }

func (b *failingBlob) ReadAt(p []byte, off int64) (int, error) {
	b.reads.Add(1)
	if b.hook != nil {
		b.hook(off)
	}
	if off+int64(len(p)) > b.failAt {
		return 0, errors.New("input/output error")
	}
	if off >= b.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), b.size-off)
	clear(p[:n])
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// A save that fails or is cancelled half-way leaves nothing a restore could find:
// no object, and no unfinished upload either (it was aborted).
func TestFailedSaveLeavesNothing(t *testing.T) {
	t.Parallel()
	s, admin, cfg := newStore(t, func(c *Config) { c.PartSize, c.Concurrency = minPartSize, 2 })
	const size = 4*minPartSize + 1

	t.Run("read error in part 3", func(t *testing.T) {
		err := s.Save(context.Background(), "k-broken", &failingBlob{size: size, failAt: 2*minPartSize + 10})
		if err == nil || errors.Is(err, cache.ErrExists) || !strings.Contains(err.Error(), "input/output error") {
			t.Fatalf("save: %v, want the read error", err)
		}
	})
	t.Run("cancelled in part 2", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		b := &failingBlob{size: size, failAt: size, hook: func(off int64) {
			if off >= minPartSize {
				cancel()
			}
		}}
		if err := s.Save(ctx, "k-cancelled", b); !errors.Is(err, context.Canceled) {
			t.Fatalf("save: %v, want context.Canceled", err)
		}
	})
	if _, _, err := cachetest.LoadAll(context.Background(), s, "k-none", "k-"); !errors.Is(err, cache.ErrNotFound) {
		t.Errorf("load after the failed saves: %v, want cache.ErrNotFound", err)
	}
	if got := objects(t, admin, cfg.Bucket); len(got) != 0 {
		t.Errorf("bucket holds %q", got)
	}
	uploads, err := admin.ListMultipartUploads(context.Background(), cfg.Bucket, Root, "", "", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(uploads.Uploads) != 0 {
		t.Errorf("unfinished uploads left: %+v", uploads.Uploads)
	}
}

// Wrong credentials are an error, not a miss: a cache that refuses us must say so.
func TestBadCredentials(t *testing.T) {
	t.Parallel()
	s, _, _ := newStore(t, func(c *Config) { c.SecretKey = "wrong" })
	if _, _, err := s.Load(context.Background(), []string{"k", "k-"}); err == nil || errors.Is(err, cache.ErrNotFound) {
		t.Errorf("load: %v, want a refusal", err)
	}
	if err := s.Save(context.Background(), "k", blobOf([]byte("x"))); err == nil || errors.Is(err, cache.ErrExists) {
		t.Errorf("save: %v, want a refusal", err)
	} else if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the error shows the secret key: %v", err)
	}
}

// A bucket that does not exist is an error too.
func TestMissingBucket(t *testing.T) {
	t.Parallel()
	s, _, _ := newStore(t, func(c *Config) { c.Bucket += "-not-there" })
	_, _, err := s.Load(context.Background(), []string{"k", "k-"})
	var resp minio.ErrorResponse
	if !errors.As(err, &resp) || resp.Code != "NoSuchBucket" {
		t.Errorf("load: %v, want NoSuchBucket", err)
	}
}
