package gha

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	actionscache "github.com/tonistiigi/go-actions-cache"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache/stall"
)

// openStream starts the download of e and returns its content, read front to back
// without holding it in memory. Reads run under ctx, each bounded by idle (see
// package stall); the first request (the one that finds out whether the archive is
// there at all) must answer by deadline.
func openStream(ctx context.Context, e *actionscache.Entry, deadline time.Time, idle time.Duration, track *tracker, token string) (io.ReadCloser, error) {
	dog := stall.NewWatchdog(ctx, fmt.Errorf("stalled: no data for %v", idle))
	body := &entryBody{ra: e.Download(withAzureRetries(dog.Context()))}
	fail := func(err, cause error) error {
		status := 0
		// v2 downloads bypass track, and Azure errors carry their own status.
		if step, st := track.state(); step == stepDownload && !e.IsAzureBlob {
			status = st
		}
		return newError("load", stepDownload, status, err, cause, token)
	}
	r := stall.NewReader(dog, idle, body, fail)

	// A zero-length read makes the reader send its request and check the status,
	// so a missing or refused archive is Load's error, not the first Read's.
	err := dog.Within(time.Until(deadline), func() error {
		return safely(func() error {
			_, err := body.ra.ReadAt(nil, 0)
			return err
		})
	})
	if err != nil && !errors.Is(err, io.EOF) {
		ferr := fail(err, dog.Cause())
		r.Close()
		return nil, ferr
	}
	return r, nil
}

// entryBody reads go-actions-cache's ReaderAt front to back, turning its panics
// into errors.
type entryBody struct {
	ra  actionscache.ReaderAtCloser
	off int64
}

func (b *entryBody) Read(p []byte) (int, error) {
	var n int
	err := safely(func() (err error) {
		n, err = b.ra.ReadAt(p, b.off)
		return err
	})
	b.off += int64(n)
	if n > 0 && errors.Is(err, io.EOF) {
		return n, nil // the next Read, at the end, says io.EOF
	}
	return n, err
}

func (b *entryBody) Close() error { return b.ra.Close() }
