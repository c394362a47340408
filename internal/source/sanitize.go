package source

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Sanitize makes dir, a copy of a source that S2I is about to build from (in its
// working directory, never the user's checkout), hold only what the build may
// see. S2IConventions at its top are removed, whatever they are (a symbolic link
// is removed, not followed): Walk already leaves them out of a local directory's
// copy; a git clone or S2I's own copy gets them removed here. And the git config
// files in its .git lose their credentials (ScrubGitConfig), since .git goes into
// the -tmp image and the cache: actions/checkout persists its token in
// .git/config, and a clone of a URL with a token keeps that URL there.
func Sanitize(dir string) error {
	for _, name := range S2IConventions {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("removing %s from the copy of the source: %w", name, err)
		}
	}
	return scrubGitDir(dir)
}

// gitSkipped are the directories of a .git that hold no config: walking them
// (every object of a big repository) would be time for nothing.
var gitSkipped = map[string]bool{"objects": true, "refs": true, "logs": true, "lfs": true, "hooks": true}

// scrubGitDir scrubs every config (and config.worktree) file in dir/.git, the
// submodules' under .git/modules included. A .git that is a file (a worktree's
// or a submodule's pointer) holds no config.
func scrubGitDir(dir string) error {
	gitDir := filepath.Join(dir, ".git")
	if info, err := os.Lstat(gitDir); err != nil || !info.IsDir() {
		return nil
	}
	return filepath.WalkDir(gitDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && gitSkipped[d.Name()] && isGitDir(filepath.Dir(p)) {
			return filepath.SkipDir
		}
		if d.Name() != "config" && d.Name() != "config.worktree" || d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if err := scrubFile(dir, rel); err != nil {
			return fmt.Errorf("scrubbing %s in the copy of the source: %w", rel, err)
		}
		return nil
	})
}

// isGitDir reports whether dir is a repository's git directory (it has a HEAD),
// so that a submodule named "objects" is still walked.
func isGitDir(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, "HEAD"))
	return err == nil
}

// scrubFile replaces the git config file rel of the copy dir with its scrubbed
// text. It writes a new file and renames it over the old name, never into the
// file itself: the copy of a local source hard-links the user's files. A config
// that is not a regular file (a link out of the tree) is removed.
func scrubFile(dir, rel string) error {
	p := filepath.Join(dir, rel)
	data, err := ReadFile(dir, rel, MaxManifest)
	switch {
	case errors.Is(err, ErrNotRegular), errors.Is(err, ErrTooLarge):
		return os.Remove(p)
	case err != nil:
		return err
	}
	clean := ScrubGitConfig(data)
	if bytes.Equal(clean, data) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".scrubbed-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(clean)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
