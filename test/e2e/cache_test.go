package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// The real win: on a "fresh machine" (no -tmp image in the daemon) the cache brings
// the build state back, so no dependency compiles again, and the restored cargo home
// lets the build run with its network off and its git dependency gone.
func TestCacheRestoresOnFreshMachine(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := withGitDep(t)
	final, tmp := names(t)
	cacheDir := t.TempDir()
	r := mustBuild(t, src, "gitdep", final, tmp, "--cache", "local", "--cache-dir", cacheDir)
	if !strings.Contains(r.stderr, "Compiling greet") {
		t.Fatalf("the first build did not compile the dependency:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "cache-hit=false") {
		t.Errorf("first build: want cache-hit=false:\n%s", r.stdout)
	}

	// The entries hold build state only, never the builder's layers (over 1 GB here).
	var total int64
	entries, _ := filepath.Glob(filepath.Join(cacheDir, "k-*"))
	for _, e := range entries {
		if st, err := os.Stat(e); err == nil {
			total += st.Size()
		}
	}
	if len(entries) != 2 || total > 64<<20 {
		t.Errorf("want two small entries, got %d files of %d bytes in all", len(entries), total)
	}

	// A fresh machine: no -tmp image, and the dependency's repository is gone.
	if out, err := command("docker", "rmi", "-f", tmp); err != nil {
		t.Fatalf("removing %s: %v\n%s", tmp, err, out)
	}
	if err := os.RemoveAll(filepath.Join(src, "vendor")); err != nil {
		t.Fatal(err)
	}
	r = mustBuild(t, src, "gitdep", final, tmp, "--cache", "local", "--cache-dir", cacheDir, "--network", "none")
	if strings.Contains(r.stderr, "Compiling greet") {
		t.Errorf("the restored build compiled the dependency again:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "Compiling gitdep") {
		t.Errorf("the workspace crate should be rebuilt from source (it is not cached):\n%s", r.stderr)
	}
	// The key starts with the source's scope (see cache.KeyParts), then the prefix.
	if !strings.Contains(r.stdout, "cache-hit=true") || !regexp.MustCompile(`cache-matched-key=\S+-rust-s2i-musl-target-gitdep-`).MatchString(r.stdout) {
		t.Errorf("outputs lack cache-hit=true or a target/ key of gitdep:\n%s", r.stdout)
	}
	if got := runImage(t, final); !strings.Contains(got, "greetings, gitdep") {
		t.Errorf("image printed %q", got)
	}
}

// A corrupt cache entry costs a warning and a cold build, never a failed build or a
// wrong binary, and only once: the next machine restores the replacement.
func TestCorruptCacheEntry(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("hello"))
	final, tmp := names(t)
	cacheDir := t.TempDir()
	mustBuild(t, src, "hello", final, tmp, "--cache", "local", "--cache-dir", cacheDir)

	entries, err := filepath.Glob(filepath.Join(cacheDir, "*target*"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("want one target entry in %s, got %v (%v)", cacheDir, entries, err)
	}
	data, err := os.ReadFile(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	// Keep the entry's header and cut its archive in the middle.
	if err := os.WriteFile(entries[0], data[:len(data)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "src", "main.rs"), []byte("fn main() {\n    println!(\"after corruption\");\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := command("docker", "rmi", "-f", tmp); err != nil {
		t.Fatalf("removing %s: %v\n%s", tmp, err, out)
	}
	r := mustBuild(t, src, "hello", final, tmp, "--cache", "local", "--cache-dir", cacheDir)
	if !strings.Contains(r.stderr, "warning: cache entry target not restored") {
		t.Errorf("no warning about the corrupt entry:\n%s", r.stderr)
	}
	if got := runImage(t, final); !strings.Contains(got, "after corruption") {
		t.Errorf("image printed %q", got)
	}

	// The corrupt entry cannot be replaced (entries are immutable), but the build
	// left its state under a variant of the key, which the next fresh machine
	// restores first.
	if !strings.Contains(r.stderr, "did not restore, saving its state anew") {
		t.Errorf("the build after the corrupt entry did not save a replacement:\n%s", r.stderr)
	}
	if out, err := command("docker", "rmi", "-f", tmp); err != nil {
		t.Fatalf("removing %s: %v\n%s", tmp, err, out)
	}
	r = mustBuild(t, src, "hello", final, tmp, "--cache", "local", "--cache-dir", cacheDir)
	if strings.Contains(r.stderr, "warning:") || !strings.Contains(r.stdout, "cache-hit=true") {
		t.Errorf("the next fresh machine did not restore the replacement as an exact hit:\n%s", r)
	}
}

// Two builds of different binaries sharing one local cache directory at once both
// succeed, and each leaves complete entries.
func TestLocalCacheShared(t *testing.T) {
	needDocker(t)
	t.Parallel()
	cacheDir := t.TempDir()
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i, bin := range []string{"api", "worker"} {
		final, tmp := names(t)
		final, tmp = final+"-"+bin, tmp+"-"+bin
		t.Cleanup(func() { command("docker", "rmi", "-f", final, tmp) })
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runCmd(t, nil, buildArgs(crate("workspace"), bin, final, tmp, "--cache", "local", "--cache-dir", cacheDir)...)
			if results[i].code == 0 {
				if got := runImage(t, final); !strings.Contains(got, "this is "+bin) {
					t.Errorf("%s image printed %q", bin, got)
				}
			}
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("build %d failed:\n%s", i, r)
		}
		if strings.Contains(r.stderr, "warning:") {
			t.Errorf("build %d warned:\n%s", i, r.stderr)
		}
	}
	for _, bin := range []string{"api", "worker"} {
		for _, entry := range []string{"registry", "target"} {
			m, _ := filepath.Glob(filepath.Join(cacheDir, "*"+entry+"-"+bin+"-*"))
			if len(m) != 1 {
				t.Errorf("want one %s entry for %s, got %v", entry, bin, m)
			}
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(cacheDir, "*tmp*")); len(leftovers) > 0 {
		t.Errorf("temporary files left in the cache: %v", leftovers)
	}
}

// A disk that fills up while restoring costs a warning and a cold build.
func TestDiskFullWhileRestoring(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := copyTree(t, crate("hello"))
	final, tmp := names(t)
	cacheDir := t.TempDir()
	mustBuild(t, src, "hello", final, tmp, "--cache", "local", "--cache-dir", cacheDir)
	if out, err := command("docker", "rmi", "-f", tmp); err != nil {
		t.Fatalf("removing %s: %v\n%s", tmp, err, out)
	}

	full := t.TempDir()
	// Mounting needs root: the tests run as root or with passwordless sudo. The
	// tmpfs is world-writable (1777), so the build may write to it as any user.
	if out, err := asRoot("mount", "-t", "tmpfs", "-o", "size=4k,mode=1777", "tmpfs", full); err != nil {
		t.Fatalf("mounting a small tmpfs: %v\n%s", err, out)
	}
	t.Cleanup(func() { asRoot("umount", full) })
	r := runCmd(t, []string{"RUNNER_TEMP=" + full}, buildArgs(src, "hello", final, tmp, "--cache", "local", "--cache-dir", cacheDir)...)
	if r.code != 0 {
		t.Fatalf("a full disk failed the build:\n%s", r)
	}
	if !strings.Contains(r.stderr, "no space left on device") || !strings.Contains(r.stderr, "warning: cache entry") {
		t.Errorf("no warning naming the full disk:\n%s", r.stderr)
	}
	if got := runImage(t, final); !strings.Contains(got, "Hello, world!") {
		t.Errorf("image printed %q", got)
	}
}
