// Package stall bounds how long a download may wait for data. A cache backend's
// body streams with no limit on its whole length, since a large entry on a slow
// link legitimately takes long; what it must not do is hang a build when the
// server stops sending. Watchdog cancels a context when one wait lasts too long,
// and Reader arms it around each Read.
package stall

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// ErrClosed is what a Read after Close fails with, and the cause a blocked Read
// sees when Close cancels it: a backend's reader may answer io.EOF there, which
// would pass for a complete entry.
var ErrClosed = errors.New("read after close")

// Watchdog cancels its context with a fixed cause when an armed wait outlasts its
// bound. One watchdog serves a whole download, its lookup and each read of its
// body, so that everything the download started stops together.
type Watchdog struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
}

// NewWatchdog returns a disarmed watchdog whose context derives from parent and
// is cancelled with cause when a wait in Within runs over.
func NewWatchdog(parent context.Context, cause error) *Watchdog {
	ctx, cancel := context.WithCancelCause(parent)
	w := &Watchdog{ctx: ctx, cancel: cancel}
	w.timer = time.AfterFunc(time.Hour, func() { cancel(cause) })
	w.timer.Stop()
	return w
}

// Context is the context the guarded requests must run under.
func (w *Watchdog) Context() context.Context { return w.ctx }

// Within runs f with the watchdog armed for d: if f has not returned by then, the
// context is cancelled, which is what makes a request that f waits on give up.
func (w *Watchdog) Within(d time.Duration, f func() error) error {
	w.timer.Reset(d)
	defer w.timer.Stop()
	return f()
}

// Cause is why the context ended (the watchdog's cause, Stop's, or the parent's),
// or nil while it lives.
func (w *Watchdog) Cause() error {
	if w.ctx.Err() == nil {
		return nil
	}
	return context.Cause(w.ctx)
}

// Stop disarms the watchdog for good and cancels its context with cause.
func (w *Watchdog) Stop(cause error) {
	w.timer.Stop()
	w.cancel(cause)
}

// Reader reads a download's body with the watchdog armed for idle around each Read,
// so the bound is on the store's silence, never on a slow consumer. It is safe for
// a Close from another goroutine while a Read waits.
type Reader struct {
	dog  *Watchdog
	idle time.Duration
	body io.ReadCloser
	fail func(err, cause error) error

	mu     sync.Mutex
	err    error // sticky: once a read failed, every later one fails the same way
	closed bool
}

// NewReader guards body, whose requests run under dog's context. A clean io.EOF
// while that context lives ends the stream; any other error, and io.EOF after the
// context ended, goes through fail with the context's cause (nil if it lives) and
// is then what every later Read returns. fail adds what the backend knows: the
// key, the step, the HTTP status.
func NewReader(dog *Watchdog, idle time.Duration, body io.ReadCloser, fail func(err, cause error) error) *Reader {
	return &Reader{dog: dog, idle: idle, body: body, fail: fail}
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, r.fail(ErrClosed, nil)
	}
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	err := r.dog.Within(r.idle, func() (err error) {
		n, err = r.body.Read(p)
		return err
	})
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, io.EOF) && r.dog.Cause() == nil:
		return n, io.EOF
	}
	r.err = r.fail(err, r.dog.Cause())
	return n, r.err
}

// Close ends the download; a Read blocked in another goroutine returns an error.
func (r *Reader) Close() error {
	r.dog.Stop(ErrClosed) // first, without the lock, so a blocked Read gives up
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	return r.body.Close()
}
