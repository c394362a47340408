package s3

// Faults a real store does not make on demand, from a fake on loopback: 503
// SlowDown, a body cut short, a body that stops, a server that never answers.
// Everything else is tested against SeaweedFS.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/cachetest"
)

// fakeStore is a Store over a fake S3 server that h answers; requests counts what
// reached it.
func fakeStore(t *testing.T, timeout time.Duration, h http.HandlerFunc) (*Store, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		select {
		case <-done:
			return
		default:
		}
		h(w, r)
	}))
	t.Cleanup(func() {
		close(done)
		srv.CloseClientConnections()
		srv.Close()
	})
	s, err := New(Config{Bucket: "fake", Endpoint: srv.URL, AccessKey: "a", SecretKey: "s", Timeout: timeout}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	return s, &requests
}

// objectHeaders starts a 200 answer to a GET of an object of size bytes, with
// what minio-go insists on reading.
func objectHeaders(w http.ResponseWriter, size int) {
	w.Header().Set("Content-Length", strconv.Itoa(size))
	w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
	w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
	w.WriteHeader(http.StatusOK)
}

const slowDown = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>1</RequestId></Error>`

// A store that answers 503 SlowDown to everything costs a few retries and an
// error, never a hang, and Breaker then stops asking.
func TestSlowDown(t *testing.T) {
	t.Parallel()
	s, requests := fakeStore(t, 10*time.Second, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, slowDown)
	})
	start := time.Now()
	b := cache.Breaker(s)
	_, _, err := b.Load(context.Background(), []string{"k", "k-"})
	if err == nil || errors.Is(err, cache.ErrNotFound) || !strings.Contains(err.Error(), "reduce your request rate") {
		t.Fatalf("load: %v, want the SlowDown error", err)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("load took %v", d)
	}
	if n := requests.Load(); n > maxRetries {
		t.Errorf("%d requests for one GET, want at most %d", n, maxRetries)
	}
	if err := b.Save(context.Background(), "k", blobOf([]byte("x"))); err == nil {
		t.Error("save after the breaker tripped: want an error")
	}
	if n := requests.Load(); n > maxRetries {
		t.Errorf("the breaker let %d requests through", n)
	}
}

// A body cut short (the connection closes before Content-Length bytes) is a read
// error, never a clean end of a shorter entry.
func TestTruncatedBody(t *testing.T) {
	t.Parallel()
	s, _ := fakeStore(t, 10*time.Second, func(w http.ResponseWriter, r *http.Request) {
		objectHeaders(w, 1000)
		io.WriteString(w, strings.Repeat("x", 400))
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	_, got, err := cachetest.LoadAll(context.Background(), s, "k")
	if err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("got %d bytes, %v; want a read error", len(got), err)
	}
}

// A body that stops coming fails after the idle bound, and so does a server that
// accepts the request and never answers.
func TestStalls(t *testing.T) {
	t.Parallel()
	t.Run("body", func(t *testing.T) {
		t.Parallel()
		s, _ := fakeStore(t, 300*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
			objectHeaders(w, 1000)
			io.WriteString(w, "head")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		})
		_, rc, err := s.Load(context.Background(), []string{"k"})
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		start := time.Now()
		_, err = io.ReadAll(rc)
		if err == nil || !strings.Contains(err.Error(), "no answer for") {
			t.Errorf("read: %v, want the stall named", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the stalled read took %v", d)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		t.Parallel()
		s, _ := fakeStore(t, 300*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		})
		start := time.Now()
		if _, _, err := s.Load(context.Background(), []string{"k", "k-"}); err == nil || errors.Is(err, cache.ErrNotFound) {
			t.Errorf("load: %v, want a timeout", err)
		}
		if err := s.Save(context.Background(), "k", blobOf([]byte("x"))); err == nil {
			t.Error("save: want a timeout")
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("load and save took %v", d)
		}
	})
}
