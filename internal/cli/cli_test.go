package cli

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
)

// The usage text is written by hand for readability; this keeps it from leaving
// out a flag that build takes.
func TestUsageNamesEveryBuildFlag(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	var c config.Config
	config.BuildFlags(fs, &c)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		if f.Name != "tags" && !strings.Contains(usage, "--"+f.Name+" ") && !strings.Contains(usage, "--"+f.Name+"]") && !strings.Contains(usage, "--"+f.Name+"=") {
			t.Errorf("usage leaves out --%s", f.Name)
		}
	})
	if n < 10 {
		t.Fatalf("only %d build flags registered", n)
	}
}

// Bad input to any subcommand exits 2 before anything runs (no daemon is reached:
// DOCKER_HOST points nowhere) and names every bad flag.
func TestBadInputExitsTwo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"builder", "--toolchain", "latest", "--tag", "A B"}, []string{"--toolchain:", "--tag:"}},
		{[]string{"bootstrap", "--binary", "a/b"}, []string{"--cargo-home: is required", "--binary:"}},
		{[]string{"build", "--source", "/does/not/exist", "--image", "A B"}, []string{"--binary: is required", "--source:", "--image:"}},
		{[]string{"nope"}, []string{`unknown command "nope"`}},
	}
	for _, tc := range tests {
		t.Run(tc.args[0], func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			getenv := func(k string) string {
				if k == "DOCKER_HOST" {
					return "unix:///nonexistent.sock"
				}
				return ""
			}
			code := Run(context.Background(), tc.args, IO{Stdout: &out, Stderr: &errOut, Getenv: getenv}, "test")
			if code != ExitBadInput {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, ExitBadInput, errOut.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut.String())
				}
			}
		})
	}
}
