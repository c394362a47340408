package cli

import (
	"bytes"
	"context"
	"flag"
	"regexp"
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

// The same for builder's flags, read from its help.
func TestUsageNamesEveryBuilderFlag(t *testing.T) {
	t.Parallel()
	var help bytes.Buffer
	if _, err := config.ParseBuilderFlags([]string{"-h"}, &help); err == nil {
		t.Fatal("-h gave no error")
	}
	flags := regexp.MustCompile(`(?m)^  -(\S+)`).FindAllStringSubmatch(help.String(), -1)
	if len(flags) < 6 {
		t.Fatalf("only %d builder flags in its help:\n%s", len(flags), help.String())
	}
	for _, f := range flags {
		if !strings.Contains(usage, "--"+f[1]+" ") {
			t.Errorf("usage leaves out builder's --%s", f[1])
		}
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
		{[]string{"builder", "--toolchain", "latest", "--tag", "A B", "--c-libs", "openssl=3,libssh2=1.11", "--c-libs-source", "git"},
			[]string{"--toolchain:", "--tag:", `--c-libs: "libssh2=1.11"`, "--c-libs-source:"}},
		{[]string{"bootstrap", "--binary", "a/b"}, []string{"--cargo-home: is required", "--binary:"}},
		{[]string{"build", "--source", "/does/not/exist", "--image", "A B"}, []string{"--binary: is required", "--source:", "--image:"}},
		// BUILDKIT_HOST is read for flags too: here it is buildctl's and not ours.
		{[]string{"build", "--binary", "x", "--engine", "buildkit", "--buildkit-tls-key", "key.pem"},
			[]string{`--buildkit-host: is not set, and BUILDKIT_HOST="docker-container://buildx"`, "--buildkit-tls-cert: is required"}},
		{[]string{"nope"}, []string{`unknown command "nope"`}},
	}
	for _, tc := range tests {
		t.Run(tc.args[0], func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			getenv := func(k string) string {
				switch k {
				case "DOCKER_HOST":
					return "unix:///nonexistent.sock"
				case "BUILDKIT_HOST":
					return "docker-container://buildx"
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
