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

// childResult is what the child reports on its stdout: one JSON line with
// Collected as soon as the files are read (while S2I commits), then one with Done.
type childResult struct {
	Collected map[string]string `json:",omitempty"` // name: the file in the child's TMPDIR holding it
	Done      bool              `json:",omitempty"`
	ImageID   string            `json:",omitempty"`
	Stages    map[string]time.Duration
	Times     map[string]time.Time
	ExitCode  int    // assemble's exit code, when assemble failed
	Error     string // any other failure
	// Annotations are the compile errors of a failed assemble, for the CI.
	Annotations []Annotation `json:",omitempty"`
	// BuildScripts are the packages whose build script failed (FailedError).
	BuildScripts []string `json:",omitempty"`
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
	enc := json.NewEncoder(w)
	if len(req.Collect) > 0 {
		req.OnCollected = func(files map[string][]byte) {
			if paths, err := handOver(files); err == nil {
				_ = enc.Encode(childResult{Collected: paths})
			}
		}
	}
	res, err := buildTracked(ctx, c, req, record)
	out := childResult{Done: true, ImageID: res.ImageID, Stages: res.Stages, Times: res.Times}
	var failed *FailedError
	switch {
	case errors.As(err, &failed):
		out.ExitCode, out.Annotations, out.BuildScripts = failed.ExitCode, failed.Annotations, failed.BuildScripts
	case err != nil:
		out.Error = err.Error()
	}
	return enc.Encode(out)
}

// handOver writes collected files into the child's TMPDIR, which the parent made
// and removes, for the parent to read.
func handOver(files map[string][]byte) (map[string]string, error) {
	dir, err := os.MkdirTemp("", "collected-")
	if err != nil {
		return nil, err
	}
	paths := map[string]string{}
	for name, data := range files {
		p := filepath.Join(dir, fmt.Sprint(len(paths)))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return nil, err
		}
		paths[name] = p
	}
	return paths, nil
}

// Isolated runs builds in child processes of the executable Exe (this program),
// which reach the same daemon as Engine through the environment they inherit and Env.
type Isolated struct {
	Exe    string
	Engine containerRemover // to remove a stopped build's containers
	Stderr io.Writer        // where the build's log goes
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
	tmp, err := os.MkdirTemp("", "rust-s2i-musl-s2i-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)
	list := filepath.Join(tmp, "containers")

	cmd := exec.CommandContext(ctx, i.Exe, ChildCommand)
	cmd.Env = append(append(cmd.Environ(), i.Env...), "TMPDIR="+tmp, containersEnv+"="+list)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = i.Stderr
	// A pipe of our own rather than cmd.StdoutPipe: the files the child collects
	// are read while it still runs, and Wait must not close the pipe under the read.
	stdout, childOut, err := os.Pipe()
	if err != nil {
		return Result{}, err
	}
	defer stdout.Close()
	cmd.Stdout = childOut
	// Its own process group: a Ctrl-C at a terminal reaches the parent alone, which
	// then stops the child in order. SIGHUP when the parent dies, even by SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGHUP}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = childGrace
	// The kernel sends the parent-death signal when the thread that started the child
	// ends, not the process: keep this goroutine on that thread until the child is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	spawned := time.Now()
	err = cmd.Start()
	childOut.Close()
	if err != nil {
		return Result{}, fmt.Errorf("starting the s2i build: %w", err)
	}
	res, collected, waitErr := i.wait(ctx, cmd, stdout, list, req.OnCollected)
	if ctx.Err() != nil {
		return Result{}, fmt.Errorf("build stopped: %w", context.Cause(ctx))
	}
	if !res.Done {
		return Result{}, fmt.Errorf("s2i build ended without a result (%v)", waitErr)
	}
	switch {
	case res.ExitCode != 0:
		return Result{}, &FailedError{ExitCode: res.ExitCode, Err: errors.New("assemble failed"), Annotations: res.Annotations, BuildScripts: res.BuildScripts}
	case res.Error != "":
		return Result{}, errors.New(res.Error)
	}
	if res.Times != nil {
		res.Times[MarkSpawn] = spawned
	}
	return Result{ImageID: res.ImageID, Stages: res.Stages, Times: res.Times, Collected: collected}, nil
}

// wait reads the started child's result from stdout while it runs, stops it when
// ctx is cancelled, and removes the containers it listed in list on every path:
// after a normal end S2I has removed them all, and this finds none; after a crash
// or a kill it removes what the child left.
func (i Isolated) wait(ctx context.Context, cmd *exec.Cmd, stdout *os.File, list string, onCollected func(map[string][]byte)) (childResult, map[string][]byte, error) {
	var res childResult
	var collected map[string][]byte
	read := make(chan struct{})
	go func() {
		defer close(read)
		res, collected = readChild(stdout, onCollected)
	}()
	names := func() []string { return readNames(list) }
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		stopOnCancel(ctx, i.Engine, names, done)
	}()
	waitErr := cmd.Wait()
	select {
	case <-read:
	case <-time.After(childGrace):
		// Something the child started still holds the pipe: give up on it.
		stdout.Close()
		<-read
	}
	close(done)
	<-stopped
	removeAll(context.WithoutCancel(ctx), i.Engine, names())
	return res, collected, waitErr
}

// readChild reads the child's result lines to the end: the collected files, handed
// to onCollected as they come, then the result.
func readChild(r io.Reader, onCollected func(map[string][]byte)) (childResult, map[string][]byte) {
	dec := json.NewDecoder(r)
	var collected map[string][]byte
	for {
		var m childResult
		if err := dec.Decode(&m); err != nil {
			_, _ = io.Copy(io.Discard, r) // a child that wrote garbage must not block on a full pipe
			return childResult{}, collected
		}
		if m.Done {
			return m, collected
		}
		if m.Collected != nil && collected == nil {
			collected = map[string][]byte{}
			for name, p := range m.Collected {
				data, err := os.ReadFile(p)
				if err != nil {
					collected = nil
					break
				}
				collected[name] = data
			}
			if collected != nil && onCollected != nil {
				onCollected(collected)
			}
		}
	}
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
