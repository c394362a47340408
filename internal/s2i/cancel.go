package s2i

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	dockerpkg "github.com/openshift/source-to-image/pkg/docker"
)

// A build stops by removing exactly the containers it created, never by matching
// names: S2I names a container s2i_<image>_<8 hex digits>, with every character of
// the image name outside [0-9A-Za-z] made '_', so the names of other builds can look
// alike ("foo-bar-tmp" and "foo_bar-tmp" give the same prefix, and "foo-tmp"'s is a
// prefix of "foo-tmp-tmp"'s). Instead, the Docker client S2I builds through (tracker)
// records each container's name before asking the daemon to create it; cleanup
// removes those names and nothing else. In a child process (Isolated) the names also
// go, one a line, to a file the parent reads, so that the parent can clean up after
// a child it had to kill.

// errStopped is what S2I gets for a container it asks for once the build is stopping.
var errStopped = errors.New("build stopped: no more containers")

// tracker is the Docker client of one S2I build: it records the name of every
// container the build creates, before the create request, and refuses to create any
// once stop was called.
type tracker struct {
	dockerpkg.Client
	// record, when set, is told each name before it is created (the child's file).
	record func(name string) error
	// collect, when set, reads files from the container S2I commits (see collect.go).
	collect *collector
	// notes are the annotations assemble marked with the collect token.
	notes annotations
	// scripts are the packages whose build script failed, from assemble's output.
	scripts buildScripts
	times   timeline
	// assemble is the ID of the container that runs assemble: the one whose stdout
	// carries the collected files. Set under mu.
	assemble string

	mu      sync.Mutex // held across a create, so stop waits for one in flight
	names   []string
	stopped bool
}

func (t *tracker) ContainerCreate(ctx context.Context, opts client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return client.ContainerCreateResult{}, errStopped
	}
	if opts.Name == "" {
		// S2I always names its containers; a name is what makes one findable.
		opts.Name = "s2i_rust_s2i_musl_" + randomDigits(8)
	}
	if t.record != nil {
		if err := t.record(opts.Name); err != nil {
			return client.ContainerCreateResult{}, err
		}
	}
	t.names = append(t.names, opts.Name)
	t.times.mark(MarkCreate)
	res, err := t.Client.ContainerCreate(ctx, buildContainerOptions(opts))
	if err == nil && opts.Config != nil && strings.Contains(strings.Join(opts.Config.Cmd, " "), "/assemble") {
		t.assemble = res.ID // the container whose stdout carries the collected files
	}
	return res, err
}

// stop refuses every later create, waits for one in flight, and returns the names
// of all the containers the build created.
func (t *tracker) stop() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	return append([]string(nil), t.names...)
}

// randomDigits is n random hex digits (n even), which make names unique to a build.
func randomDigits(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// containerRemover is the part of the Docker client that stopping a build needs.
type containerRemover interface {
	ContainerRemove(ctx context.Context, containerID string, options client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
}

// removeAll force-removes the named containers (a running one is killed first). A
// name that is gone already is fine. Docker resolves a name exactly; S2I's names
// contain '_', so none can be taken for an ID prefix.
func removeAll(ctx context.Context, e containerRemover, names []string) {
	for _, n := range names {
		_, _ = e.ContainerRemove(ctx, n, client.ContainerRemoveOptions{Force: true})
	}
}

// stopOnCancel removes the build's containers once ctx is cancelled, and again every
// 200 ms until done is closed, since a create may be on its way when ctx is
// cancelled. names returns the containers the build created so far.
func stopOnCancel(ctx context.Context, e containerRemover, names func() []string, done <-chan struct{}) {
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	bg := context.WithoutCancel(ctx)
	for {
		removeAll(bg, e, names())
		select {
		case <-done:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}
