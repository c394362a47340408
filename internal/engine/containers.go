package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
)

// Containers is the part of the Docker client that WithContainer needs.
type Containers interface {
	ContainerCreate(ctx context.Context, options client.ContainerCreateOptions) (client.ContainerCreateResult, error)
	ContainerRemove(ctx context.Context, containerID string, options client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
}

// WithContainer creates a container that is never started, runs fn with its ID, and
// removes it on every path. A container is how files go into and out of an image
// through the Engine API (copy to it and commit, or copy from it); not starting it
// means no process, no network and nothing of the image's entrypoint runs.
func WithContainer(ctx context.Context, e Containers, opts client.ContainerCreateOptions, fn func(id string) error) (err error) {
	c, err := e.ContainerCreate(ctx, opts)
	if err != nil {
		return fmt.Errorf("creating container from %s: %w", opts.Image, err)
	}
	defer func() {
		// Removed even when ctx is cancelled: a cancelled build leaves nothing behind.
		_, rmErr := e.ContainerRemove(context.WithoutCancel(ctx), c.ID, client.ContainerRemoveOptions{Force: true})
		if err == nil && rmErr != nil {
			err = fmt.Errorf("removing container %s: %w", c.ID, rmErr)
		}
	}()
	return fn(c.ID)
}

// ReadMessages reads the daemon's stream of JSON messages (an image build or load)
// to its end, hands each to each (which may be nil), and returns the error the
// daemon reports in-band: such a request can fail after its HTTP status said 200.
func ReadMessages(r io.Reader, each func(jsonstream.Message)) error {
	dec := json.NewDecoder(r)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading the daemon's messages: %w", err)
		}
		if m.Error != nil {
			return errors.New(strings.TrimSpace(m.Error.Message))
		}
		if each != nil {
			each(m)
		}
	}
}

// Runner is the part of the Docker client that Output needs.
type Runner interface {
	Containers
	ContainerStart(ctx context.Context, containerID string, options client.ContainerStartOptions) (client.ContainerStartResult, error)
	ContainerWait(ctx context.Context, containerID string, options client.ContainerWaitOptions) client.ContainerWaitResult
	ContainerLogs(ctx context.Context, containerID string, options client.ContainerLogsOptions) (client.ContainerLogsResult, error)
}

// Output runs cmd in a container of image with no network and returns what it
// wrote to stdout. A start costs most of a second, so callers keep the answer.
func Output(ctx context.Context, e Runner, image string, cmd ...string) (string, error) {
	opts := client.ContainerCreateOptions{
		Image:      image,
		Config:     &container.Config{Entrypoint: cmd[:1], Cmd: cmd[1:]},
		HostConfig: &container.HostConfig{NetworkMode: "none"},
	}
	var out string
	err := WithContainer(ctx, e, opts, func(id string) error {
		if _, err := e.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
			return fmt.Errorf("running %s in %s: %w", strings.Join(cmd, " "), image, err)
		}
		wait := e.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		var code int64
		select {
		case r := <-wait.Result:
			code = r.StatusCode
		case err := <-wait.Error:
			return fmt.Errorf("running %s in %s: %w", strings.Join(cmd, " "), image, err)
		}
		logs, err := e.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
		if err != nil {
			return fmt.Errorf("reading the output of %s: %w", strings.Join(cmd, " "), err)
		}
		defer logs.Close()
		var stdout, stderr strings.Builder
		if _, err := stdcopy.StdCopy(&stdout, &stderr, logs); err != nil {
			return fmt.Errorf("reading the output of %s: %w", strings.Join(cmd, " "), err)
		}
		if code != 0 {
			return fmt.Errorf("%s in %s exited with %d: %s", strings.Join(cmd, " "), image, code, strings.TrimSpace(stderr.String()))
		}
		out = stdout.String()
		return nil
	})
	return out, err
}

// Archives is the part of the Docker client that ContainerFiles needs.
type Archives interface {
	CopyFromContainer(ctx context.Context, containerID string, options client.CopyFromContainerOptions) (client.CopyFromContainerResult, error)
}

// Files is the part of the Docker client that ReadFiles needs.
type Files interface {
	Containers
	Archives
}

// ReadFiles reads the named regular files of directory dir out of an image (every
// regular file below dir when no name is given, named by its path below dir), in
// one pass through a container that is created but never started. Names it does
// not find are missing from the result. Each file is bounded by MaxFile.
func ReadFiles(ctx context.Context, e Files, image, dir string, names ...string) (map[string][]byte, error) {
	var files map[string][]byte
	// The entrypoint is never run; it only lets the daemon create a container from
	// an image that names no command.
	opts := client.ContainerCreateOptions{Image: image, Config: &container.Config{Entrypoint: []string{"/nonexistent"}}}
	err := WithContainer(ctx, e, opts, func(c string) error {
		var err error
		files, err = ContainerFiles(ctx, e, c, dir, names...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s of %s: %w", dir, image, err)
	}
	return files, nil
}

// ContainerFiles is ReadFiles on an existing container, running or stopped: the
// build reads the binary from its own container while S2I commits it.
func ContainerFiles(ctx context.Context, e Archives, containerID, dir string, names ...string) (map[string][]byte, error) {
	res, err := e.CopyFromContainer(ctx, containerID, client.CopyFromContainerOptions{SourcePath: dir})
	if err != nil {
		return nil, fmt.Errorf("copying %s out of the container: %w", dir, err)
	}
	defer res.Content.Close()
	// Entries are named dir's base name, then the file: bin/NAME.
	files, err := archive.ReadFiles(res.Content, path.Base(dir)+"/", names, MaxFile)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	return files, nil
}

// MaxFile bounds what ReadFiles reads of one file: the largest binary a final
// image may hold.
const MaxFile = 4 << 30
