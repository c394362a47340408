package tmpimage

import (
	"archive/tar"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
)

// Split reads what a build on BuildKit sends back of the build user's home (a
// tar, names relative to AppRoot) and does with it what Export and the files'
// collection do on the Docker Engine: each cache entry's directory goes to its
// writer in Entries, filtered as Export filters it, so that both engines save the
// same entries; the CollectedFiles in BinDir are kept in Files.
type Split struct {
	Own     []string             // the workspace's own names, left out of target/ (see Export)
	Collect []string             // names relative to BinDir (CollectedFiles)
	Entries map[string]io.Writer // the entries wanted, by name; each gets a whole tar
	Files   map[string][]byte    // what Read collected
}

// maxCollected bounds one collected file: a binary, or cargo's metadata.
const maxCollected = 1 << 30

// Read reads the tar r to its end. A stream cut short is an error, and then
// nothing written to Entries may be used.
func (s *Split) Read(r io.Reader) error {
	bin := strings.TrimPrefix(BinDir, AppRoot+"/")
	collect := map[string]bool{}
	for _, name := range s.Collect {
		collect[name] = true
	}
	type out struct {
		tw      *tar.Writer
		keep    func(string) bool
		dropped map[string]bool
	}
	outs := map[string]*out{}
	for entry, w := range s.Entries {
		dir, ok := entryDirs[entry]
		if !ok {
			return fmt.Errorf("unknown cache entry %q", entry)
		}
		o := &out{tw: tar.NewWriter(w), keep: func(string) bool { return true }, dropped: map[string]bool{}}
		if entry == cache.EntryTarget {
			o.keep = notOwn(s.Own)
		}
		outs[dir] = o
	}
	s.Files = map[string][]byte{}
	err := archive.EachEntry(r, func(hdr *tar.Header, content io.Reader) error {
		name := clean(hdr.Name)
		if name == "" {
			return nil
		}
		if rel, ok := strings.CutPrefix(name, bin+"/"); ok && collect[rel] && hdr.Typeflag == tar.TypeLink {
			// assemble links a multi-platform build's binary to its target's:
			// the tar holds the file once, under the name it came first.
			if data, ok := s.Files[strings.TrimPrefix(clean(hdr.Linkname), bin+"/")]; ok {
				s.Files[rel] = data
			}
			return nil
		}
		if rel, ok := strings.CutPrefix(name, bin+"/"); ok && collect[rel] && hdr.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(io.LimitReader(content, maxCollected+1))
			if err != nil {
				return err
			}
			if len(data) > maxCollected {
				return fmt.Errorf("%s: over %d bytes", name, maxCollected)
			}
			s.Files[rel] = data
			return nil
		}
		top, _, _ := strings.Cut(name, "/")
		o, ok := outs[top]
		if !ok {
			return nil
		}
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = clean(hdr.Linkname)
		}
		if !o.keep(name) || (hdr.Typeflag == tar.TypeLink && o.dropped[hdr.Linkname]) {
			o.dropped[name] = true
			return nil
		}
		hdr.Name = name
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if err := o.tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := io.Copy(o.tw, content)
		return err
	})
	if err != nil {
		return err
	}
	for _, o := range outs {
		if err := o.tw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// clean is a tar name as Export writes it: relative, without ./ or a trailing /.
func clean(name string) string {
	name = path.Clean("/" + name)
	return strings.TrimPrefix(name, "/")
}
