package pipeline

// These tests run the pipeline's own save and restore (with keyParts from a plan)
// over a real local store and the fake daemon of memory_test.go: whose entries a
// build may restore, and how a corrupt entry gets replaced.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/local"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
)

// builds of the test: two repositories with a binary of the same name, the
// default branch and pull requests.
const (
	repoA = "https://example.com/team-a/service"
	repoB = "https://example.com/team-b/service"
)

var (
	mainRef = plan.Ref{Name: "refs/heads/main", Default: "refs/heads/main"}
	pr5     = plan.Ref{Name: "refs/pull/5", PR: true, Base: "refs/heads/main", Default: "refs/heads/main"}
	pr6     = plan.Ref{Name: "refs/pull/6", PR: true, Base: "refs/heads/main", Default: "refs/heads/main"}
)

// scopedParts are the key parts of a build of source at ref, with the env var
// RUSTFLAGS=flags (which changes the settings hash), as keyParts makes them.
func scopedParts(t *testing.T, source string, ref plan.Ref, flags string) cache.KeyParts {
	t.Helper()
	cfg := config.Defaults()
	cfg.Binary, cfg.Source, cfg.Cache.Backend = "app", t.TempDir(), config.CacheLocal
	cfg.Env = []string{"RUSTFLAGS=" + flags}
	pl := testPlan(t, cfg)
	pl.Source.Identity, pl.Ref = source, ref
	s := &cacheStage{logs: logs{Report: &memReport{}, Log: &strings.Builder{}}}
	return s.keyParts(pl, "x86_64-unknown-linux-musl", Toolchain{Release: "1.85.0", Key: "0123456789ab"})
}

// smallTrees are the state the fake daemon hands out for a save.
func smallTrees() map[string]*memTree {
	target, registry := &memTree{}, &memTree{}
	target.dir("target/")
	target.file("target/release/deps/libdep.rlib", 256<<10, 1)
	registry.dir("cargo/")
	registry.file("cargo/registry/cache/dep-1.0.0.crate", 64<<10, 2)
	return map[string]*memTree{"target": target, "cargo": registry}
}

// A local cache shared by two repositories and by pull requests: a build restores
// only its own source's entries, by its primary key or by prefix; a pull request
// restores its own, else the default branch's; the default branch and other pull
// requests never restore a pull request's.
func TestCacheScopes(t *testing.T) {
	t.Parallel()
	saves := []struct {
		source string
		ref    plan.Ref
		flags  string
	}{{repoA, mainRef, "s1"}, {repoA, pr5, "s2"}}
	tests := []struct {
		name   string
		source string
		ref    plan.Ref
		flags  string
		want   int // the index in saves whose target/ entry is restored; -1 none
		exact  bool
	}{
		{"the same source and branch", repoA, mainRef, "s1", 0, true},
		{"another source, same binary and settings", repoB, mainRef, "s1", -1, false},
		{"another source, by restore prefix", repoB, mainRef, "s3", -1, false},
		{"a pull request restores the default branch's", repoA, pr6, "s1", 0, true},
		{"a pull request restores its own first", repoA, pr5, "s2", 1, true},
		{"the default branch never restores a pull request's", repoA, mainRef, "s2", 0, false},
		{"nor does another pull request", repoA, pr6, "s2", 0, false},
		{"another source's pull request", repoB, pr5, "s2", -1, false},
	}
	store, err := local.New(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	d := newMemDaemon(t)
	d.trees = smallTrees()
	saved := make([]string, len(saves))
	for i, sv := range saves {
		parts := scopedParts(t, sv.source, sv.ref, sv.flags)
		p := d.pipeline(t, store, t.TempDir())
		p.save(t.Context(), memTmpImage, parts, nil, restored{})
		memNoWarnings(t, p)
		saved[i] = cache.Primary(cache.EntryTarget, parts)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parts := scopedParts(t, tc.source, tc.ref, tc.flags)
			p := d.pipeline(t, store, t.TempDir())
			found := p.restore(t.Context(), memBuilder, memTmpImage, parts, nil)
			memNoWarnings(t, p)
			want := ""
			if tc.want >= 0 {
				want = saved[tc.want]
			}
			if got := found.keys[cache.EntryTarget]; got != want {
				t.Errorf("restored target/ from %q, want %q", got, want)
			}
			if tc.want < 0 && len(found.keys) != 0 {
				t.Errorf("restored %v from another source's entries", found.keys)
			}
			if got := found.exact(parts); got != tc.exact {
				t.Errorf("exact hit %v, want %v", got, tc.exact)
			}
		})
	}
}

// An entry under the primary key that does not restore is not left to make every
// later build cold: the next build's save puts its state under a variant of the
// key, which the next restore takes first, as an exact hit.
func TestCorruptEntryReplaced(t *testing.T) {
	t.Parallel()
	cacheDir := t.TempDir()
	store, err := local.New(cacheDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	d := newMemDaemon(t)
	d.trees = smallTrees()
	parts := scopedParts(t, repoA, mainRef, "s1")
	primary := cache.Primary(cache.EntryTarget, parts)
	p := d.pipeline(t, store, t.TempDir())
	p.save(t.Context(), memTmpImage, parts, nil, restored{})
	memNoWarnings(t, p)

	// Cut the entry's archive short, keeping the store's header.
	file := filepath.Join(cacheDir, "k-"+cache.EscapeKey(primary))
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data[:len(data)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}

	// A fresh machine: the entry does not restore, the build goes on, and its save
	// leaves a good entry under a variant of the key.
	p = d.pipeline(t, store, t.TempDir())
	log := &strings.Builder{}
	p.Log = log
	found := p.restore(t.Context(), memBuilder, memTmpImage, parts, nil)
	if found.bad[cache.EntryTarget] != primary || found.keys[cache.EntryTarget] != "" {
		t.Fatalf("restore of the cut entry: found %v, bad %v; want %s bad", found.keys, found.bad, primary)
	}
	p.save(t.Context(), memTmpImage, parts, nil, found)
	if !strings.Contains(log.String(), "cache: saved "+primary+".") {
		t.Fatalf("the save did not leave a variant of %s:\n%s", primary, log)
	}

	// The machines after it restore the good entry, before the bad one.
	for i := range 2 {
		p = d.pipeline(t, store, t.TempDir())
		found = p.restore(t.Context(), memBuilder, memTmpImage, parts, nil)
		memNoWarnings(t, p)
		got := found.keys[cache.EntryTarget]
		if got == primary || !cache.IsVariantOf(got, primary) || !found.exact(parts) {
			t.Errorf("restore %d after the replacement: target/ from %q, want a variant of %s as an exact hit", i+3, got, primary)
		}
		log.Reset()
		p.Log = log
		p.save(t.Context(), memTmpImage, parts, nil, found)
		if strings.Contains(log.String(), "cache: saved") {
			t.Errorf("an exact hit was saved again:\n%s", log)
		}
	}
}
