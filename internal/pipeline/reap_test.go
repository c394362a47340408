package pipeline

import (
	"context"
	"slices"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// reapDaemon is a daemon with leases, secrets volumes and the containers that mount
// them, for reapDeadBuilds. A removal of something already gone answers not found,
// as when another build's reaper was first.
type reapDaemon struct {
	leases  []container.Summary
	volumes []volume.Volume
	users   map[string][]string // volume: the containers that mount it
	removed []string            // containers and volumes, in order
}

func (d *reapDaemon) ContainerList(_ context.Context, o client.ContainerListOptions) (client.ContainerListResult, error) {
	if o.Filters["label"][labelLease] {
		return client.ContainerListResult{Items: d.leases}, nil
	}
	for v := range o.Filters["volume"] {
		var out []container.Summary
		for _, id := range d.users[v] {
			out = append(out, container.Summary{ID: id})
		}
		return client.ContainerListResult{Items: out}, nil
	}
	return client.ContainerListResult{}, nil
}

func (d *reapDaemon) ContainerRemove(_ context.Context, id string, _ client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	if id == "gone" {
		return client.ContainerRemoveResult{}, cerrdefs.ErrNotFound
	}
	d.removed = append(d.removed, id)
	return client.ContainerRemoveResult{}, nil
}

func (d *reapDaemon) VolumeList(context.Context, client.VolumeListOptions) (client.VolumeListResult, error) {
	return client.VolumeListResult{Items: d.volumes}, nil
}

func (d *reapDaemon) VolumeRemove(_ context.Context, name string, _ client.VolumeRemoveOptions) (client.VolumeRemoveResult, error) {
	d.removed = append(d.removed, name)
	return client.VolumeRemoveResult{}, nil
}

// A secrets volume goes, with every container that mounts it, once its build's
// lease no longer runs: exited (and so auto-removed), or created and never started
// for longer than leaseStartGrace. A running or just-created lease keeps its
// build's volume and containers, whatever host the build runs on; a volume that
// predates the build label stays.
func TestReapDeadBuilds(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	lease := func(id, build string, state container.ContainerState, age time.Duration) container.Summary {
		return container.Summary{ID: id, State: state, Created: now.Add(-age).Unix(),
			Labels: map[string]string{labelLease: "true", labelBuild: build}}
	}
	vol := func(name, build string) volume.Volume {
		labels := map[string]string{labelSecrets: "true"}
		if build != "" {
			labels[labelBuild] = build
		}
		return volume.Volume{Name: name, Labels: labels}
	}
	tests := []struct {
		name    string
		leases  []container.Summary
		volumes []volume.Volume
		users   map[string][]string
		want    []string // removed, in order
	}{
		{"running lease keeps its build", []container.Summary{lease("l1", "b1", container.StateRunning, time.Hour)},
			[]volume.Volume{vol("v1", "b1")}, map[string][]string{"v1": {"l1", "assemble1"}}, nil},
		{"paused lease keeps its build", []container.Summary{lease("l1", "b1", container.StatePaused, time.Hour)},
			[]volume.Volume{vol("v1", "b1")}, nil, nil},
		{"lease starting keeps its build", []container.Summary{lease("l1", "b1", container.StateCreated, time.Minute)},
			[]volume.Volume{vol("v1", "b1")}, map[string][]string{"v1": {"l1"}}, nil},
		{"no lease: build killed", nil,
			[]volume.Volume{vol("v1", "b1")}, map[string][]string{"v1": {"assemble1", "save1"}}, []string{"assemble1", "save1", "v1"}},
		{"lease never started", []container.Summary{lease("l1", "b1", container.StateCreated, leaseStartGrace+time.Second)},
			[]volume.Volume{vol("v1", "b1")}, map[string][]string{"v1": {"gone"}}, []string{"l1", "v1"}},
		{"exited lease not yet auto-removed", []container.Summary{lease("l1", "b1", container.StateExited, time.Minute)},
			[]volume.Volume{vol("v1", "b1")}, map[string][]string{"v1": {"assemble1"}}, []string{"l1", "assemble1", "v1"}},
		{"only the dead one of two", []container.Summary{lease("l2", "b2", container.StateRunning, time.Hour)},
			[]volume.Volume{vol("v1", "b1"), vol("v2", "b2")}, map[string][]string{"v1": {"assemble1"}, "v2": {"l2", "assemble2"}},
			[]string{"assemble1", "v1"}},
		{"volume of an older version stays", nil, []volume.Volume{vol("v0", "")}, map[string][]string{"v0": {"c0"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := &reapDaemon{leases: tc.leases, volumes: tc.volumes, users: tc.users}
			n, err := reapDeadBuilds(t.Context(), d, now)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.removed, tc.want) {
				t.Errorf("removed %q, want %q", d.removed, tc.want)
			}
			if want := len(tc.volumes) - countKept(tc.volumes, d.removed); n != want {
				t.Errorf("reported %d volumes removed, want %d", n, want)
			}
		})
	}
}

func countKept(vols []volume.Volume, removed []string) int {
	n := 0
	for _, v := range vols {
		if !slices.Contains(removed, v.Name) {
			n++
		}
	}
	return n
}

// The lease creates the volume it holds, labelled with the build, mounts it where
// the build containers find the secrets, and does nothing but wait for its stdin
// to end and then delete the secrets file: as root, without network, removed by
// the daemon when it exits.
func TestLeaseOptions(t *testing.T) {
	t.Parallel()
	o := leaseOptions("builder:1", "rust-s2i-secrets-x", "b1")
	c, hc := o.Config, o.HostConfig
	if c.Labels[labelLease] != "true" || c.Labels[labelBuild] != "b1" || c.Labels[labelBuildHost] == "" {
		t.Errorf("lease labels %v", c.Labels)
	}
	if !c.OpenStdin || !c.StdinOnce || !c.AttachStdin || !hc.AutoRemove || hc.NetworkMode != "none" || c.User != "0" {
		t.Errorf("the lease must end with its attach and remove itself: %+v %+v", c, hc)
	}
	want := "cat >/dev/null; rm -f '" + tmpimage.SecretsDir + "/" + tmpimage.SecretsFile + "'"
	if !slices.Equal(c.Entrypoint, []string{"/bin/sh", "-c", want}) {
		t.Errorf("entrypoint %q", c.Entrypoint)
	}
	if len(hc.Mounts) != 1 {
		t.Fatalf("mounts %+v", hc.Mounts)
	}
	m := hc.Mounts[0]
	if m.Type != mount.TypeVolume || m.Source != "rust-s2i-secrets-x" || m.Target != tmpimage.SecretsDir ||
		m.VolumeOptions.Labels[labelSecrets] != "true" || m.VolumeOptions.Labels[labelBuild] != "b1" || m.VolumeOptions.Labels[labelLease] != "" {
		t.Errorf("mount %+v, labels %v", m, m.VolumeOptions.Labels)
	}
}
