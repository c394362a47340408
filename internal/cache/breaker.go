package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Breaker wraps s so that after its first failure (anything but ErrNotFound and
// ErrExists) every later call fails at once with that error. A dead, slow or
// refusing cache then costs one call's time bound per build, not one per entry and
// step.
func Breaker(s Store) Store {
	return &breaker{inner: s}
}

type breaker struct {
	inner Store
	mu    sync.Mutex
	err   error
}

func (b *breaker) tripped() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		return nil
	}
	return fmt.Errorf("skipped after an earlier failure: %w", b.err)
}

func (b *breaker) record(err error) {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrExists) {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
	}
}

func (b *breaker) Load(ctx context.Context, keys []string) (string, io.ReadCloser, error) {
	if err := b.tripped(); err != nil {
		return "", nil, err
	}
	key, rc, err := b.inner.Load(ctx, keys)
	b.record(err)
	return key, rc, err
}

func (b *breaker) Save(ctx context.Context, key string, blob Blob) error {
	if err := b.tripped(); err != nil {
		return err
	}
	err := b.inner.Save(ctx, key, blob)
	b.record(err)
	return err
}
