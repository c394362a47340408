package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
)

// builder --target's default is the daemon's architecture's musl target (the CLI
// asks the daemon, see builder.DefaultTarget), not always x86_64: the help must
// say so.
func TestBuilderTargetHelp(t *testing.T) {
	t.Parallel()
	var help bytes.Buffer
	_, err := ParseBuilderFlags([]string{"-h"}, &help)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h gave %v, want flag.ErrHelp", err)
	}
	var target string
	for _, line := range strings.SplitAfter(help.String(), "\n  -") {
		if strings.HasPrefix(line, "target ") {
			target = line
		}
	}
	if target == "" {
		t.Fatalf("no --target in the help:\n%s", help.String())
	}
	for _, want := range []string{"daemon's architecture", "aarch64-unknown-linux-musl", "x86_64-unknown-linux-musl for any other"} {
		if !strings.Contains(target, want) {
			t.Errorf("the help of --target lacks %q:\n%s", want, target)
		}
	}
	if strings.Contains(target, "(default x86_64") {
		t.Errorf("the help of --target still names x86_64 as the default:\n%s", target)
	}
}

// --c-libs unset keeps the Dockerfile's default (nil), none builds none (an
// empty set: CLIBS=""), and a list is the set it names, commas or spaces alike.
func TestBuilderCLibSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want clibs.Set
	}{
		{nil, nil},
		{[]string{"--c-libs", "none"}, clibs.Set{}},
		{[]string{"--c-libs", "openssl=3.0.17,libpq=15.14"}, clibs.Set{"openssl": "3.0.17", "libpq": "15.14"}},
		{[]string{"--c-libs", "zlib=1.3.1 sqlite=3.46.1"}, clibs.Set{"zlib": "1.3.1", "sqlite": "3.46.1"}},
	}
	for _, tt := range tests {
		b, err := ParseBuilderFlags(tt.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		got, problems := b.CLibSet()
		if len(problems) > 0 || !reflect.DeepEqual(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("%q: CLibSet() = %#v, %v; want %#v", tt.args, got, problems, tt.want)
		}
	}
}
