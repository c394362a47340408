// Package engine connects to the Docker Engine that builds run on, and holds the
// few steps that several packages take on it: a never-started container to move
// files in and out of an image, and the daemon's in-band JSON messages. One moby
// client serves the whole program, because the S2I library wants exactly that client.
package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/client"
)

// Connect returns a client for the daemon named by getenv's DOCKER_HOST (or the
// default socket), with the API version negotiated down to what the daemon speaks:
// CI runners have new engines, these machines an old one. It pings first so that a
// dead daemon is one clear sentence, not an error deep inside a build.
func Connect(ctx context.Context, getenv func(string) string) (*client.Client, error) {
	opts := []client.Opt{client.WithAPIVersionNegotiation()}
	host := getenv("DOCKER_HOST")
	if host != "" {
		opts = append(opts, client.WithHost(host))
	} else {
		host = client.DefaultDockerHost
	}
	if v := getenv("DOCKER_API_VERSION"); v != "" {
		opts = append(opts, client.WithAPIVersion(v))
	}
	c, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for %s: %w", host, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := c.Ping(pingCtx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		c.Close()
		return nil, fmt.Errorf("no Docker daemon answers at %s (is it running? set DOCKER_HOST to reach another): %w", host, err)
	}
	return c, nil
}
