// Package hack holds the scripts that make the test world; this test keeps them
// from writing a package mirror's host name into an image's apt sources.
package hack

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The toolchain image names no mirror of its own: its security mirror is derived
// from the Debian image's sources, which debootstrap wrote from the host's mirror,
// so a machine behind a local mirror uses that one throughout.
func TestToolchainImageNamesNoMirror(t *testing.T) {
	t.Parallel()
	url := regexp.MustCompile(`https?://`)
	data, err := os.ReadFile("rust-musl/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if url.MatchString(line) && !strings.HasPrefix(strings.TrimSpace(line), "#") {
			t.Errorf("rust-musl/Dockerfile:%d names a mirror: %s", i+1, strings.TrimSpace(line))
		}
	}
}
