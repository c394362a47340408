package s2i

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"io"
	"maps"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
)

// The build's files (the binary for the final image) are read out of the build
// container itself, so the final image needs no container of its own and can be
// written while the daemon still works on the -tmp image.
//
// Best while the container still runs: its file system is mounted, and the final
// image is then written during the container's exit and the commit. So assemble,
// once the binary is in place, prints a line with the build's token (which reaches
// the container as /tmp/.rust-s2i-collect, beside the source) and waits, at most
// 10 s, for /tmp/.rust-s2i-collected. The tracker watches the container's output
// for that line, reads the files and creates the file. A build without the token
// file (a git URL, whose source S2I fetches itself) or whose read failed has its
// files read just before the commit, from the stopped container: later, and a mount
// more, but the same files.

// Names of the handshake's files in the build container, below S2I's destination.
const (
	collectTokenFile = ".rust-s2i-collect"
	collectedFile    = ".rust-s2i-collected"
	collectDest      = "/tmp"
)

// handOverWait is how long assemble waits for the hand-over (see s2i/bin/assemble).
const handOverWait = 10 * time.Second

// collector reads the request's files from the build container, once.
type collector struct {
	dir   string
	names []string
	token string // what assemble prints once the files are ready
	// onCollected is given the files as soon as they are read.
	onCollected func(map[string][]byte)

	mu    sync.Mutex
	files map[string][]byte
}

// from reads the files from container id unless they were read already; a failure
// only means the caller reads them from the committed image instead.
func (c *collector) from(ctx context.Context, e engine.Archives, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.files != nil {
		return
	}
	files, err := engine.ContainerFiles(ctx, e, id, c.dir, c.names...)
	if err != nil || len(files) == 0 {
		return
	}
	c.files = files
	if c.onCollected != nil {
		c.onCollected(files)
	}
}

// handshake is the tracker's side of assemble's wait: read the files from the
// running container, then let assemble go on, whatever the read gave.
func (t *tracker) handshake(ctx context.Context, id string) {
	t.collect.from(ctx, t.Client, id)
	t.times.mark(MarkCollected)
	var ack bytes.Buffer
	tw := tar.NewWriter(&ack)
	_ = tw.WriteHeader(&tar.Header{Name: collectedFile, Typeflag: tar.TypeReg, Mode: 0o644})
	_ = tw.Close()
	// CopyUIDGID: the file belongs to the container's user, who removes it.
	_, _ = t.Client.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: collectDest, Content: &ack, CopyUIDGID: true})
}

// ContainerAttach watches the container's output for assemble's collect line.
func (t *tracker) ContainerAttach(ctx context.Context, id string, opts client.ContainerAttachOptions) (client.ContainerAttachResult, error) {
	res, err := t.Client.ContainerAttach(ctx, id, opts)
	if err != nil || t.collect == nil || t.collect.token == "" || res.Reader == nil {
		return res, err
	}
	w := &watcher{r: res.Reader, marker: []byte(t.collect.token)}
	w.found = func() {
		go func() {
			// As long as assemble waits; a cancelled build removes the container,
			// which ends the read anyway.
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), handOverWait)
			defer cancel()
			t.handshake(hctx, id)
		}()
	}
	res.Reader = bufio.NewReader(w)
	return res, nil
}

// watcher passes a stream through and calls found, once, when marker went past,
// even split across reads.
type watcher struct {
	r      io.Reader
	marker []byte
	found  func()
	tail   []byte // the last len(marker)-1 bytes seen
	done   bool
}

func (w *watcher) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 && !w.done {
		seen := append(w.tail, p[:n]...)
		if bytes.Contains(seen, w.marker) {
			w.done = true
			w.found()
		} else if keep := len(w.marker) - 1; len(seen) > keep {
			w.tail = append(w.tail[:0], seen[len(seen)-keep:]...)
		} else {
			w.tail = seen
		}
	}
	return n, err
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

// Marks on the timeline (Result.Times). A build on S2I's incremental path runs
// save-artifacts in a container first: the marks are those of the last container,
// assemble's.
const (
	MarkSpawn     = "spawn"     // the child process was started (Isolated only)
	MarkBegin     = "begin"     // the build began (in the child, once it runs)
	MarkCreate    = "create"    // the container's create request went out
	MarkStart     = "start"     // its start request went out
	MarkCollected = "collected" // the files were read from the running container
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

// ContainerCommit reads the collector's files, then commits the container. First,
// because the daemon serialises the two on the container (a read during the
// commit waits for its end), and the files are small: whatever onCollected starts
// with them then runs during the commit.
func (t *tracker) ContainerCommit(ctx context.Context, id string, opts client.ContainerCommitOptions) (client.ContainerCommitResult, error) {
	if t.collect != nil {
		t.collect.from(ctx, t.Client, id) // a no-op when the handshake read them
	}
	t.times.mark(MarkCommit)
	res, err := t.Client.ContainerCommit(ctx, id, opts)
	t.times.mark(MarkCommitted)
	return res, err
}
