package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
)

// The engine and buildkit-* settings: which engine builds, and how to reach
// buildkitd when it is BuildKit (for runners with no Docker socket, such as a
// Kubernetes pod). Picking the engine and connecting are the composition root's;
// the settings are read and checked here with every other, so that one run
// reports every bad input.

// The engines, the values of Config.Engine.
const (
	EngineAuto     = "auto"     // the Docker Engine when it answers, else BuildKit when BuildKit.Addr is set
	EngineDocker   = "docker"   // the Docker Engine, found as the docker CLI finds it
	EngineBuildKit = "buildkit" // buildkitd at BuildKit.Addr
)

var engines = []string{EngineAuto, EngineDocker, EngineBuildKit}

// BuildKitHostEnv is the variable buildctl takes buildkitd's address from when
// --addr is not given; buildkit-host falls back to it the same way, so that a
// runner set up for buildctl needs no setting.
const BuildKitHostEnv = "BUILDKIT_HOST"

// BuildKit is the BuildKit section of a Config: buildkitd's address and the
// client side of its TLS.
type BuildKit struct {
	// Host is the buildkit-host setting, as buildctl's --addr: unix:///PATH or
	// tcp://HOST:PORT. Empty leaves it to EnvHost; Addr is the one in force.
	Host string
	// EnvHost is BUILDKIT_HOST, from the environment rather than a setting (see
	// Repository and ReadEnvironment): held here so that Validate, still a
	// function of the Config, can tell engine buildkit without an address.
	EnvHost string
	TLS     BuildKitTLS
}

// ReadEnvironment sets EnvHost from BUILDKIT_HOST, read through getenv.
// FromEnvironment calls it; the CLI calls it for flags.
func (b *BuildKit) ReadEnvironment(getenv func(string) string) {
	b.EnvHost = strings.TrimSpace(getenv(BuildKitHostEnv))
}

// Addr is buildkitd's address: buildkit-host, else BUILDKIT_HOST; "" when
// neither is set. With engine auto it is not checked when it comes from
// BUILDKIT_HOST (see validateBuildKit): then it may be an address buildctl takes
// and this program does not, such as docker-container://NAME.
func (b BuildKit) Addr() string {
	if b.Host != "" {
		return b.Host
	}
	return b.EnvHost
}

// BuildKitTLS is the client side of a tcp:// buildkitd's TLS, as buildctl's
// --tlscacert, --tlscert, --tlskey and --tlsservername and the remote driver of
// docker/setup-buildx-action take it: paths of PEM files, and the name the
// server's certificate is checked against. All empty is no TLS.
type BuildKitTLS struct {
	CACert     string // the CA that signed buildkitd's certificate
	Cert       string // the client certificate, with Key
	Key        string // the client certificate's key, with Cert: a path, not a secret
	ServerName string // empty is the address's host name, as buildctl takes it
}

// files are the TLS settings that name files, with their settings' names.
func (t BuildKitTLS) files() []struct{ field, path string } {
	return []struct{ field, path string }{
		{"buildkit-tls-ca-cert", t.CACert}, {"buildkit-tls-cert", t.Cert}, {"buildkit-tls-key", t.Key},
	}
}

// addrForTLS is the address the TLS settings go with: buildkit-host, else
// BUILDKIT_HOST unless engine docker says BuildKit is not used.
func (c Config) addrForTLS() string {
	if c.BuildKit.Host == "" && c.Engine == EngineDocker {
		return ""
	}
	return c.BuildKit.Addr()
}

// validateBuildKit checks the engine and the buildkit-* settings.
func (c Config) validateBuildKit(name Naming) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &InputError{Name: name(field), Problem: fmt.Sprintf(format, args...)})
	}
	if !oneOf(c.Engine, engines) {
		bad("engine", "%q is not one of %s", c.Engine, strings.Join(engines, ", "))
	}
	b := c.BuildKit
	switch {
	case b.Host != "":
		// Checked whatever the engine: a typo here is worth a word.
		if err := checkBuildKitAddr(b.Host); err != nil {
			errs = append(errs, &InputError{Name: name("buildkit-host"), Err: err, Problem: fmt.Sprintf(
				"%q is not a buildkitd address, unix:///PATH or tcp://HOST:PORT (%v)", b.Host, err)})
		}
	case c.Engine != EngineBuildKit:
		// BUILDKIT_HOST is only checked when BuildKit is asked for: with auto, an
		// address buildctl takes and we do not must not fail a build the Docker
		// Engine would do.
	case b.EnvHost == "":
		bad("buildkit-host", "is required with %s %s: set it, or %s, to buildkitd's address, unix:///PATH or tcp://HOST:PORT",
			name("engine"), EngineBuildKit, BuildKitHostEnv)
	default:
		if err := checkBuildKitAddr(b.EnvHost); err != nil {
			errs = append(errs, &InputError{Name: name("buildkit-host"), Err: err, Problem: fmt.Sprintf(
				"is not set, and %s=%q is not a buildkitd address, unix:///PATH or tcp://HOST:PORT (%v): set %s, or fix %s",
				BuildKitHostEnv, b.EnvHost, err, name("buildkit-host"), BuildKitHostEnv)})
		}
	}
	switch {
	case b.TLS.Cert != "" && b.TLS.Key == "":
		bad("buildkit-tls-key", "is required with %s", name("buildkit-tls-cert"))
	case b.TLS.Cert == "" && b.TLS.Key != "":
		bad("buildkit-tls-cert", "is required with %s", name("buildkit-tls-key"))
	}
	if addr := c.addrForTLS(); strings.HasPrefix(addr, "unix://") {
		for _, t := range append(b.TLS.files(), struct{ field, path string }{"buildkit-tls-server-name", b.TLS.ServerName}) {
			if t.path != "" {
				bad(t.field, "is for a tcp:// buildkitd, and %s is a unix socket, which has no TLS: leave it unset", addr)
			}
		}
	}
	return errs
}

// checkBuildKitAddr checks an address of the two kinds this program connects
// over: a unix socket, and TCP (with TLS or without). buildctl takes more
// (docker-container://, kube-pod://, ssh://), which reach buildkitd through
// docker, kubectl or ssh; its error says what is wrong, for a parenthesis.
func checkBuildKitAddr(addr string) error {
	u, err := url.Parse(addr)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "unix":
		if strings.TrimPrefix(addr, "unix://") == "" {
			return errors.New("no socket path")
		}
	case "tcp":
		if u.Hostname() == "" || u.Port() == "" {
			return errors.New("no host and port")
		}
		if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
			return errors.New("a path after the port")
		}
	default:
		return errors.New("another scheme")
	}
	return nil
}

// preflightBuildKit checks that the TLS files are there to be read: regular files
// (the symlinks of a Kubernetes secret volume are followed) that this process can
// open. They are opened, never read: the key stays out of every log. What
// Validate refuses (TLS with a unix socket) is left alone.
func (c Config) preflightBuildKit(name Naming) error {
	if strings.HasPrefix(c.addrForTLS(), "unix://") {
		return nil
	}
	var errs []error
	for _, t := range c.BuildKit.TLS.files() {
		if t.path == "" {
			continue
		}
		if problem, err := unreadableFile(t.path); problem != "" {
			errs = append(errs, &InputError{Name: name(t.field), Problem: fmt.Sprintf("%q %s", t.path, problem), Err: err})
		}
	}
	return errors.Join(errs...)
}

// unreadableFile says why path is not a regular file this process can open, and
// the cause; "" when it is one.
func unreadableFile(path string) (problem string, err error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist", err
	case err != nil:
		return fmt.Sprintf("cannot be looked at: %v", err), err
	case st.IsDir():
		return "is a directory, not a file", nil
	case !st.Mode().IsRegular():
		return "is not a regular file", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("cannot be read: %v", err), err
	}
	f.Close()
	return "", nil
}
