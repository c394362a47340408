// Package cli is the command line and the composition root: it parses the
// subcommands, turns their settings into the concrete pieces (engine, cache, S2I
// runner, reporter), runs them, and maps their errors to the documented exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFailed   = 1 // the build (or another step) ran and failed
	ExitBadInput = 2 // nothing ran: the input was wrong
)

// IO is the process a command runs in; tests pass their own.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time // the clock builds are timed by; build needs it
}

// Version is set by main from the build information.
type Version string

const usage = `usage:
  rust-s2i-musl build     --binary NAME [--source DIR|GIT_URL] [--builder IMAGE]
                          [--runtime-image IMAGE] [--image NAME[:TAG]] [--tmp-image NAME]
                          [--tag NAME[:TAG] ...] [--labels K=V ...] [--pull missing|always]
                          [--target TRIPLE] [--env K=V ...] [--secret-env NAME ...]
                          [--features F,G] [--all-features] [--no-default-features]
                          [--profile NAME] [--locked=false] [--network MODE] [--clean]
                          [--engine auto|docker|buildkit] [--buildkit-host unix:///PATH|tcp://HOST:PORT]
                          [--buildkit-tls-ca-cert FILE] [--buildkit-tls-cert FILE]
                          [--buildkit-tls-key FILE] [--buildkit-tls-server-name NAME]
                          [--cache none|local|gha|s3] [--cache-dir DIR] [--cache-key-prefix P]
                          [--cache-bucket B] [--cache-endpoint URL] [--cache-region R]
                          [--cache-path-style] [--cache-protocol v1|v2] [--cache-timeout DURATION]
                          [--cache-save=false] [--push] [--output-file FILE]
                          [--platform linux/amd64,linux/arm64 ...] [--platforms LIST]
                          [--oci-output DIR] [--auditable=false] [--sbom=false]
                          [--provenance=false]
  rust-s2i-musl builder   [--toolchain stable|1.NN.N|nightly-YYYY-MM-DD] [--base IMAGE]
                          [--target TRIPLE] [--tag IMAGE]
                          [--c-libs none|openssl=V,libpq=V,zlib=V,sqlite=V]
                          [--c-libs-source upstream|debian] [--push REF]
  rust-s2i-musl bootstrap --cargo-home DIR --binary NAME [--builder IMAGE] [--tmp-image NAME]
  rust-s2i-musl version

Run 'rust-s2i-musl COMMAND -h' for a command's flags.
`

// Run runs one command line and returns the process exit code.
func Run(ctx context.Context, args []string, sys IO, version Version) int {
	if len(args) == 0 {
		fmt.Fprint(sys.Stderr, usage)
		return ExitBadInput
	}
	var err error
	switch args[0] {
	case "build":
		err = runBuild(ctx, args[1:], sys, version)
	case "builder":
		err = runBuilder(ctx, args[1:], sys)
	case "bootstrap":
		err = runBootstrap(ctx, args[1:], sys)
	case s2i.ChildCommand:
		err = s2i.RunChild(ctx, sys.Getenv, sys.Stdin, sys.Stdout)
	case "version", "--version":
		fmt.Fprintln(sys.Stdout, "rust-s2i-musl", version)
		return ExitOK
	case "help", "-h", "--help":
		fmt.Fprint(sys.Stdout, usage)
		return ExitOK
	default:
		fmt.Fprintf(sys.Stderr, "unknown command %q\n\n%s", args[0], usage)
		return ExitBadInput
	}
	return report(err, sys.Stderr)
}

// report prints err once and picks the exit code: bad input is 2 and lists every
// problem, one a line.
func report(err error, w io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var ie *config.InputError
	if errors.As(err, &ie) {
		fmt.Fprintln(w, "error: invalid input:")
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(w, "  "+line)
		}
		return ExitBadInput
	}
	fmt.Fprintln(w, "error:", err)
	return ExitFailed
}
