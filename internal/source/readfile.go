package source

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNotRegular is a file of the source that the tool will not read: a symbolic
// link (even to a file inside the tree: the tool reads what the tree holds, not
// what a link makes of it), a device, a fifo or a directory.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is a file of the source larger than its reader's bound.
var ErrTooLarge = errors.New("file too large")

// MaxManifest bounds the small text files the tool reads from a source
// (Cargo.toml, Cargo.lock, rust-toolchain, git's HEAD and config): far above any
// real one, far below what would hurt a runner's memory.
const MaxManifest = 32 << 20

// ReadFile reads the file rel (a path relative to root) of a source, which is
// untrusted input: a Cargo.toml that is a symbolic link to /dev/zero, or to a
// file outside the tree, must neither hang the tool nor read the host. The file
// must be a regular file inside root, reached without leaving it (os.Root), and
// at most max bytes long; errors wrap ErrNotRegular, ErrTooLarge, or
// fs.ErrNotExist for a missing file.
func ReadFile(root, rel string, max int64) ([]byte, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(root, rel), err)
	}
	defer r.Close()
	data, err := readIn(r, rel, max)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(root, rel), err)
	}
	return data, nil
}

// readIn is ReadFile within an open root.
func readIn(r *os.Root, rel string, max int64) ([]byte, error) {
	// Lstat first: opening a fifo would block, and a link must not be followed.
	info, err := r.Lstat(rel)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s", ErrNotRegular, kind(info.Mode()))
	}
	f, err := r.OpenFile(rel, os.O_RDONLY|syscallNoFollow, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Checked again on what was opened: the name may have changed in between.
	if info, err = f.Stat(); err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s", ErrNotRegular, kind(info.Mode()))
	}
	if info.Size() > max {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, info.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return data, nil
}

// kind names what a file that is not regular is, for an error message.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeNamedPipe != 0:
		return "a fifo"
	default:
		return "a special file"
	}
}
