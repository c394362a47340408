// Package buildkit is the second engine: builds on a buildkitd reached at
// BUILDKIT_HOST, for runners that have no Docker socket (Kubernetes runners, a
// buildkitd fleet). It is the only package that speaks BuildKit: the pipeline
// hands it a pipeline.KitJob, and it turns that into LLB the client builds itself
// (the builder image, the source and the restored state as local contexts, the
// builder's assemble run as the build user with the build user's home mounted
// read-write), solves it, and streams the home back as a tar. No image is kept on
// buildkitd: the state lives in the project's cache, the final image is composed
// by the client. See docs/buildkit.md.
package buildkit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	bkclient "github.com/moby/buildkit/client"
	"google.golang.org/grpc/status"
)

// Options say how to reach buildkitd, as buildctl takes them: the address
// (unix:// or tcp://) and, for tcp://, mutual TLS.
type Options struct {
	Host       string
	CACert     string // file: the CA that signed buildkitd's certificate
	Cert, Key  string // files: the client's certificate and key
	ServerName string // the name to verify buildkitd's certificate for
}

// Engine is a connected buildkitd.
type Engine struct {
	c    *bkclient.Client
	host string
}

// pingTimeout bounds the first call: a buildkitd that does not answer in it is
// one clear line, not a build that hangs.
const pingTimeout = 20 * time.Second

// Connect connects to buildkitd and asks it for its workers, so that a dead,
// misaddressed or refusing daemon (a wrong CA, a missing client certificate) is
// one clear sentence before anything else runs.
func Connect(ctx context.Context, o Options) (*Engine, error) {
	var opts []bkclient.ClientOpt
	if o.CACert != "" || o.ServerName != "" {
		opts = append(opts, bkclient.WithServerConfig(o.ServerName, o.CACert))
	}
	if o.Cert != "" || o.Key != "" {
		opts = append(opts, bkclient.WithCredentials(o.Cert, o.Key))
	}
	c, err := bkclient.New(ctx, o.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("buildkitd at %s: %s", o.Host, oneLine(err))
	}
	pingCtx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	ws, err := c.ListWorkers(pingCtx)
	if err == nil && len(ws) == 0 {
		err = errors.New("it has no workers")
	}
	if err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("buildkitd at %s does not answer: %s", o.Host, oneLine(err))
	}
	return &Engine{c: c, host: o.Host}, nil
}

// Close ends the connection.
func (e *Engine) Close() error { return e.c.Close() }

// Host is the address the engine was reached at.
func (e *Engine) Host() string { return e.host }

// oneLine is a gRPC error's message without the "rpc error: code = ..." wrapping
// and on one line: what a user can act on.
func oneLine(err error) string {
	msg := err.Error()
	if s, ok := status.FromError(err); ok && s.Message() != "" {
		msg = s.Message()
	}
	return strings.Join(strings.Fields(msg), " ")
}
