package s3

import (
	"errors"
	"fmt"
	"io"
)

// sizedBody is an entry's GET body that knows the size the GET announced, so that
// a clean end before it is a truncation, not the end of the entry.
type sizedBody struct {
	io.ReadCloser
	size, off int64
}

func (b *sizedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.off += int64(n)
	if errors.Is(err, io.EOF) && b.off != b.size {
		err = fmt.Errorf("%w: got %d of %d bytes", io.ErrUnexpectedEOF, b.off, b.size)
	}
	return n, err
}

// readFailure is how a failed read of key's body reads: with the watchdog's or the
// caller's cause, when there is one.
func readFailure(key string) func(err, cause error) error {
	return func(err, cause error) error {
		if cause != nil {
			err = fmt.Errorf("%w (%v)", err, cause)
		}
		return fmt.Errorf("s3 cache: reading %s: %w", key, err)
	}
}
