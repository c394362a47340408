// Package cachetest holds what the tests of every cache backend need, so that
// each backend's tests read the same way. Only tests import it.
package cachetest

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
)

// LoadAll loads keys from s and reads the whole content, closing it.
func LoadAll(ctx context.Context, s cache.Store, keys ...string) (matched string, content []byte, err error) {
	matched, rc, err := s.Load(ctx, keys)
	if err != nil {
		return "", nil, err
	}
	defer rc.Close()
	content, err = io.ReadAll(rc)
	return matched, content, err
}

// Scopes checks on s that the keys of cache.KeyParts keep sources and refs apart,
// through the store's own exact and prefix lookups: a build restores its own
// source's entries only, a pull request its own and then the default branch's, the
// default branch never a pull request's, and a variant of a primary key before the
// key itself. pause, called between saves, lets a store whose times are coarse
// (S3's are whole seconds) tell the order of saves; nil for none.
func Scopes(t *testing.T, s cache.Store, pause func()) {
	t.Helper()
	ctx := context.Background()
	const a, b, c = "https://example.com/a", "https://example.com/b", "https://example.com/c"
	parts := func(source string, refs []string, settings string) cache.KeyParts {
		p := cache.KeyParts{Prefix: "rs2i", Binary: "app", Target: "x86_64-unknown-linux-musl",
			Rustc: "1.85.0", Toolchain: "0123456789ab", Settings: settings}
		for _, r := range refs {
			p.Scopes = append(p.Scopes, cache.Scope(source, r))
		}
		return p
	}
	main, pr5, pr6 := []string{""}, []string{"refs/pull/5", ""}, []string{"refs/pull/6", ""}
	key := func(source string, refs []string, settings string) string {
		return cache.Primary(cache.EntryTarget, parts(source, refs, settings))
	}
	variant := cache.Variant(key(a, main, "s1"), time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	for _, k := range []string{key(a, main, "s1"), variant, key(a, pr5, "s2"), key(b, main, "s1")} {
		if err := s.Save(ctx, k, blob(k)); err != nil {
			t.Fatalf("saving %s: %v", k, err)
		}
		if pause != nil {
			pause()
		}
	}
	tests := []struct {
		name  string
		parts cache.KeyParts
		want  string // the key, or with under the scope, its start; "" for none
		under bool
	}{
		{"a variant before its primary key", parts(a, main, "s1"), variant, false},
		{"another source's primary key", parts(b, main, "s1"), key(b, main, "s1"), false},
		{"another source's own prefix", parts(b, main, "s9"), key(b, main, "s1"), false},
		{"no source's but its own", parts(c, main, "s1"), "", false},
		{"a pull request its own", parts(a, pr5, "s2"), key(a, pr5, "s2"), false},
		{"another pull request the default branch's", parts(a, pr6, "s2"), cache.Scope(a, "") + "-", true},
		{"the default branch never a pull request's", parts(a, main, "s2"), cache.Scope(a, "") + "-", true},
	}
	for _, tc := range tests {
		matched, content, err := LoadAll(ctx, s, cache.RestoreKeys(cache.EntryTarget, tc.parts)...)
		switch {
		case tc.want == "":
			if !errors.Is(err, cache.ErrNotFound) {
				t.Errorf("%s: Load = %q, %v; want cache.ErrNotFound", tc.name, matched, err)
			}
		case err != nil || string(content) != matched:
			t.Errorf("%s: Load = %q (%q), %v", tc.name, matched, content, err)
		case tc.under && !strings.HasPrefix(matched, tc.want), !tc.under && matched != tc.want:
			t.Errorf("%s: Load = %q, want %q", tc.name, matched, tc.want)
		}
	}
}

// blob is a cache.Blob of s.
func blob(s string) cache.Blob { return strings.NewReader(s) }
