package config

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
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
