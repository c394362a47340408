package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/cachetest"
)

// An entry comes back whole, as one PUT and as a multipart upload, and a key is
// written once.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s, admin, cfg := newStore(t, func(c *Config) { c.PartSize = minPartSize })
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		size int
	}{{"empty", 0}, {"one put", 1000}, {"three parts", 2*minPartSize + 12345}} {
		t.Run(tc.name, func(t *testing.T) {
			key := "rust-s2i-musl-target-hello-" + tc.name
			data := pattern(byte(tc.size), tc.size)
			if err := s.Save(ctx, key, blobOf(data)); err != nil {
				t.Fatal(err)
			}
			matched, got, err := cachetest.LoadAll(ctx, s, key)
			if err != nil || matched != key || !bytes.Equal(got, data) {
				t.Fatalf("load: matched %q, %d bytes, %v; want %q, %d bytes", matched, len(got), err, key, len(data))
			}
			if err := s.Save(ctx, key, blobOf(pattern(1, 10))); !errors.Is(err, cache.ErrExists) {
				t.Errorf("second save: %v, want cache.ErrExists", err)
			}
			if _, got, _ := cachetest.LoadAll(ctx, s, key); !bytes.Equal(got, data) {
				t.Error("the second save changed the entry")
			}
		})
	}
	if got := objects(t, admin, cfg.Bucket); len(got) != 3 {
		t.Errorf("bucket holds %q, want three entries", got)
	}
}

// The restore-keys rule: the exact key, else the newest entry under the first
// prefix that has one, then the next prefix.
func TestLoadFallsBack(t *testing.T) {
	t.Parallel()
	s, admin, cfg := newStore(t, nil)
	ctx := context.Background()
	save := func(key string) {
		t.Helper()
		if err := s.Save(ctx, key, blobOf([]byte(key))); err != nil {
			t.Fatal(err)
		}
	}
	// S3 times have a resolution of one second. b-2 is older than b-1 but
	// sorts after it, so only the time can pick b-1.
	save("p-b-2")
	save("p-a-1")
	time.Sleep(1100 * time.Millisecond)
	save("p-b-1")
	// Objects under the root that no key maps to, and outside it, are not entries.
	for _, name := range []string{Root + "p-b-%zz", "p-b-9", Root + "p-b-/x"} {
		if _, err := admin.PutObject(ctx, cfg.Bucket, name, bytes.NewReader([]byte("x")), 1, "", "", minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		keys []string
		want string // "" means cache.ErrNotFound
	}{
		{[]string{"p-a-1", "p-b-"}, "p-a-1"},
		{[]string{"p-a-9", "p-b-"}, "p-b-1"},
		{[]string{"p-a-9", "p-c-", "p-a-"}, "p-a-1"},
		{[]string{"p-a-9", "p-"}, "p-b-1"},
		{[]string{"p-a-9", "p-c-"}, ""},
		{[]string{"p-b-"}, ""}, // the first key is never a prefix
	} {
		matched, got, err := cachetest.LoadAll(ctx, s, tc.keys...)
		switch {
		case tc.want == "" && !errors.Is(err, cache.ErrNotFound):
			t.Errorf("Load(%q) = %q, %v; want cache.ErrNotFound", tc.keys, matched, err)
		case tc.want != "" && (err != nil || matched != tc.want || string(got) != tc.want):
			t.Errorf("Load(%q) = %q (%q), %v; want %q", tc.keys, matched, got, err, tc.want)
		}
	}
}

// Keys with bytes that S3 stores or SeaweedFS's file tree would treat specially
// are stored escaped under the root, and prefixes still match.
func TestOddKeys(t *testing.T) {
	t.Parallel()
	s, admin, cfg := newStore(t, nil)
	ctx := context.Background()
	keys := []string{"team/a//b-1", "team/a/../b-1", "100%-é ~x-1", "/lead"}
	for _, k := range keys {
		if err := s.Save(ctx, k, blobOf([]byte(k))); err != nil {
			t.Fatalf("save %q: %v", k, err)
		}
		if matched, got, err := cachetest.LoadAll(ctx, s, "none", k[:len(k)-1]); err != nil || matched != k || string(got) != k {
			t.Errorf("Load by prefix %q = %q, %q, %v", k[:len(k)-1], matched, got, err)
		}
	}
	for _, name := range objects(t, admin, cfg.Bucket) {
		if k, ok := keyOf(name); !ok || !slices.Contains(keys, k) {
			t.Errorf("object %q is not an escaped key under %s", name, Root)
		}
	}
}

// The write itself is conditional (If-None-Match: *), on the single PUT and on the
// completion of a multipart upload: a key taken after Save looked is not
// overwritten.
func TestConditionalWrite(t *testing.T) {
	t.Parallel()
	s, _, _ := newStore(t, func(c *Config) { c.PartSize = minPartSize })
	ctx := context.Background()
	for _, size := range []int{100, minPartSize + 1} {
		key := fmt.Sprintf("k-%d", size)
		first := pattern(1, size)
		if err := s.Save(ctx, key, blobOf(first)); err != nil {
			t.Fatal(err)
		}
		// write skips Save's lookup, as a racing agent that looked first would.
		if err := s.write(ctx, key, blobOf(pattern(2, size))); !errors.Is(err, cache.ErrExists) {
			t.Errorf("size %d: the conditional write over a taken key gave %v, want cache.ErrExists", size, err)
		}
		if _, got, err := cachetest.LoadAll(ctx, s, key); err != nil || !bytes.Equal(got, first) {
			t.Errorf("size %d: the entry changed (%v)", size, err)
		}
	}
}

// Agents racing for one key: exactly one writes it, the others get ErrExists, and
// the entry is the winner's.
func TestConcurrentSaves(t *testing.T) {
	t.Parallel()
	_, admin, cfg := newStore(t, func(c *Config) { c.PartSize = minPartSize })
	ctx := context.Background()
	const agents = 4
	var wg sync.WaitGroup
	errs := make([]error, agents)
	for i := range agents {
		s, err := New(cfg, noEnv)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { errs[i] = s.Save(ctx, "race", blobOf(pattern(byte(i), minPartSize+100))) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("agents %d and %d both wrote the key", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, cache.ErrExists):
			t.Errorf("agent %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no agent wrote the key")
	}
	s, _ := New(cfg, noEnv)
	if _, got, err := cachetest.LoadAll(ctx, s, "race"); err != nil || !bytes.Equal(got, pattern(byte(winner), minPartSize+100)) {
		t.Errorf("the entry is not the winner's (%v)", err)
	}
	if got := objects(t, admin, cfg.Bucket); len(got) != 1 {
		t.Errorf("bucket holds %q", got)
	}
}

// One bucket shared by repositories and pull requests keeps each one's entries to
// itself, by the keys' scopes (see cache.KeyParts), and puts a variant of a
// primary key before the key. S3 times have a resolution of one second.
func TestScopes(t *testing.T) {
	t.Parallel()
	s, _, _ := newStore(t, nil)
	cachetest.Scopes(t, s, func() { time.Sleep(1100 * time.Millisecond) })
}
