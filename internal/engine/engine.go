// Package engine connects to the Docker Engine that builds run on, and holds the
// few steps that several packages take on it: a never-started container to move
// files in and out of an image, and the daemon's in-band JSON messages. One moby
// client serves the whole program, because the S2I library wants exactly that client.
//
// The daemon is found as the docker CLI finds it (see Resolve), with the docker CLI's
// own libraries: DOCKER_HOST with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, ssh:// hosts
// through its connection helper, and Docker contexts.
package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/client"
)

// Connect resolves the daemon from getenv and the Docker config (see Resolve) and
// connects to it.
func Connect(ctx context.Context, getenv func(string) string) (*client.Client, error) {
	e, err := Resolve(getenv)
	if err != nil {
		return nil, err
	}
	return e.Connect(ctx)
}

// Connect returns a client for the endpoint, with the API version negotiated down to
// what the daemon speaks (CI runners have new engines, these machines an old one)
// unless DOCKER_API_VERSION fixes it. It pings first so that a dead or misconfigured
// daemon is one clear sentence, not an error deep inside a build.
func (e Endpoint) Connect(ctx context.Context) (*client.Client, error) {
	opts := append([]client.Opt{}, e.opts...)
	// After the CLI's options, whose last one reads DOCKER_API_VERSION from the
	// process environment: the same value as getenv's in the program, whose getenv
	// is os.Getenv.
	opts = append(opts, client.WithAPIVersionNegotiation())
	if e.version != "" {
		opts = append(opts, client.WithAPIVersion(e.version))
	}
	c, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for %s: %w", e.Host, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := c.Ping(pingCtx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		c.Close()
		return nil, e.pingError(err)
	}
	return c, nil
}
