package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// reapEngine is the part of the Docker client that removing what dead builds left
// needs.
type reapEngine interface {
	ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerRemove(ctx context.Context, containerID string, options client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
	VolumeList(ctx context.Context, options client.VolumeListOptions) (client.VolumeListResult, error)
	VolumeRemove(ctx context.Context, volumeID string, options client.VolumeRemoveOptions) (client.VolumeRemoveResult, error)
}

// reapDeadBuilds removes, from the daemon, what builds with secrets whose process
// is gone left behind (see secrets.go): their secrets volumes, the build containers
// that mount them (a running assemble included: its build can never commit it), and
// leases that never started. A build is alive while its lease runs, or for
// leaseStartGrace after its lease was created; builds of any host that share the
// daemon are judged alike, since the lease is on the daemon. It returns the number
// of volumes removed.
//
// A volume without the build label comes from a version before leases: whether its
// build still runs cannot be told, so it stays.
func reapDeadBuilds(ctx context.Context, e reapEngine, now time.Time) (int, error) {
	live, err := liveBuilds(ctx, e, now)
	if err != nil {
		return 0, err
	}
	vols, err := e.VolumeList(ctx, client.VolumeListOptions{Filters: make(client.Filters).Add("label", labelSecrets)})
	if err != nil {
		return 0, fmt.Errorf("listing secrets volumes: %w", err)
	}
	var errs []error
	removed := 0
	for _, v := range vols.Items {
		id := v.Labels[labelBuild]
		if id == "" || live[id] {
			continue
		}
		if err := removeVolumeAndUsers(ctx, e, v.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// liveBuilds returns the IDs of the builds whose lease runs or is starting, and
// removes the leases of builds that died before starting theirs.
func liveBuilds(ctx context.Context, e reapEngine, now time.Time) (map[string]bool, error) {
	leases, err := e.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", labelLease)})
	if err != nil {
		return nil, fmt.Errorf("listing build leases: %w", err)
	}
	live := map[string]bool{}
	for _, c := range leases.Items {
		if leaseAlive(c, now) {
			live[c.Labels[labelBuild]] = true
			continue
		}
		// Exited leases remove themselves; one that never started does not.
		_, _ = e.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
	}
	return live, nil
}

// leaseAlive says whether lease c shows its build alive at now.
func leaseAlive(c container.Summary, now time.Time) bool {
	switch c.State {
	case container.StateRunning, container.StatePaused, container.StateRestarting:
		return true
	case container.StateCreated:
		return now.Sub(time.Unix(c.Created, 0)) < leaseStartGrace
	}
	return false
}

// removeVolumeAndUsers force-removes every container that mounts volume, running or
// not, and then the volume.
func removeVolumeAndUsers(ctx context.Context, e reapEngine, volume string) error {
	users, err := e.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("volume", volume)})
	if err != nil {
		return fmt.Errorf("listing the containers of %s: %w", volume, err)
	}
	for _, c := range users.Items {
		_, err := e.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
		if err != nil && !cerrdefs.IsNotFound(err) { // another build's reaper was first
			return fmt.Errorf("removing container %s of %s: %w", c.ID, volume, err)
		}
	}
	if _, err := e.VolumeRemove(ctx, volume, client.VolumeRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing %s: %w", volume, err)
	}
	return nil
}
