package pipeline

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/internal/shell"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// secretsVolume puts the secrets (NAME=VALUE) into a Docker volume of their own, for
// the build containers to mount read-only at tmpimage.SecretsDir. S2I commits a
// build's environment into the image it makes, and a volume is never committed;
// unlike a bind mount of a host file, a volume works the same on a remote or
// Docker-in-Docker engine. The returned function removes the volume; it runs on
// every path, a cancelled build's included.
func (s *buildStage) secretsVolume(ctx context.Context, image string, secrets []string) (bind string, remove func(), err error) {
	vol, err := s.e.VolumeCreate(ctx, client.VolumeCreateOptions{
		Name:   secretsVolumeName(),
		Labels: map[string]string{"io.rust-s2i.secrets": "true"},
	})
	if err != nil {
		return "", nil, fmt.Errorf("creating the secrets volume: %w", err)
	}
	name := vol.Volume.Name
	remove = func() {
		_, _ = s.e.VolumeRemove(context.WithoutCancel(ctx), name, client.VolumeRemoveOptions{Force: true})
	}
	// The file goes in through a container that never starts, as `docker cp` into
	// a volume does.
	opts := client.ContainerCreateOptions{
		Image:      image,
		Config:     &container.Config{Entrypoint: []string{"/nonexistent"}},
		HostConfig: &container.HostConfig{Binds: []string{name + ":" + tmpimage.SecretsDir}},
	}
	err = engine.WithContainer(ctx, s.e, opts, func(c string) error {
		_, err := s.e.CopyToContainer(ctx, c, client.CopyToContainerOptions{DestinationPath: tmpimage.SecretsDir, Content: secretsTar(secrets)})
		return err
	})
	if err != nil {
		remove()
		// The error names the volume and container, never a value.
		return "", nil, fmt.Errorf("writing the secrets volume: %w", err)
	}
	return name + ":" + tmpimage.SecretsDir + ":ro", remove, nil
}

// secretsTar is a tar holding tmpimage.SecretsFile: NAME='VALUE' lines that sh can
// source, readable only by the build user.
func secretsTar(secrets []string) *bytes.Reader {
	var env strings.Builder
	for _, kv := range secrets {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&env, "%s=%s\n", k, shell.Quote(v))
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: tmpimage.SecretsFile, Typeflag: tar.TypeReg, Mode: 0o400, Size: int64(env.Len()),
		Uid: tmpimage.BuildUser.UID, Gid: tmpimage.BuildUser.GID})
	tw.Write([]byte(env.String()))
	tw.Close()
	return bytes.NewReader(buf.Bytes())
}

// secretsVolumeName is a fresh name for a build's secrets volume: 64 random bits,
// so that builds at the same time on one daemon never share one.
func secretsVolumeName() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "rust-s2i-secrets-" + hex.EncodeToString(b)
}
