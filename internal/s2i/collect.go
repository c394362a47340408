package s2i

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"maps"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
)

// The build's files (the binary for the final image, assemble's timings) come out
// of the build container itself, so the final image needs no container of its own
// and is written while the daemon still works on the -tmp image.
//
// They come on the container's stdout: once the binary is in place, assemble
// prints a line with the build's token (which reaches the container as
// tmpimage.CollectTokenFile, beside the source), the files as a base64 tar, and a
// closing line with the token. The tracker takes that part out of the attach
// stream (divert), so S2I's log never shows it, and the final image is written
// while the container exits and the daemon commits it. Nothing in the container
// waits for the client.
//
// A build without the token file (a git URL, whose source S2I fetches itself), or
// whose stream could not be read, has the files read from the stopped container
// just before the commit: later, and a mount of its file system more. The daemon
// runs a read and the commit one after the other on one container, so the small
// read goes first.

// collector gets the request's files from the build container, once.
type collector struct {
	dir   string
	names []string
	token string // the lines around the files on stdout start with it; "" for none
	// onCollected is given the files as soon as they are read.
	onCollected func(map[string][]byte)

	mu    sync.Mutex
	files map[string][]byte
}

// from reads the files from container id unless they came already; a failure only
// means the caller reads them from the committed image instead.
func (c *collector) from(ctx context.Context, e engine.Archives, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.files != nil {
		return
	}
	files, err := engine.ContainerFiles(ctx, e, id, c.dir, c.names...)
	if err == nil {
		c.setLocked(files)
	}
}

// setLocked keeps the files and hands them on; c.mu is held.
func (c *collector) setLocked(files map[string][]byte) {
	if len(files) == 0 || c.files != nil {
		return
	}
	c.files = files
	if c.onCollected != nil {
		c.onCollected(files)
	}
}

// fromStream returns the sink for the files on stdout: a base64 tar, decoded as it
// comes. done is called once the files are kept.
func (c *collector) fromStream(done func()) io.WriteCloser {
	pr, pw := io.Pipe()
	go func() {
		files, err := untarNamed(base64.NewDecoder(base64.StdEncoding, pr), c.names)
		pr.CloseWithError(io.ErrClosedPipe) // after an error too: the writer must never block
		if err != nil {
			return
		}
		c.mu.Lock()
		c.setLocked(files)
		c.mu.Unlock()
		done()
	}()
	return pw
}

// untarNamed reads the named regular files out of a tar stream, each bounded like
// a file read from an image; none when names is empty.
func untarNamed(r io.Reader, names []string) (map[string][]byte, error) {
	files := map[string][]byte{}
	var err error
	if len(names) > 0 {
		files, err = archive.ReadFiles(r, "", names, engine.MaxFile)
	}
	// The rest of the stream (tar's padding) is read to its end by the caller's close.
	_, _ = io.Copy(io.Discard, r)
	return files, err
}

func (c *collector) result() map[string][]byte {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.files
}

// timeline is when the build's container steps happened, by the names of Stages.
type timeline struct {
	mu    sync.Mutex
	marks map[string]time.Time
}

func (t *timeline) mark(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.marks == nil {
		t.marks = map[string]time.Time{}
	}
	t.marks[name] = time.Now()
}

func (t *timeline) all() map[string]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.marks)
}

// Marks on the timeline (Result.Times): those of the build's one container,
// assemble's (S2I's incremental path, which ran save-artifacts in a container
// first, is never taken).
const (
	MarkSpawn     = "spawn"     // the child process was started (Isolated only)
	MarkBegin     = "begin"     // the build began (in the child, once it runs)
	MarkCreate    = "create"    // the container's create request went out
	MarkStart     = "start"     // its start request went out
	MarkCollected = "collected" // the files came on the container's stdout
	MarkStopped   = "stopped"   // the daemon reported it stopped
	MarkCommit    = "commit"    // the commit request went out
	MarkCommitted = "committed" // the commit ended
	MarkEnd       = "end"       // S2I's build returned
)

func (t *tracker) ContainerStart(ctx context.Context, id string, opts client.ContainerStartOptions) (client.ContainerStartResult, error) {
	t.times.mark(MarkStart)
	return t.Client.ContainerStart(ctx, id, opts)
}

// ContainerWait passes the daemon's answer on, marking when it came.
func (t *tracker) ContainerWait(ctx context.Context, id string, opts client.ContainerWaitOptions) client.ContainerWaitResult {
	in := t.Client.ContainerWait(ctx, id, opts)
	res, errs := make(chan container.WaitResponse, 1), make(chan error, 1)
	go func() {
		select {
		case r := <-in.Result:
			t.times.mark(MarkStopped)
			res <- r
		case err := <-in.Error:
			errs <- err
		}
	}()
	return client.ContainerWaitResult{Result: res, Error: errs}
}

// ContainerCreate's options, for the build container: no log driver. The output
// is read through the attach stream; the daemon's copy of it in a json-file log,
// removed with the container, is work for nothing (the binary passes on stdout).
func buildContainerOptions(opts client.ContainerCreateOptions) client.ContainerCreateOptions {
	if opts.HostConfig != nil && opts.HostConfig.LogConfig.Type == "" {
		hc := *opts.HostConfig
		hc.LogConfig = container.LogConfig{Type: "none"}
		opts.HostConfig = &hc
	}
	return opts
}

// ContainerAttach takes the collected files out of assemble's stdout, and reads
// the lines that pass on for build scripts that failed.
func (t *tracker) ContainerAttach(ctx context.Context, id string, opts client.ContainerAttachOptions) (client.ContainerAttachResult, error) {
	res, err := t.Client.ContainerAttach(ctx, id, opts)
	t.mu.Lock()
	isAssemble := id == t.assemble
	t.mu.Unlock()
	if err != nil || !isAssemble || res.Reader == nil {
		return res, err
	}
	var out io.Reader = res.Reader
	if t.collect != nil && t.collect.token != "" {
		d := newDivert(out, t.collect.token, func() io.WriteCloser {
			return t.collect.fromStream(func() { t.times.mark(MarkCollected) })
		})
		d.annotate = t.notes.add
		out = d
	}
	res.Reader = bufio.NewReader(&lineTap{src: out, line: t.scripts.add})
	return res, nil
}

// ContainerCommit reads the collector's files, then commits the container. First,
// because the daemon serialises the two on the container (a read during the
// commit waits for its end), and the files are small: whatever onCollected starts
// with them then runs during the commit.
func (t *tracker) ContainerCommit(ctx context.Context, id string, opts client.ContainerCommitOptions) (client.ContainerCommitResult, error) {
	if t.collect != nil {
		t.collect.from(ctx, t.Client, id)
	}
	t.times.mark(MarkCommit)
	res, err := t.Client.ContainerCommit(ctx, id, opts)
	t.times.mark(MarkCommitted)
	return res, err
}
