package s2i

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
)

// ChildCommand is the hidden subcommand that runs one S2I build in a process of its
// own. The S2I library takes over the process while a container runs: on SIGINT or
// SIGTERM it removes the container and calls os.Exit(2), skipping every cleanup and
// making a cancelled build look like bad input. In a child, that exit ends only the
// child; the parent cleans up and reports the build as stopped.
const ChildCommand = "__s2i-build"

// childResult is what the child reports on its stdout.
type childResult struct {
	ImageID  string
	Stages   map[string]time.Duration
	ExitCode int    // assemble's exit code, when assemble failed
	Error    string // any other failure
}

// RunChild is the child's side: it reads a Request from r, runs Build on the daemon
// that getenv names, and writes the outcome to w. S2I's log, with cargo's output,
// goes to the child's stderr, which is the parent's.
func RunChild(ctx context.Context, getenv func(string) string, r io.Reader, w io.Writer) error {
	var req Request
	if err := json.NewDecoder(r).Decode(&req); err != nil {
		return fmt.Errorf("reading the build request: %w", err)
	}
	c, err := engine.Connect(ctx, getenv)
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := Build(ctx, c, req)
	out := childResult{ImageID: res.ImageID, Stages: res.Stages}
	var failed *FailedError
	switch {
	case errors.As(err, &failed):
		out.ExitCode = failed.ExitCode
	case err != nil:
		out.Error = err.Error()
	}
	return json.NewEncoder(w).Encode(out)
}

// Isolated runs builds in child processes of the executable Exe (this program),
// which reach the same daemon as Engine through the environment they inherit.
type Isolated struct {
	Exe     string
	Engine  containerEngine // to stop a cancelled build's containers
	Stderr  io.Writer       // where the build's log goes
	TempDir string          // the child's temporary files go below it; "" is the system's
}

// Build runs Build in a child process. Cancelling ctx stops the child and the
// build's containers; the child's temporary files are removed on every path.
func (i Isolated) Build(ctx context.Context, req Request) (Result, error) {
	if req.BuildID == "" {
		req.BuildID = newBuildID()
	}
	in, err := json.Marshal(req)
	if err != nil {
		return Result{}, err
	}
	tmp, err := os.MkdirTemp(i.TempDir, "rust-s2i-musl-s2i-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)

	cmd := exec.Command(i.Exe, ChildCommand)
	cmd.Env = append(cmd.Environ(), "TMPDIR="+tmp)
	cmd.Stdin = bytes.NewReader(in)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, i.Stderr
	// Its own process group: a Ctrl-C at a terminal reaches the parent alone, which
	// then stops the child in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("starting the s2i build: %w", err)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-done:
			return
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
		}
		stopOnCancel(ctx, i.Engine, req.BuildID, req.Tag, done)
	}()
	waitErr := cmd.Wait()
	close(done)
	<-stopped
	if ctx.Err() != nil {
		return Result{}, fmt.Errorf("build stopped: %w", context.Cause(ctx))
	}
	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return Result{}, fmt.Errorf("s2i build ended without a result (%v)", waitErr)
	}
	switch {
	case res.ExitCode != 0:
		return Result{}, &FailedError{ExitCode: res.ExitCode, Err: errors.New("assemble failed")}
	case res.Error != "":
		return Result{}, errors.New(res.Error)
	}
	return Result{ImageID: res.ImageID, Stages: res.Stages}, nil
}
