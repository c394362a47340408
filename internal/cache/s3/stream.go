package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// errClosed is what a Read after Close gets, so that it never passes for the end
// of a whole entry.
var errClosed = errors.New("s3 cache: read after close")

// stream is an entry's GET body. A watchdog cancels the request when one Read
// waits longer than idle for data: a store that stops sending cannot hang a build.
// It is armed only inside Read, so a slow consumer is never mistaken for a slow
// store.
type stream struct {
	body   io.ReadCloser
	cancel context.CancelCauseFunc
	ctx    context.Context
	idle   time.Duration
	watch  *time.Timer
	key    string
	size   int64 // what the GET announced; a clean EOF before it is a truncation
	off    int64

	mu     sync.Mutex
	err    error // sticky: after a failed read, every later one fails the same way
	closed bool
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
	s.watch.Reset(s.idle)
	n, err := s.body.Read(p)
	s.watch.Stop()
	s.off += int64(n)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, io.EOF) && s.ctx.Err() == nil && s.off == s.size:
		return n, io.EOF
	case errors.Is(err, io.EOF) && s.ctx.Err() == nil:
		err = fmt.Errorf("%w: got %d of %d bytes", io.ErrUnexpectedEOF, s.off, s.size)
	}
	if cause := context.Cause(s.ctx); cause != nil {
		err = fmt.Errorf("%w (%v)", err, cause)
	}
	s.err = fmt.Errorf("s3 cache: reading %s: %w", s.key, err)
	return n, s.err
}

// Close ends the download; a Read blocked in another goroutine returns an error.
func (s *stream) Close() error {
	s.cancel(errClosed) // first, without the lock, so a blocked Read gives up
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.watch.Stop()
	return s.body.Close()
}
