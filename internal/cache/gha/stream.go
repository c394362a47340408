package gha

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	actionscache "github.com/tonistiigi/go-actions-cache"
)

// errClosed is what a read after Close gets: go-actions-cache's reader answers
// io.EOF there, which would pass for a complete entry.
var errClosed = errors.New("gha cache: read after close")

// stream reads an entry front to back without holding it in memory. A watchdog
// cancels the download when one Read makes no progress for idle, so a server that
// stops sending cannot hang a build; the whole download has no time limit, since a
// large entry on a slow link legitimately takes long.
type stream struct {
	ra     actionscache.ReaderAtCloser
	ctx    context.Context
	cancel context.CancelCauseFunc
	idle   time.Duration
	watch  *time.Timer
	track  *tracker
	azure  bool // v2: the download bypasses track, and Azure errors carry the status
	token  string

	mu     sync.Mutex
	off    int64
	err    error // sticky: once a read failed, every later one fails the same way
	closed bool
}

// openStream starts the download of e. Reads run under ctx; the first request (the
// one that finds out whether the archive is there at all) must answer by deadline.
func openStream(ctx context.Context, e *actionscache.Entry, deadline time.Time, idle time.Duration, track *tracker, token string) (*stream, error) {
	sctx, cancel := context.WithCancelCause(ctx)
	s := &stream{
		ctx:    sctx,
		cancel: cancel,
		idle:   idle,
		track:  track,
		azure:  e.IsAzureBlob,
		token:  token,
	}
	s.watch = time.AfterFunc(time.Until(deadline), s.stalled)
	s.ra = e.Download(withAzureRetries(sctx))

	// A zero-length read makes the reader send its request and check the status,
	// so a missing or refused archive is Load's error, not the first Read's.
	err := safely(func() error {
		_, err := s.ra.ReadAt(nil, 0)
		return err
	})
	s.watch.Stop()
	if err != nil && !errors.Is(err, io.EOF) {
		ferr := s.fail(err)
		s.Close()
		return nil, ferr
	}
	return s, nil
}

func (s *stream) stalled() {
	s.cancel(fmt.Errorf("stalled: no data for %v", s.idle))
}

func (s *stream) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errClosed
	}
	if s.err != nil {
		return 0, s.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	s.watch.Reset(s.idle)
	var n int
	err := safely(func() (err error) {
		n, err = s.ra.ReadAt(p, s.off)
		return err
	})
	s.watch.Stop()
	s.off += int64(n)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, io.EOF) && s.ctx.Err() == nil:
		if n > 0 {
			return n, nil
		}
		return 0, io.EOF
	default:
		s.err = s.fail(err)
		return n, s.err
	}
}

func (s *stream) fail(err error) error {
	status := 0
	if step, st := s.track.state(); step == stepDownload && !s.azure {
		status = st
	}
	return newError("load", stepDownload, status, err, stopCause(s.ctx), s.token)
}

// Close ends the download; a Read blocked in another goroutine returns an error.
func (s *stream) Close() error {
	s.cancel(errClosed) // first, without the lock, so a blocked Read gives it up
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.watch.Stop()
	return s.ra.Close()
}
