package s2i

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
)

// What the build does besides S2I's own steps, at the one moment it can: S2I
// commits the assemble container once the script has succeeded, and the container
// is still there, stopped, until the commit ends. The tracker reads the files the
// request names (the binary) from that container just before the daemon commits
// it, so the final image needs no container of its own and can be written during
// the commit rather than after it.

// collector reads the request's files from the committed container, once.
type collector struct {
	dir   string
	names []string
	// onCollected is given the files as soon as they are read.
	onCollected func(map[string][]byte)

	mu    sync.Mutex
	files map[string][]byte
}

// from reads the files from container id; a failure only means the caller reads
// them from the committed image instead.
func (c *collector) from(ctx context.Context, e engine.Archives, id string) {
	files, err := engine.ContainerFiles(ctx, e, id, c.dir, c.names...)
	if err != nil || len(files) == 0 {
		return
	}
	c.mu.Lock()
	c.files = files
	c.mu.Unlock()
	if c.onCollected != nil {
		c.onCollected(files)
	}
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
		t.collect.from(ctx, t.Client, id)
	}
	t.times.mark(MarkCommit)
	res, err := t.Client.ContainerCommit(ctx, id, opts)
	t.times.mark(MarkCommitted)
	return res, err
}
