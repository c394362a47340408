package cache

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// countingStore fails every call with err and counts the calls.
type countingStore struct {
	err   error
	calls int
}

func (c *countingStore) Load(context.Context, []string) (string, io.ReadCloser, error) {
	c.calls++
	return "", nil, c.err
}

func (c *countingStore) Save(context.Context, string, Blob) error {
	c.calls++
	return c.err
}

func TestBreaker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		err       error
		wantCalls int
	}{
		{"a failure stops later calls", errors.New("HTTP 503"), 1},
		{"misses are no failure", ErrNotFound, 4},
		{"existing keys are no failure", ErrExists, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inner := &countingStore{err: tc.err}
			b := Breaker(inner)
			ctx := context.Background()
			var last error
			for range 2 {
				_, _, last = b.Load(ctx, []string{"k"})
				if err := b.Save(ctx, "k", strings.NewReader("")); err != nil {
					last = err
				}
			}
			if inner.calls != tc.wantCalls {
				t.Errorf("inner store called %d times, want %d", inner.calls, tc.wantCalls)
			}
			if !errors.Is(last, tc.err) {
				t.Errorf("last error %v does not wrap %v", last, tc.err)
			}
		})
	}
}
