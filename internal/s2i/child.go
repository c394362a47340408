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
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
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

// containersEnv names, in the child's environment, the file where the child writes
// the name of each container before creating it, one a line: the parent removes
// those when it stops the build, or after a child it had to kill.
const containersEnv = "RUST_S2I_CONTAINERS_FILE"

// childGrace is how long a stopping child has to clean up and exit: the parent
// kills it after that long (its containers are then removed by the parent), and a
// child whose parent died exits after that long whatever S2I is doing.
const childGrace = 10 * time.Second

// RunChild is the child's side: it reads a Request from r, runs Build on the daemon
// that getenv names, and writes the outcome to w. S2I's log, with cargo's output,
// goes to the child's stderr, which is the parent's.
//
// The child dies with its parent: the parent starts it with SIGHUP as its
// parent-death signal, on which the child stops the build as on SIGTERM, by removing
// the containers it created, and exits.
func RunChild(ctx context.Context, getenv func(string) string, r io.Reader, w io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGHUP)
	defer stop()
	// With the parent gone, the log and the result go to closed pipes. Without this,
	// the first write would kill the child by SIGPIPE before it removed its containers.
	signal.Ignore(syscall.SIGPIPE)
	go func() {
		<-ctx.Done()
		time.Sleep(childGrace)
		os.Exit(3) // bounded even if S2I hangs; the containers were removed by then
	}()
	var req Request
	if err := json.NewDecoder(r).Decode(&req); err != nil {
		return fmt.Errorf("reading the build request: %w", err)
	}
	var record func(string) error
	if p := getenv(containersEnv); p != "" {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		record = func(name string) error {
			_, err := f.WriteString(name + "\n") // one write, so a reader sees whole lines
			return err
		}
	}
	c, err := engine.Connect(ctx, getenv)
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := buildTracked(ctx, c, req, record)
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
// which reach the same daemon as Engine through the environment they inherit and Env.
type Isolated struct {
	Exe     string
	Engine  containerRemover // to remove a stopped build's containers
	Stderr  io.Writer        // where the build's log goes
	TempDir string           // the child's temporary files go below it; "" is the system's
	// Env is added to the child's environment: what makes it resolve the daemon
	// Engine talks to (engine.Endpoint.ChildEnv).
	Env []string
}

// Build runs Build in a child process. Cancelling ctx stops the child (SIGTERM, then
// SIGKILL after childGrace) and removes the containers it created; the child's
// temporary files are removed on every path. If this process dies, the child gets
// SIGHUP and removes its containers itself.
func (i Isolated) Build(ctx context.Context, req Request) (Result, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return Result{}, err
	}
	tmp, err := os.MkdirTemp(i.TempDir, "rust-s2i-musl-s2i-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)
	list := filepath.Join(tmp, "containers")

	cmd := exec.CommandContext(ctx, i.Exe, ChildCommand)
	cmd.Env = append(append(cmd.Environ(), i.Env...), "TMPDIR="+tmp, containersEnv+"="+list)
	cmd.Stdin = bytes.NewReader(in)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, i.Stderr
	// Its own process group: a Ctrl-C at a terminal reaches the parent alone, which
	// then stops the child in order. SIGHUP when the parent dies, even by SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGHUP}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = childGrace
	// The kernel sends the parent-death signal when the thread that started the child
	// ends, not the process: keep this goroutine on that thread until the child is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("starting the s2i build: %w", err)
	}
	names := func() []string { return readNames(list) }
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		stopOnCancel(ctx, i.Engine, names, done)
	}()
	waitErr := cmd.Wait()
	close(done)
	<-stopped
	// On every path: after a normal end S2I has removed them all, and this finds none;
	// after a crash or a kill it removes what the child left.
	removeAll(context.WithoutCancel(ctx), i.Engine, names())
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

// readNames returns the container names in the child's list, whole lines only: a
// line being written is read on the next pass.
func readNames(list string) []string {
	data, err := os.ReadFile(list)
	if err != nil {
		return nil
	}
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	} else {
		return nil
	}
	return strings.Split(string(data), "\n")
}
