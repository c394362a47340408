package source

import (
	"fmt"
	"os"
	"path/filepath"
)

// Sanitize makes dir, a copy of a source that S2I is about to build from (in its
// working directory, never the user's checkout), hold only what the build may
// see: S2IConventions at its top are removed, whatever they are (a symbolic link
// is removed, not followed). Walk already leaves them out of a local directory's
// copy; a git clone or S2I's own copy gets them removed here.
func Sanitize(dir string) error {
	for _, name := range S2IConventions {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("removing %s from the copy of the source: %w", name, err)
		}
	}
	return nil
}
