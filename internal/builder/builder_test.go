package builder

import (
	"io/fs"
	"maps"
	"regexp"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	builderimage "github.com/rust-s2i/rust-s2i-musl/s2i"
)

// The build arguments name only what was set: an unset setting keeps the
// Dockerfile's default. CLIBS is the exception that proves it: nil keeps the
// default, and an empty set is CLIBS="", which builds no C library.
func TestBuildArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    Options
		want map[string]string
	}{
		{"defaults", Options{Tag: "b"}, map[string]string{}},
		{"C libraries and their source", Options{CLibs: clibs.Set{"libpq": "15.14", "openssl": "3.0.17"}, CLibsSource: "debian"},
			map[string]string{"CLIBS": "openssl=3.0.17 libpq=15.14", "CLIBS_SOURCE": "debian"}},
		{"none", Options{CLibs: clibs.Set{}}, map[string]string{"CLIBS": ""}},
		{"a -gnu builder has none unless asked", Options{Target: "x86_64-unknown-linux-gnu"},
			map[string]string{"TARGET": "x86_64-unknown-linux-gnu", "TARGETS": "x86_64-unknown-linux-gnu", "CLIBS": ""}},
		{"the toolchain settings", Options{Base: "rust:1", Toolchain: "1.85.0", Target: "x86_64-unknown-linux-musl"},
			map[string]string{"BASE_IMAGE": "rust:1", "TOOLCHAIN": "1.85.0", "TARGET": "x86_64-unknown-linux-musl", "TARGETS": "x86_64-unknown-linux-musl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := map[string]string{}
			for k, v := range buildArgs(tt.o, tt.o.Target) {
				got[k] = *v
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("buildArgs = %v, want %v", got, tt.want)
			}
		})
	}
}

// Every build argument the client can send is an ARG of s2i/Dockerfile: the daemon
// only warns about one that is not, and the setting would be lost without a word.
func TestBuildArgsAreDockerfileArgs(t *testing.T) {
	t.Parallel()
	dockerfile, err := fs.ReadFile(builderimage.Files, "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^ARG ([A-Z_]+)`).FindAllStringSubmatch(string(dockerfile), -1) {
		declared[m[1]] = true
	}
	all := Options{Base: "b", Toolchain: "t", Target: "x", Tag: "tag", CLibs: clibs.Set{}, CLibsSource: "debian"}
	for k := range buildArgs(all, "x y") {
		if !declared[k] {
			t.Errorf("the client sends build argument %s, which s2i/Dockerfile does not declare (ARG %s)", k, k)
		}
	}
	if len(declared) == 0 || strings.Count(string(dockerfile), "ARG ") == 0 {
		t.Fatal("no ARG read from s2i/Dockerfile")
	}
}
