package gha

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nektos/act/pkg/artifactcache"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
)

// TestV1AgainstAct saves and restores through nektos/act's cache server, a real
// protocol v1 server, in process on loopback.
func TestV1AgainstAct(t *testing.T) {
	t.Parallel()
	h, err := artifactcache.StartHandler(t.TempDir(), "", "127.0.0.1", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	token := testToken(t)
	s := newTestStore(t, "", h.ExternalURL(), token, 30*time.Second)
	if s.ep.protocol != "v1" {
		t.Fatalf("protocol %s, want v1 on GHES", s.ep.protocol)
	}
	ctx := context.Background()

	// act lowercases keys, so the test keys are lower case.
	registry := randomBytes(t, 3<<20+17) // not a multiple of anything
	target := randomBytes(t, 100<<10)
	if err := s.Save(ctx, "registry-linux-abc", newBlob(registry)); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "registry-linux-abcdef", newBlob(target)); err != nil {
		t.Fatal(err)
	}

	tests := []loadCase{
		{name: "exact", keys: []string{"registry-linux-abcdef"}, key: "registry-linux-abcdef", want: target},
		{name: "exact beats a longer key with that prefix", keys: []string{"registry-linux-abc", "registry-"}, key: "registry-linux-abc", want: registry},
		{name: "restore prefix", keys: []string{"registry-linux-zzz", "registry-linux-abcd"}, key: "registry-linux-abcdef", want: target},
		{name: "second restore prefix", keys: []string{"x-1", "x-", "registry-linux-abcde"}, key: "registry-linux-abcdef", want: target},
	}
	checkLoads(t, s, tests)

	t.Run("miss", func(t *testing.T) {
		t.Parallel()
		_, rc, err := s.Load(ctx, []string{"nothing-1", "nothing-"})
		if !errors.Is(err, cache.ErrNotFound) {
			t.Fatalf("got %v, want cache.ErrNotFound", err)
		}
		if rc != nil {
			t.Error("a miss returned content")
		}
	})
}
