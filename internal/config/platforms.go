package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
)

// The platforms and oci-output settings: what a multi-platform build is asked
// for, checked here beside every other setting so that one run reports them all.
// An unknown platform is refused as it is read (see setting.set and platformFlag),
// with the supported ones listed; what depends on other settings is here.

// platformList is platforms as the platforms setting writes them:
// linux/amd64,linux/arm64.
func platformList(ps []platform.Platform) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.String()
	}
	return strings.Join(names, ",")
}

// validatePlatforms checks that target, when set beside platforms, names the one
// target they build (each platform has its own, see platform.Platform.Target),
// and that oci-output is a path one could mean.
func (c Config) validatePlatforms(name Naming) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &InputError{Name: name(field), Problem: fmt.Sprintf(format, args...)})
	}
	switch {
	case c.Target == "" || len(c.Platforms) == 0:
	case len(c.Platforms) > 1:
		var each []string
		for _, p := range c.Platforms {
			each = append(each, p.String()+": "+p.Target)
		}
		bad("target", "%s is one target, but %s %s are each built for their own (%s): leave %s unset",
			c.Target, name("platforms"), platformList(c.Platforms), strings.Join(each, ", "), name("target"))
	case c.Platforms[0].Target != c.Target:
		p := c.Platforms[0]
		bad("target", "%s contradicts %s %s, which is built for %s: leave %s unset, or set it to %s",
			c.Target, name("platforms"), p, p.Target, name("target"), p.Target)
	}
	switch f := c.OCIOutput; {
	case f == "":
	case strings.TrimSpace(f) == "":
		bad("oci-output", "is blank: name a directory, or leave it unset")
	case strings.ContainsAny(f, "\x00\r\n"):
		bad("oci-output", "%q holds a NUL or a line break", f)
	}
	return errs
}

// ociLayoutFile is the file that marks a directory as an OCI image layout.
const ociLayoutFile = "oci-layout"

// preflightOCIOutput checks the oci-output directory: missing (it is made),
// empty, or an OCI image layout (an earlier run's, whose index.json is then
// replaced). A file, or a directory holding anything else, is refused before
// the build rather than mixed with a layout's blobs after it.
func (c Config) preflightOCIOutput(name Naming) error {
	dir := c.OCIOutput
	if strings.TrimSpace(dir) == "" || strings.ContainsAny(dir, "\x00\r\n") {
		return nil // Validate has it
	}
	bad := func(format string, args ...any) error {
		return &InputError{Name: name("oci-output"), Problem: fmt.Sprintf(format, args...)}
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		if st, serr := os.Stat(dir); serr == nil && !st.IsDir() {
			return bad("%q is a file: name a directory", dir)
		}
		return bad("%q cannot be read: %v", dir, err)
	case len(entries) == 0:
		return nil
	}
	if st, err := os.Stat(filepath.Join(dir, ociLayoutFile)); err != nil || !st.Mode().IsRegular() {
		return bad("%q holds files and is no OCI image layout (it has no %s file): name a new or empty directory", dir, ociLayoutFile)
	}
	return nil
}
