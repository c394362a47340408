package stall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

var errStalled = errors.New("stalled")

// body is a download's body that sends what is written to w and, like an HTTP
// body, gives up with the cause when its request's context ends.
type body struct {
	ctx    context.Context
	pr     *io.PipeReader
	closed bool
}

func (b *body) Read(p []byte) (int, error) {
	type result struct {
		n   int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		n, err := b.pr.Read(p)
		ch <- result{n, err}
	}()
	select {
	case r := <-ch:
		return r.n, r.err
	case <-b.ctx.Done():
		b.pr.CloseWithError(b.ctx.Err())
		return 0, b.ctx.Err()
	}
}

func (b *body) Close() error {
	b.closed = true
	return b.pr.Close()
}

// open starts a guarded download whose body is what the test writes to w.
func open(t *testing.T, idle time.Duration) (*Reader, *io.PipeWriter, *body) {
	t.Helper()
	dog := NewWatchdog(context.Background(), errStalled)
	pr, pw := io.Pipe()
	b := &body{ctx: dog.Context(), pr: pr}
	fail := func(err, cause error) error {
		if cause != nil {
			return fmt.Errorf("reading k: %w (%w)", err, cause)
		}
		return fmt.Errorf("reading k: %w", err)
	}
	r := NewReader(dog, idle, b, fail)
	t.Cleanup(func() { r.Close() })
	return r, pw, b
}

func TestReadsToEOF(t *testing.T) {
	t.Parallel()
	r, w, _ := open(t, time.Minute)
	go func() {
		io.WriteString(w, "hello")
		w.Close()
	}()
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "hello" {
		t.Fatalf("got %q, %v; want hello", got, err)
	}
}

// A slow consumer is not a stalled store: the bound is armed only inside Read.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	r, w, _ := open(t, 50*time.Millisecond)
	go func() {
		io.WriteString(w, "a")
		io.WriteString(w, "b")
		w.Close()
	}()
	buf := make([]byte, 1)
	if _, err := r.Read(buf); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	rest, err := io.ReadAll(r)
	if err != nil || string(rest) != "b" {
		t.Fatalf("got %q, %v after a pause; want b", rest, err)
	}
}

// A body that stops sending fails after idle, with the cause named, and every
// later Read fails the same way.
func TestStall(t *testing.T) {
	t.Parallel()
	r, w, _ := open(t, 100*time.Millisecond)
	go io.WriteString(w, "head")
	start := time.Now()
	got, err := io.ReadAll(r)
	if string(got) != "head" || !errors.Is(err, errStalled) || !strings.HasPrefix(err.Error(), "reading k: ") {
		t.Fatalf("got %q, %v; want head, then the stall", got, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the stalled read took %v", d)
	}
	if _, again := r.Read(make([]byte, 1)); again != err {
		t.Errorf("second read gave %v, want the first error again", again)
	}
}

// Closing from another goroutine ends a Read that waits for data, with an error
// rather than io.EOF; so does any Read after Close.
func TestCloseStopsBlockedRead(t *testing.T) {
	t.Parallel()
	r, _, b := open(t, time.Minute)
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		time.Sleep(100 * time.Millisecond)
		r.Close()
	}()
	_, err := r.Read(make([]byte, 1))
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked read gave %v, want ErrClosed", err)
	}
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("read after close gave %v, want ErrClosed", err)
	}
	<-closed
	if !b.closed {
		t.Error("Close left the body open")
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A clean EOF after the context ended is no end of the entry: the parent's
// cancellation is an error.
func TestEOFAfterCancelIsAnError(t *testing.T) {
	t.Parallel()
	parent, cancel := context.WithCancel(context.Background())
	dog := NewWatchdog(parent, errStalled)
	cancel()
	r := NewReader(dog, time.Minute, io.NopCloser(strings.NewReader("")), func(err, cause error) error {
		return fmt.Errorf("%w (%w)", err, cause)
	})
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want the cancellation", err)
	}
}

// Within bounds one wait, such as a lookup, with the watchdog's cause.
func TestWithin(t *testing.T) {
	t.Parallel()
	dog := NewWatchdog(context.Background(), errStalled)
	err := dog.Within(50*time.Millisecond, func() error {
		<-dog.Context().Done()
		return dog.Context().Err()
	})
	if !errors.Is(err, context.Canceled) || !errors.Is(dog.Cause(), errStalled) {
		t.Errorf("got %v, cause %v; want a cancellation caused by the stall", err, dog.Cause())
	}
}
