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
func ReadFiles(r io.Reader, prefix string, names []string, max int64) (map[string][]byte, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	files := map[string][]byte{}
	err := EachEntry(r, func(h *tar.Header, content io.Reader) error {
		name := strings.TrimPrefix(h.Name, prefix)
		if h.Typeflag != tar.TypeReg || len(want) > 0 && !want[name] {
			return nil
		}
		data, err := io.ReadAll(io.LimitReader(content, max))
		if err != nil {
			return fmt.Errorf("reading %s: %w", h.Name, err)
		}
		files[name] = data
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, nil
}
