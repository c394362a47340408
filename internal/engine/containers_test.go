package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
)

func TestReadMessages(t *testing.T) {
	t.Parallel()
	var got []string
	each := func(m jsonstream.Message) { got = append(got, m.Stream) }
	ok := `{"stream":"Step 1/2"}` + "\n" + `{"stream":"Step 2/2"}`
	if err := ReadMessages(strings.NewReader(ok), each); err != nil || strings.Join(got, ",") != "Step 1/2,Step 2/2" {
		t.Errorf("ReadMessages = %v, saw %q", err, got)
	}
	failed := `{"stream":"Step 1/2"}{"errorDetail":{"message":"no space"},"error":"no space"}{"stream":"never"}`
	if err := ReadMessages(strings.NewReader(failed), nil); err == nil || err.Error() != "no space" {
		t.Errorf("in-band failure gave %v, want the daemon's message", err)
	}
	if err := ReadMessages(strings.NewReader(`{"stream":`), nil); err == nil {
		t.Error("a cut stream gave no error")
	}
}

// fakeContainers counts creates and removes; a fake, because the point is the
// removal on paths (fn fails, ctx cancelled) that a real daemon run cannot force.
type fakeContainers struct{ created, removed int }

func (f *fakeContainers) ContainerCreate(context.Context, client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	f.created++
	return client.ContainerCreateResult{ID: "c1"}, nil
}

func (f *fakeContainers) ContainerRemove(ctx context.Context, id string, _ client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	if ctx.Err() != nil {
		return client.ContainerRemoveResult{}, ctx.Err()
	}
	f.removed++
	return client.ContainerRemoveResult{}, nil
}

func TestWithContainerRemovesOnEveryPath(t *testing.T) {
	t.Parallel()
	f := &fakeContainers{}
	boom := errors.New("boom")
	ctx, cancel := context.WithCancel(context.Background())
	err := WithContainer(ctx, f, client.ContainerCreateOptions{Image: "x"}, func(id string) error {
		cancel() // a build cancelled while the container is in use
		if id != "c1" {
			t.Errorf("fn got %q", id)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("WithContainer = %v, want fn's error", err)
	}
	if f.created != 1 || f.removed != 1 {
		t.Errorf("%d created, %d removed; want 1 and 1", f.created, f.removed)
	}
}
