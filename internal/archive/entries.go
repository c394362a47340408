package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"strings"
)

// EachEntry calls fn with each entry of the tar stream r and its content, in order,
// until the end of the stream or fn's first error, which it returns as it is. A read
// error names the entry before it, since a truncated or corrupt stream shows only
// there. Content fn leaves unread is skipped.
func EachEntry(r io.Reader, fn func(h *tar.Header, content io.Reader) error) error {
	tr := tar.NewReader(r)
	last := ""
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if last == "" {
				return fmt.Errorf("reading archive: %w", err)
			}
			return fmt.Errorf("reading archive after entry %q: %w", last, err)
		}
		last = h.Name
		if err := fn(h, tr); err != nil {
			return err
		}
	}
}

// ReadFiles reads regular files of the tar stream r into memory, by their names
// with prefix cut off where they have it: those of names, or every one when names
// is empty. It reads at most max bytes of each, so a huge entry cannot exhaust memory.
// A name it does not find is missing from the result.
//
// A hard link to a file read before it reads as that file: tar writes the second
// name of a file as a link to the first (assemble hands a multi-platform build's
// primary binary over under two names). A link to a file not read is missing.
func ReadFiles(r io.Reader, prefix string, names []string, max int64) (map[string][]byte, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	files := map[string][]byte{}
	byEntry := map[string][]byte{} // what was read, by the entry's own name, for links
	err := EachEntry(r, func(h *tar.Header, content io.Reader) error {
		name := strings.TrimPrefix(h.Name, prefix)
		if len(want) > 0 && !want[name] {
			return nil
		}
		switch h.Typeflag {
		case tar.TypeReg:
			data, err := io.ReadAll(io.LimitReader(content, max))
			if err != nil {
				return fmt.Errorf("reading %s: %w", h.Name, err)
			}
			files[name], byEntry[h.Name] = data, data
		case tar.TypeLink:
			if data, ok := byEntry[h.Linkname]; ok {
				files[name], byEntry[h.Name] = data, data
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, nil
}
