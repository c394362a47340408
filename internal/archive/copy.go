package archive

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"
)

// Copier passes tar streams on to one tar writer under extract's rules, without
// writing anything anywhere but that writer: it moves build state from one
// container to another (the daemon's archive API at both ends) with the checks an
// extraction on the host would make, so that no state planted by an earlier build
// lands outside the state's root in the next image. It keeps what it has passed on
// (across streams, since they share one root) in place of a file system to check
// against:
//
//   - names are cleaned as extract cleans them, and must be below the directory
//     the stream is of;
//   - symlinks pass checkSymlink, relative to the shared root;
//   - no entry lies below a name passed on as a symlink or a file, and none comes
//     twice (but for directories): the daemon would replace the first, and the
//     checks made on it would no longer hold;
//   - hard links name a regular file passed on earlier;
//   - devices, fifos and other special files are refused.
//
// What passes is rewritten: owned by the Owner, permission bits only, no extended
// attributes or other PAX records (file capabilities live there). A parent
// directory a stream leaves implicit is passed on first as a real directory.
type Copier struct {
	tw    *tar.Writer
	owner Owner
	kinds map[string]byte // each name passed on: tar.TypeDir, tar.TypeReg or tar.TypeSymlink
}

// NewCopier returns a Copier writing to tw, every entry owned by o.
func NewCopier(tw *tar.Writer, o Owner) *Copier {
	return &Copier{tw: tw, owner: o, kinds: map[string]byte{}}
}

// Copy passes the tar stream r on. r is a tar of the directory dir (a clean slash
// path relative to the root that the Copier's output is extracted in), as the
// daemon's archive API writes it: its names start with dir's last element. Each
// entry is passed on under dir's parent, and must be dir or below it ("." takes a
// stream of the whole root, as is). Errors name
// the entry and wrap errUnsafe where it was refused; what was passed on before
// then stays in tw, so the caller must discard the whole output.
func (c *Copier) Copy(r io.Reader, dir string) error {
	parent := path.Dir(dir)
	return EachEntry(r, func(hdr *tar.Header, content io.Reader) error {
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			return nil
		}
		if err := c.entry(hdr, content, parent, dir); err != nil {
			return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
		}
		return nil
	})
}

// entry checks one entry and passes it on.
func (c *Copier) entry(hdr *tar.Header, content io.Reader, parent, dir string) error {
	rel, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	name := path.Join(parent, rel)
	if name == "." {
		if hdr.Typeflag == tar.TypeDir {
			return nil // the root: the destination's, not the stream's
		}
		return fmt.Errorf("%w: names the destination itself", errUnsafe)
	}
	if dir != "." && name != dir && !strings.HasPrefix(name, dir+"/") {
		return fmt.Errorf("%w: outside %s", errUnsafe, dir)
	}
	if err := c.parents(name); err != nil {
		return err
	}
	if kind, seen := c.kinds[name]; seen && (kind != tar.TypeDir || hdr.Typeflag != tar.TypeDir) {
		return fmt.Errorf("%w: a second entry for the name", errUnsafe)
	}
	out := &tar.Header{
		Name: name, Typeflag: hdr.Typeflag, Mode: hdr.Mode & int64(fs.ModePerm), ModTime: hdr.ModTime,
		Uid: c.owner.UID, Gid: c.owner.GID, Format: tar.FormatPAX,
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		out.Name += "/"
	case tar.TypeReg:
		out.Size = hdr.Size
	case tar.TypeSymlink:
		if err := checkSymlink(name, hdr.Linkname); err != nil {
			return err
		}
		out.Linkname = hdr.Linkname
	case tar.TypeLink:
		t, err := cleanName(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hard link target %q: %w", hdr.Linkname, err)
		}
		if t = path.Join(parent, t); c.kinds[t] != tar.TypeReg {
			return fmt.Errorf("%w: hard link to %q, which is not a file passed on earlier", errUnsafe, hdr.Linkname)
		}
		out.Linkname = t
	default:
		return unsupported(hdr.Typeflag)
	}
	return c.pass(out, content)
}

// parents makes sure every directory above name is one: a name passed on as a
// directory, or one passed on now as a directory of its own.
func (c *Copier) parents(name string) error {
	dir := path.Dir(name)
	if dir == "." {
		return nil
	}
	switch kind, seen := c.kinds[dir]; {
	case !seen:
		if err := c.parents(dir); err != nil {
			return err
		}
		now := time.Now()
		hdr := &tar.Header{Name: dir + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now,
			Uid: c.owner.UID, Gid: c.owner.GID, Format: tar.FormatPAX}
		return c.pass(hdr, nil)
	case kind == tar.TypeSymlink:
		return fmt.Errorf("%w: path goes through symlink %q", errUnsafe, dir)
	case kind != tar.TypeDir:
		return fmt.Errorf("%w: path goes through non-directory %q", errUnsafe, dir)
	}
	return nil
}

// pass writes hdr, and content for a regular file, and remembers the name.
func (c *Copier) pass(hdr *tar.Header, content io.Reader) error {
	if err := c.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeReg {
		if _, err := io.Copy(c.tw, content); err != nil {
			return err
		}
	}
	kind := hdr.Typeflag
	if kind == tar.TypeLink {
		kind = tar.TypeReg // a second name of a regular file
	}
	c.kinds[strings.TrimSuffix(hdr.Name, "/")] = kind
	return nil
}
