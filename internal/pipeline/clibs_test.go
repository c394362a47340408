package pipeline

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// A build whose -sys crate's build script failed ends with the error and, on
// the line after it, the hint naming the crate and what the builder brings, by
// the builder's name as the user gave it; the error is still a failed build's.
// Another failure gets no hint.
func TestBuildFailureCLibsHint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		libs clibs.Set
		want string // the line after the error; "" for none
	}{
		{"a -sys crate's build script", &s2i.FailedError{ExitCode: 1, BuildScripts: []string{"libdbus-sys"}},
			clibs.Set{"zlib": "1.3.1", "openssl": "3.0.17"},
			"hint: libdbus-sys's build script failed; builder example.org/builder:1 brings static musl C libraries: openssl 3.0.17, zlib 1.3.1 (docs/builder.md#c-libraries)."},
		{"a builder that brings none", &s2i.FailedError{ExitCode: 1, BuildScripts: []string{"openssl-sys"}}, clibs.Set{},
			"hint: openssl-sys's build script failed; builder example.org/builder:1 brings no static musl C libraries"},
		{"another crate's build script", &s2i.FailedError{ExitCode: 1, BuildScripts: []string{"prost-build"}}, clibs.Set{"zlib": "1.3.1"}, ""},
		{"a compile error", &s2i.FailedError{ExitCode: 1}, clibs.Set{"zlib": "1.3.1"}, ""},
		{"no build ran", errors.New("s2i build: no daemon"), clibs.Set{"zlib": "1.3.1"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Defaults()
			cfg.Binary, cfg.Source = "hello", filepath.Join(testenv.RepoRoot(), "examples", "hello")
			cfg.Builder = "example.org/builder:1"
			s := &buildStage{logs: logs{Report: &memReport{}, Log: io.Discard}, s2i: func(context.Context, s2i.Request) (s2i.Result, error) {
				return s2i.Result{}, tc.err
			}}
			_, err := s.Build(t.Context(), testPlan(t, cfg), State{Target: testenv.MuslTarget, CLibs: tc.libs}, nil)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Build = %v, want it to wrap %v", err, tc.err)
			}
			first, hint, _ := strings.Cut(err.Error(), "\n")
			if first != tc.err.Error() {
				t.Errorf("the error's first line is %q, want %q", first, tc.err.Error())
			}
			if tc.want == "" && hint != "" || !strings.HasPrefix(hint, tc.want) || strings.Contains(hint, "\n") {
				t.Errorf("after the error: %q, want one line starting %q", hint, tc.want)
			}
		})
	}
}
