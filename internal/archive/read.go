package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// errUnsafe marks an entry that extract refused because of where it would land or
// what it is. A cache can be written by anyone who can run a workflow in the
// repository, so its archives are treated as hostile.
var errUnsafe = errors.New("unsafe entry")

// ErrLimit marks an archive that exceeds its Limits: a decompression bomb, or state
// that has outgrown what the caller is willing to restore.
var ErrLimit = errors.New("over the archive limit")

// maxName bounds an entry name (Linux's PATH_MAX), so a name made of a million
// components cannot turn the per-component checks into a denial of service.
const maxName = 4096

// Limits bounds what extract writes, so a small hostile archive cannot fill the disk.
// A value <= 0 leaves that dimension unbounded.
type Limits struct {
	MaxBytes int64 // total content of regular files
	MaxFiles int   // entries of any kind
}

// extract reads a tar stream from r into dest, which must exist. It restores cache
// archives, which are untrusted, so nothing it does can touch a file outside dest:
//
//   - names that are absolute or have a ".." component are refused;
//   - symlinks are refused unless their target is relative and, read from the
//     link's directory, only goes up (..) before it goes down and never above dest,
//     which keeps it inside dest whatever other links it passes through;
//   - hard links must point to a regular file extracted earlier from this archive;
//   - no entry is ever created through a symlink, even one inside dest: every parent
//     must be a real directory, and an existing file or symlink in an entry's place
//     is removed, not written through;
//   - devices, fifos and other special files are refused.
//
// Permission bits (not setuid, setgid or sticky) and modification times are kept,
// since cargo decides what to rebuild by mtime; owners are not, since the build
// does not run as root. Errors name the entry and wrap errUnsafe or ErrLimit where
// those apply. extract stops at the first error and leaves what it has written so
// far: a caller restoring a cache discards dest and builds cold.
func extract(r io.Reader, dest string, lim Limits) error {
	// os.Root adds a second wall: even if a check below were wrong, the kernel-level
	// resolution it does cannot leave dest.
	root, err := os.OpenRoot(dest)
	if err != nil {
		return fmt.Errorf("extracting: %w", err)
	}
	defer root.Close()
	x := &extractor{
		root:  root,
		lim:   lim,
		dirs:  map[string]bool{".": true},
		files: map[string]bool{},
	}
	err = EachEntry(r, func(hdr *tar.Header, content io.Reader) error {
		if err := x.entry(hdr, content); err != nil {
			return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return x.finish()
}

type extractor struct {
	root  *os.Root
	lim   Limits
	bytes int64
	count int
	// dirs holds the paths known to be real directories, so the walk up each entry's
	// parents is done once per directory, not once per entry.
	dirs map[string]bool
	// files holds the regular files this archive created: the only valid targets for
	// hard links.
	files map[string]bool
	// dirMeta is applied at the end, so that a read-only directory can still be
	// filled and creating its children does not undo its mtime.
	dirMeta []dirMeta
}

type dirMeta struct {
	name  string
	mode  fs.FileMode
	mtime time.Time
}

func (x *extractor) entry(hdr *tar.Header, r io.Reader) error {
	x.count++
	if x.lim.MaxFiles > 0 && x.count > x.lim.MaxFiles {
		return fmt.Errorf("%w: more than %d entries", ErrLimit, x.lim.MaxFiles)
	}
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil // metadata for the archive; nothing to write
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "." && hdr.Typeflag != tar.TypeDir {
		return fmt.Errorf("%w: names the destination itself", errUnsafe)
	}
	mode := fs.FileMode(hdr.Mode) & fs.ModePerm
	switch hdr.Typeflag {
	case tar.TypeDir:
		if name == "." {
			return nil // the destination: its mode is the caller's choice, not the archive's
		}
		if err := x.mkdirs(name); err != nil {
			return err
		}
		x.dirMeta = append(x.dirMeta, dirMeta{name, mode, hdr.ModTime})
		return nil
	case tar.TypeReg:
		return x.file(name, mode, hdr, r)
	case tar.TypeSymlink:
		return x.symlink(name, hdr.Linkname)
	case tar.TypeLink:
		return x.hardlink(name, hdr.Linkname)
	default:
		return unsupported(hdr.Typeflag)
	}
}

// unsupported is the error for an entry of a type neither extraction nor copying
// passes on: devices, fifos and anything else that is no file, directory or link.
func unsupported(typ byte) error {
	switch typ {
	case tar.TypeChar, tar.TypeBlock:
		return fmt.Errorf("%w: device file", errUnsafe)
	case tar.TypeFifo:
		return fmt.Errorf("%w: fifo", errUnsafe)
	}
	return fmt.Errorf("%w: unsupported entry type %q", errUnsafe, typ)
}

func (x *extractor) file(name string, mode fs.FileMode, hdr *tar.Header, r io.Reader) error {
	// Checked against the header before writing anything, so a bomb fails at once
	// instead of after filling the disk up to the limit.
	if x.lim.MaxBytes > 0 && hdr.Size > x.lim.MaxBytes-x.bytes {
		return fmt.Errorf("%w: %d bytes would make more than %d in total", ErrLimit, hdr.Size, x.lim.MaxBytes)
	}
	if err := x.prepare(name); err != nil {
		return err
	}
	// O_EXCL: prepare removed whatever had this name, so an existing file here means
	// something raced us, and a symlink here must not be followed.
	f, err := x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, r)
	x.bytes += n
	if err == nil {
		err = f.Chmod(mode) // after creation, so the umask does not drop bits
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := x.root.Chtimes(name, hdr.ModTime, hdr.ModTime); err != nil {
		return err
	}
	x.files[name] = true
	return nil
}

func (x *extractor) symlink(name, target string) error {
	if err := checkSymlink(name, target); err != nil {
		return err
	}
	if err := x.prepare(name); err != nil {
		return err
	}
	return x.root.Symlink(target, name)
}

func (x *extractor) hardlink(name, target string) error {
	t, err := cleanName(target)
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", target, err)
	}
	if !x.files[t] {
		return fmt.Errorf("%w: hard link to %q, which is not a file extracted earlier", errUnsafe, target)
	}
	if t == name {
		return nil // a link to itself is already in place
	}
	// The name may since have been replaced by a symlink; linking that would give a
	// second name to whatever it points to.
	if fi, err := x.root.Lstat(t); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: hard link to %q, which is no longer a regular file", errUnsafe, target)
	}
	if err := x.prepare(name); err != nil {
		return err
	}
	if err := x.root.Link(t, name); err != nil {
		return err
	}
	x.files[name] = true
	return nil
}

// prepare makes name's parents exist as real directories and clears name itself,
// as tar does when an archive holds a name twice. A directory is never removed:
// that would undo earlier entries and the checks that relied on it.
func (x *extractor) prepare(name string) error {
	if err := x.mkdirs(path.Dir(name)); err != nil {
		return err
	}
	fi, err := x.root.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%w: would replace a directory", errUnsafe)
	}
	delete(x.files, name)
	return x.root.Remove(name)
}

// mkdirs makes dir and its parents real directories, refusing any component that
// is a symlink or a file: following a symlink here is how an archive would write
// outside dest, or into a place an earlier entry chose.
func (x *extractor) mkdirs(dir string) error {
	if x.dirs[dir] {
		return nil
	}
	if err := x.mkdirs(path.Dir(dir)); err != nil {
		return err
	}
	fi, err := x.root.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := x.root.Mkdir(dir, 0o755); err != nil {
			return err
		}
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: path goes through symlink %q", errUnsafe, dir)
	case !fi.IsDir():
		return fmt.Errorf("%w: path goes through non-directory %q", errUnsafe, dir)
	}
	x.dirs[dir] = true
	return nil
}

// finish sets directory modes and times, deepest first, so a directory made
// read-only does not stop its children from being set, whatever the entry order.
func (x *extractor) finish() error {
	slices.SortStableFunc(x.dirMeta, func(a, b dirMeta) int {
		return strings.Count(b.name, "/") - strings.Count(a.name, "/")
	})
	for _, d := range x.dirMeta {
		if err := x.root.Chmod(d.name, d.mode); err != nil {
			return fmt.Errorf("archive entry %q: %w", d.name, err)
		}
		if err := x.root.Chtimes(d.name, d.mtime, d.mtime); err != nil {
			return fmt.Errorf("archive entry %q: %w", d.name, err)
		}
	}
	return nil
}

// cleanName turns an entry name into a clean relative slash path ("." for dest
// itself), refusing anything that could leave dest.
func cleanName(name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("%w: empty name", errUnsafe)
	case len(name) > maxName:
		return "", fmt.Errorf("%w: name longer than %d bytes", errUnsafe, maxName)
	case strings.HasPrefix(name, "/"):
		return "", fmt.Errorf("%w: absolute path", errUnsafe)
	case strings.IndexByte(name, 0) >= 0:
		return "", fmt.Errorf("%w: NUL in name", errUnsafe)
	}
	var parts []string
	for p := range strings.SplitSeq(name, "/") {
		switch p {
		case "", ".":
		case "..":
			return "", fmt.Errorf("%w: %q component", errUnsafe, "..")
		default:
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return ".", nil
	}
	return strings.Join(parts, "/"), nil
}

// checkSymlink refuses a link at name (a clean path) whose target could resolve
// outside dest. Lexical cleaning is not enough: with d/s -> "..", the target
// "s/.." of d/x cleans to "d" but the kernel resolves it to dest's parent. So a
// target may climb only with leading ".." components, which the kernel resolves
// through the link's real parent directories, and at most as high as dest; the
// names after them only descend, into directories or links that passed this same
// check.
func checkSymlink(name, target string) error {
	switch {
	case target == "":
		return fmt.Errorf("%w: symlink with an empty target", errUnsafe)
	case len(target) > maxName:
		return fmt.Errorf("%w: symlink target longer than %d bytes", errUnsafe, maxName)
	case strings.HasPrefix(target, "/"):
		return fmt.Errorf("%w: symlink to absolute path %q", errUnsafe, target)
	case strings.IndexByte(target, 0) >= 0:
		return fmt.Errorf("%w: NUL in symlink target", errUnsafe)
	}
	depth := 0
	if dir := path.Dir(name); dir != "." {
		depth = strings.Count(dir, "/") + 1
	}
	descended := false
	for p := range strings.SplitSeq(target, "/") {
		switch p {
		case "", ".":
		case "..":
			if descended {
				return fmt.Errorf("%w: symlink to %q climbs after descending", errUnsafe, target)
			}
			depth--
			if depth < 0 {
				return fmt.Errorf("%w: symlink to %q leaves the destination", errUnsafe, target)
			}
		default:
			descended = true
		}
	}
	return nil
}
