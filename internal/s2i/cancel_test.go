package s2i

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	dockerpkg "github.com/openshift/source-to-image/pkg/docker"
)

// fakeDocker creates and removes nothing; it records the calls.
type fakeDocker struct {
	dockerpkg.Client
	mu      sync.Mutex
	created []string
	removed []string
	hold    chan struct{} // when set, a create waits for it
}

func (f *fakeDocker) ContainerCreate(ctx context.Context, opts client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	if f.hold != nil {
		<-f.hold
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, opts.Name)
	return client.ContainerCreateResult{ID: "id-" + opts.Name}, nil
}

func (f *fakeDocker) ContainerRemove(ctx context.Context, id string, opts client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, id)
	return client.ContainerRemoveResult{}, nil
}

func TestTrackerRecordsBeforeCreating(t *testing.T) {
	t.Parallel()
	f := &fakeDocker{}
	var recorded []string
	tr := &tracker{Client: f, record: func(name string) error {
		if slices.Contains(f.created, name) {
			t.Errorf("%s recorded after it was created", name)
		}
		recorded = append(recorded, name)
		return nil
	}}
	for _, name := range []string{"s2i_foo_tmp_0123abcd", ""} {
		if _, err := tr.ContainerCreate(t.Context(), client.ContainerCreateOptions{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	if len(recorded) != 2 || recorded[0] != "s2i_foo_tmp_0123abcd" || recorded[1] == "" {
		t.Errorf("recorded %q: want both, the unnamed one given a name", recorded)
	}
	if got := tr.stop(); !slices.Equal(got, recorded) || !slices.Equal(f.created, recorded) {
		t.Errorf("stop = %q, created %q, want %q", got, f.created, recorded)
	}
	if _, err := tr.ContainerCreate(t.Context(), client.ContainerCreateOptions{Name: "late"}); !errors.Is(err, errStopped) {
		t.Errorf("create after stop = %v, want errStopped", err)
	}
	if slices.Contains(f.created, "late") {
		t.Error("a container was created after stop")
	}

	bad := &tracker{Client: f, record: func(string) error { return errors.New("disk full") }}
	if _, err := bad.ContainerCreate(t.Context(), client.ContainerCreateOptions{Name: "unrecorded"}); err == nil || slices.Contains(f.created, "unrecorded") {
		t.Errorf("a container that could not be recorded was created (%v)", err)
	}
}

// stop waits for a create on its way, so that container is among those removed.
func TestTrackerStopWaitsForCreate(t *testing.T) {
	t.Parallel()
	f := &fakeDocker{hold: make(chan struct{})}
	tr := &tracker{Client: f}
	go tr.ContainerCreate(t.Context(), client.ContainerCreateOptions{Name: "in-flight"})
	time.Sleep(50 * time.Millisecond) // the create holds the lock now
	got := make(chan []string)
	go func() { got <- tr.stop() }()
	select {
	case names := <-got:
		t.Fatalf("stop returned %q while a create was on its way", names)
	case <-time.After(100 * time.Millisecond):
	}
	close(f.hold)
	if names := <-got; !slices.Equal(names, []string{"in-flight"}) {
		t.Errorf("stop = %q, want the container that was being created", names)
	}
}

// Cleanup removes the names it is given, and nothing else, however alike other
// containers' names are.
func TestStopOnCancelRemovesOnlyItsOwn(t *testing.T) {
	t.Parallel()
	f := &fakeDocker{}
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	own := []string{"s2i_foo_tmp_0123abcd", "s2i_builder_latest_89abcdef"}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		stopOnCancel(ctx, f, func() []string { return own }, done)
	}()
	time.Sleep(50 * time.Millisecond)
	f.mu.Lock()
	if len(f.removed) != 0 {
		t.Errorf("removed %q before the cancel", f.removed)
	}
	f.mu.Unlock()
	cancel()
	time.Sleep(300 * time.Millisecond)
	close(done)
	<-finished
	for _, n := range f.removed {
		if !slices.Contains(own, n) {
			t.Errorf("removed %q, not one of this build's", n)
		}
	}
	for _, n := range own {
		if !slices.Contains(f.removed, n) {
			t.Errorf("did not remove %q", n)
		}
	}
}

func TestReadNames(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "containers")
	if got := readNames(p); len(got) != 0 {
		t.Errorf("no file: %q", got)
	}
	if err := os.WriteFile(p, []byte("s2i_a_0123abcd\ns2i_b_89abcdef\ns2i_c_"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := readNames(p); !slices.Equal(got, []string{"s2i_a_0123abcd", "s2i_b_89abcdef"}) {
		t.Errorf("readNames = %q, want the whole lines", got)
	}
}
