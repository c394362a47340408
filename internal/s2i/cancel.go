package s2i

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/client"
)

// buildIDEnv marks the assemble container of one build, so that a cancelled build
// can find the containers it started: the S2I library runs them without a context.
const buildIDEnv = "RUST_S2I_BUILD_ID"

func newBuildID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// containerEngine is the part of the Docker client that stopping a build needs.
type containerEngine interface {
	ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerInspect(ctx context.Context, containerID string, options client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	ContainerRemove(ctx context.Context, containerID string, options client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
}

// stopOnCancel removes this build's containers once ctx is cancelled, and keeps
// doing so until done is closed, since S2I may start its next container (assemble
// after save-artifacts) after the first was removed. The -tmp image is only
// committed after assemble succeeds, so a stopped build leaves the images as they were.
func stopOnCancel(ctx context.Context, e containerEngine, buildID, tag string, done <-chan struct{}) {
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	// save-artifacts runs without our environment; S2I names its container after
	// the image it runs, the previous -tmp image.
	prefix := "/s2i_" + sanitize(tag) + "_"
	bg := context.WithoutCancel(ctx)
	for {
		list, err := e.ContainerList(bg, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("name", "s2i_")})
		if err == nil {
			for _, c := range list.Items {
				if ours(bg, e, c.ID, c.Names, prefix, buildID) {
					_, _ = e.ContainerRemove(bg, c.ID, client.ContainerRemoveOptions{Force: true})
				}
			}
		}
		select {
		case <-done:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func ours(ctx context.Context, e containerEngine, id string, names []string, prefix, buildID string) bool {
	if slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, prefix) }) {
		return true
	}
	in, err := e.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil || in.Container.Config == nil {
		return false
	}
	return slices.Contains(in.Container.Config.Env, buildIDEnv+"="+buildID)
}

// sanitize names an image the way S2I names containers after it.
func sanitize(image string) string {
	return strings.Map(func(r rune) rune {
		if ('0' <= r && r <= '9') || ('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z') {
			return r
		}
		return '_'
	}, image)
}
