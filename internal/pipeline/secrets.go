package pipeline

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/shell"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// The secrets of a build (secret-env) live in a Docker volume of their own, and
// that volume is held by a lease: a container that runs for as long as the build's
// process lives, and no longer. The lease runs `cat` on its stdin, which this
// process keeps attached; when the process ends, however it ends (a SIGKILL of PID
// 1 in a CI's container included), the daemon sees the attach connection close and
// closes the container's stdin (StdinOnce), and the lease deletes the secrets file
// from the volume, exits, and is removed by the daemon (AutoRemove). So the
// plain-text file does not outlive the process that wrote it by more than that,
// whether or not a deferred cleanup gets to run.
//
// What the lease cannot stop are the S2I build containers of a build whose process
// died: the daemon goes on running assemble (cargo holds the secrets in its
// environment) until it ends, and then keeps the stopped container. They are found
// through the volume they mount: every build container of a build with secrets
// mounts its secrets volume (S2I passes BuildVolumes to assemble and to
// save-artifacts alike). The next build on the daemon removes them, with the
// volume, when it starts (reapDeadBuilds): a build whose lease is not running is
// over. A label on the build containers themselves would not do: the daemon copies
// a container's labels into the image committed from it, so the -tmp image, and
// every container later made from it, would carry the mark of an ended build.
const (
	labelSecrets = "io.rust-s2i.secrets" // on a secrets volume: "true"
	labelLease   = "io.rust-s2i.lease"   // on a lease container: "true"
	// labelBuild is on both: a random ID of the build, which ties a volume to its
	// lease.
	labelBuild = "io.rust-s2i.build"
	// labelBuildStarted (RFC 3339) and labelBuildHost (host name and process ID)
	// say which build made them, for people; the reaper decides by the lease alone.
	labelBuildStarted = "io.rust-s2i.build.started"
	labelBuildHost    = "io.rust-s2i.build.host"
)

// leaseStartGrace is how long a lease container may stay created but not started
// before the build it belongs to counts as dead: long enough for a slow daemon to
// start it, short enough that the empty volume of a build killed in that moment
// goes soon. The volume is still empty then: the secrets go in after the start.
const leaseStartGrace = 5 * time.Minute

// secretsVolume puts the secrets (NAME=VALUE) into a Docker volume of their own, for
// the build containers to mount read-only at tmpimage.SecretsDir. S2I commits a
// build's environment into the image it makes, and a volume is never committed;
// unlike a bind mount of a host file, a volume works the same on a remote or
// Docker-in-Docker engine.
//
// The volume is created with its lease container (see above), which is started
// before the secrets are copied in. The returned function removes both at once; it
// runs on every path this process lives through, a cancelled build's included, and
// when it does not (the process was killed), the lease wipes the volume and the next
// build's reapDeadBuilds removes it.
func (s *buildStage) secretsVolume(ctx context.Context, image string, secrets []string) (bind string, remove func(), err error) {
	id := randomHex(8)
	name := "rust-s2i-secrets-" + id
	lease, err := s.e.ContainerCreate(ctx, leaseOptions(image, name, id))
	if err != nil {
		return "", nil, fmt.Errorf("creating the secrets volume: %w", err)
	}
	var attached *client.ContainerAttachResult
	remove = func() {
		bg := context.WithoutCancel(ctx)
		// Killed and removed before the attach closes: closed first, the lease would
		// exit and the daemon remove it meanwhile, the volume in use until it has.
		_, _ = s.e.ContainerRemove(bg, lease.ID, client.ContainerRemoveOptions{Force: true})
		if attached != nil {
			attached.Close()
		}
		removeVolume(bg, s.e, name)
	}
	if attached, err = s.holdLease(ctx, lease.ID); err != nil {
		remove()
		return "", nil, fmt.Errorf("starting the secrets volume's lease: %w", err)
	}
	// The file goes in through the lease, as `docker cp` into a volume does.
	_, err = s.e.CopyToContainer(ctx, lease.ID, client.CopyToContainerOptions{DestinationPath: tmpimage.SecretsDir, Content: secretsTar(secrets)})
	if err != nil {
		remove()
		// The error names the volume and container, never a value.
		return "", nil, fmt.Errorf("writing the secrets volume: %w", err)
	}
	return name + ":" + tmpimage.SecretsDir + ":ro", remove, nil
}

// removeVolume removes the secrets volume, waiting up to volumeRemoveWait for the
// lease to be gone: a lease killed while it exits on its own is being removed by
// the daemon (AutoRemove), and until then the volume is in use. A volume left
// would hold the secrets until the next build reaps it (a killed lease wipes
// nothing).
func removeVolume(ctx context.Context, e interface {
	VolumeRemove(ctx context.Context, volumeID string, options client.VolumeRemoveOptions) (client.VolumeRemoveResult, error)
}, name string) {
	deadline := time.Now().Add(volumeRemoveWait)
	for {
		_, err := e.VolumeRemove(ctx, name, client.VolumeRemoveOptions{Force: true})
		if err == nil || !cerrdefs.IsConflict(err) || time.Now().After(deadline) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// volumeRemoveWait bounds removeVolume's wait for a lease on its way out.
const volumeRemoveWait = 10 * time.Second

// holdLease attaches to the lease's stdin and starts it. The attach stays open until
// the returned connection is closed or this process ends.
func (s *buildStage) holdLease(ctx context.Context, id string) (*client.ContainerAttachResult, error) {
	att, err := s.e.ContainerAttach(ctx, id, client.ContainerAttachOptions{Stream: true, Stdin: true})
	if err != nil {
		return nil, err
	}
	if _, err := s.e.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		att.Close()
		return nil, err
	}
	return &att, nil
}

// leaseOptions are the lease container of build id, which creates the secrets
// volume name as it is created: the volume never exists without its lease, so a
// reaper that finds a volume without one knows its build is over. It runs as root,
// without network, and only waits for its stdin to end to delete the secrets file.
func leaseOptions(image, volume, id string) client.ContainerCreateOptions {
	labels := buildLabels(id)
	volumeLabels := buildLabels(id)
	labels[labelLease], volumeLabels[labelSecrets] = "true", "true"
	wipe := "cat >/dev/null; rm -f " + shell.Quote(path.Join(tmpimage.SecretsDir, tmpimage.SecretsFile))
	return client.ContainerCreateOptions{
		Image: image,
		Config: &container.Config{
			Entrypoint:  []string{"/bin/sh", "-c", wipe},
			User:        "0",
			AttachStdin: true, OpenStdin: true, StdinOnce: true,
			NetworkDisabled: true,
			Labels:          labels,
		},
		HostConfig: &container.HostConfig{
			AutoRemove:  true,
			NetworkMode: "none",
			LogConfig:   container.LogConfig{Type: "none"},
			Mounts: []mount.Mount{{
				Type: mount.TypeVolume, Source: volume, Target: tmpimage.SecretsDir,
				VolumeOptions: &mount.VolumeOptions{NoCopy: true, Labels: volumeLabels},
			}},
		},
	}
}

// buildLabels are the labels that name build id and say where and when it ran.
func buildLabels(id string) map[string]string {
	host, _ := os.Hostname()
	return map[string]string{
		labelBuild:        id,
		labelBuildStarted: time.Now().UTC().Format(time.RFC3339),
		labelBuildHost:    host + ":" + strconv.Itoa(os.Getpid()),
	}
}

// secretNamesFile, beside tmpimage.SecretsFile, names the secrets, one a line:
// assemble scrubs what cargo and rustc record of them in target/ (see s2i/bin/
// assemble). The names are no secret; the lease leaves them.
const secretNamesFile = tmpimage.SecretsFile + ".names"

// secretFiles are tmpimage.SecretsFile, NAME='VALUE' lines that sh can source,
// and secretNamesFile, by their paths in the build: what assemble reads on
// either engine (a volume on Docker, BuildKit's secrets).
func secretFiles(secrets []string) map[string][]byte {
	if len(secrets) == 0 {
		return nil
	}
	var env, names strings.Builder
	for _, kv := range secrets {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&env, "%s=%s\n", k, shell.Quote(v))
		names.WriteString(k + "\n")
	}
	return map[string][]byte{
		path.Join(tmpimage.SecretsDir, tmpimage.SecretsFile): []byte(env.String()),
		path.Join(tmpimage.SecretsDir, secretNamesFile):      []byte(names.String()),
	}
}

// secretsTar is a tar holding secretFiles, names relative to tmpimage.SecretsDir,
// each readable only by the build user.
func secretsTar(secrets []string) *bytes.Reader {
	files := secretFiles(secrets)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{tmpimage.SecretsFile, secretNamesFile} {
		data := files[path.Join(tmpimage.SecretsDir, name)]
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o400, Size: int64(len(data)),
			Uid: tmpimage.BuildUser.UID, Gid: tmpimage.BuildUser.GID})
		tw.Write(data)
	}
	tw.Close()
	return bytes.NewReader(buf.Bytes())
}

// randomHex is n random bytes in hex: 64 random bits for n=8, so that builds at the
// same time on one daemon never share a name.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
