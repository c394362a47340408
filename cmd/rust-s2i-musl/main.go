// Command rust-s2i-musl builds small container images from Rust crates with
// OpenShift Source-to-Image.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/cli"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3") for releases.
var version = ""

func main() {
	code := cli.Run(signalContext(), os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now}, cli.Version(buildVersion()))
	os.Exit(code)
}

// signalContext is cancelled by the first SIGINT or SIGTERM, which stops the build:
// its containers are removed and it exits 1. A second one exits at once with
// 128+signal (130 for SIGINT, 143 for SIGTERM), as a shell reports a process killed
// by it; the S2I child then removes its containers itself (it gets SIGHUP when this
// process dies). One channel sees both, so no signal falls between two handlers.
func signalContext() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		cancel(fmt.Errorf("%v signal received", s))
		os.Exit(128 + int((<-sigs).(syscall.Signal)))
	}()
	return ctx
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}
