package s2i

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/openshift/source-to-image/pkg/api"
	"github.com/openshift/source-to-image/pkg/api/constants"
	"github.com/openshift/source-to-image/pkg/scm/git"
)

// localSource puts a local source directory where S2I uploads it from, in place of
// S2I's own copy, for two reasons. It keeps each file's modification time (a hard
// link shares it; a copy gets it set), so cargo sees unchanged files as unchanged
// and does not recompile the crate. And it leaves out the crate's own target/
// directory, which can be gigabytes of host build output the build never reads.
type localSource struct {
	dir string
}

// Download implements S2I's build.Downloader.
func (s localSource) Download(cfg *api.Config) (*git.SourceInfo, error) {
	cfg.WorkingSourceDir = filepath.Join(cfg.WorkingDir, constants.Source)
	if err := placeTree(s.dir, cfg.WorkingSourceDir); err != nil {
		return nil, fmt.Errorf("copying source %s: %w", s.dir, err)
	}
	return &git.SourceInfo{Location: s.dir}, nil
}

// placeTree links (or, across file systems, copies) every file of src into dst,
// keeping modes, times and symbolic links, and skipping src/target.
func placeTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel == "target" && d.IsDir() {
			return filepath.SkipDir
		}
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(to, info.Mode().Perm()|0o700)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case info.Mode().IsRegular():
			return linkOrCopy(p, to, info)
		default:
			return nil // sockets, fifos and devices are no source
		}
	})
}

func linkOrCopy(from, to string, info fs.FileInfo) error {
	err := os.Link(from, to)
	if err == nil || !errors.Is(err, syscall.EXDEV) && !errors.Is(err, syscall.EPERM) {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chtimes(to, info.ModTime(), info.ModTime())
}
