package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/cli/cli/config"
	dcontext "github.com/docker/cli/cli/context"
	"github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"
	cliflags "github.com/docker/cli/cli/flags"
	dopts "github.com/docker/cli/opts"
	"github.com/moby/moby/client"
)

// defaultContext is the Docker context made of the environment (DOCKER_HOST and the
// TLS variables) rather than of a stored context, as the docker CLI names it.
const defaultContext = "default"

// Endpoint is the daemon the docker CLI would talk to with the same environment and
// Docker config, and how to reach it: a socket, tcp with or without TLS, or ssh.
type Endpoint struct {
	// Host is the daemon's address as the docker CLI shows it (`docker context
	// inspect`): unix:///var/run/docker.sock, tcp://docker:2376, ssh://me@host.
	Host string
	// Context is the Docker context it comes from; "default" for the environment.
	Context string

	namedBy string // what picked the context, for messages
	tlsFrom string // where the TLS material is, for messages; "" without TLS
	ep      docker.Endpoint
	opts    []client.Opt // the docker CLI's own: TLS transport, or ssh's dialer
	version string       // DOCKER_API_VERSION
	env     []string     // ChildEnv
}

// Chosen reports whether the user pointed at this daemon (DOCKER_HOST,
// DOCKER_CONTEXT, the Docker config's current context) rather than it being the
// default local socket: a build that may take another engine takes it only when
// the user named none.
func (e Endpoint) Chosen() bool { return e.namedBy != "" }

// endpointVariables are the environment variables Resolve reads.
var endpointVariables = []string{
	client.EnvOverrideHost, "DOCKER_CONTEXT", config.EnvOverrideConfigDir, "HOME",
	client.EnvTLSVerify, cliflags.EnvEnableTLS, client.EnvOverrideCertPath, client.EnvOverrideAPIVersion,
}

// ChildEnv is what a child process of this program (the S2I build's) needs in its
// environment to resolve this same endpoint, whatever it inherited: the variables
// Resolve read, as getenv gave them, and the context pinned by name, so that a
// `docker context use` while the build runs does not move the child to another
// daemon. An empty value is the same as an unset one to Resolve.
func (e Endpoint) ChildEnv() []string {
	return append([]string(nil), e.env...)
}

// Resolve finds the endpoint as the docker CLI does (cli/command's
// resolveContextName and resolveDefaultDockerEndpoint), with getenv for the
// environment:
//   - DOCKER_HOST set: the default context, that host;
//   - else DOCKER_CONTEXT, else the Docker config's currentContext, else the default;
//   - the default context is DOCKER_HOST (or the local socket) with TLS when
//     DOCKER_TLS_VERIFY or DOCKER_TLS is set: ca.pem, cert.pem and key.pem from
//     DOCKER_CERT_PATH (the Docker config directory when unset), verified unless only
//     DOCKER_TLS is set;
//   - a stored context is read from the config directory's contexts/ with the
//     docker CLI's store, its TLS material included; the TLS variables do not apply.
//
// The Docker config directory is DOCKER_CONFIG, else $HOME/.docker. Resolve also
// loads the TLS material, so that a bad certificate file is reported before any
// connection. Each error is one line that names what to fix.
//
// One difference from the docker CLI: a config.json that cannot be parsed is an error
// here (the CLI warns and uses the default context), because the context it names
// may be the daemon the user meant.
func Resolve(getenv func(string) string) (Endpoint, error) {
	dir := ConfigDir(getenv)
	name, namedBy, err := contextName(getenv, dir)
	if err != nil {
		return Endpoint{}, err
	}
	var e Endpoint
	if name == defaultContext {
		e, err = defaultEndpoint(getenv, dir)
	} else {
		e, err = storedEndpoint(dir, name, namedBy)
	}
	if err != nil {
		return Endpoint{}, err
	}
	e.Context, e.namedBy, e.version = name, namedBy, getenv(client.EnvOverrideAPIVersion)
	for _, k := range endpointVariables {
		v := getenv(k)
		if k == "DOCKER_CONTEXT" && getenv(client.EnvOverrideHost) == "" {
			v = name
		}
		e.env = append(e.env, k+"="+v)
	}
	if e.Host == "" {
		e.Host = client.DefaultDockerHost // a context without a host means the local socket
	}
	// The docker CLI's own client options: its TLS transport for tcp (which its
	// tlsConfig builds from the endpoint), its ssh connection helper for ssh://.
	if e.opts, err = e.ep.ClientOpts(); err != nil {
		return Endpoint{}, e.materialError(err)
	}
	return e, nil
}

// ConfigDir is where the docker CLI keeps its config (config.json, contexts/):
// $DOCKER_CONFIG, else $HOME/.docker, else "" (no config: the default context,
// anonymous pulls and pushes, and TLS needs DOCKER_CERT_PATH). It is the docker
// CLI's config.Dir() read through getenv, because that function reads the process
// environment once and keeps it in a package variable.
func ConfigDir(getenv func(string) string) string {
	if d := getenv(config.EnvOverrideConfigDir); d != "" {
		return d
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".docker")
	}
	return ""
}

// contextName is the docker CLI's resolveContextName (no --context or --host flags
// here): DOCKER_HOST wins over any context, then DOCKER_CONTEXT, then currentContext.
func contextName(getenv func(string) string, dir string) (name, namedBy string, err error) {
	if getenv(client.EnvOverrideHost) != "" {
		return defaultContext, client.EnvOverrideHost, nil
	}
	if n := getenv("DOCKER_CONTEXT"); n != "" {
		return n, "DOCKER_CONTEXT", nil
	}
	if dir == "" {
		return defaultContext, "", nil
	}
	cfg, err := config.Load(dir) // dir/config.json only; a missing file is no error
	if err != nil {
		return "", "", fmt.Errorf("reading the Docker config in %s to find the current Docker context (fix the file, or set DOCKER_HOST or DOCKER_CONTEXT): %w", dir, err)
	}
	if cfg.CurrentContext != "" {
		return cfg.CurrentContext, "currentContext in " + filepath.Join(dir, config.ConfigFileName), nil
	}
	return defaultContext, "", nil
}

// defaultEndpoint is the docker CLI's resolveDefaultDockerEndpoint with its flags'
// defaults from the environment (cli/flags: DOCKER_TLS, DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH).
func defaultEndpoint(getenv func(string) string, dir string) (Endpoint, error) {
	verify := getenv(client.EnvTLSVerify) != ""
	useTLS := verify || getenv(cliflags.EnvEnableTLS) != ""
	raw := getenv(client.EnvOverrideHost)
	host, err := dopts.ParseHost(useTLS, raw)
	if err != nil {
		return Endpoint{}, fmt.Errorf("DOCKER_HOST=%s is not a Docker daemon address (unix:///path, tcp://host:port or ssh://user@host): %w", raw, err)
	}
	e := Endpoint{Host: host, ep: docker.Endpoint{EndpointMeta: docker.EndpointMeta{Host: host}}}
	if !useTLS {
		return e, nil
	}
	certPath := getenv(client.EnvOverrideCertPath)
	e.tlsFrom = "DOCKER_CERT_PATH=" + certPath
	if certPath == "" {
		if dir == "" {
			return Endpoint{}, fmt.Errorf("%s asks for TLS but neither DOCKER_CERT_PATH nor HOME is set: set DOCKER_CERT_PATH to the directory with ca.pem, cert.pem and key.pem", tlsVariable(verify))
		}
		certPath, e.tlsFrom = dir, "the Docker config directory "+dir+" (DOCKER_CERT_PATH is unset)"
	}
	e.ep.SkipTLSVerify = !verify
	ca := filepath.Join(certPath, cliflags.DefaultCaFile)
	// As cli/flags' SetDefaultOptions: a missing cert.pem or key.pem means no client
	// certificate, a missing ca.pem is an error.
	cert, key := existing(filepath.Join(certPath, cliflags.DefaultCertFile)), existing(filepath.Join(certPath, cliflags.DefaultKeyFile))
	data, err := dcontext.TLSDataFromFiles(ca, cert, key)
	if errors.Is(err, fs.ErrNotExist) {
		return Endpoint{}, &oneSentence{
			msg: fmt.Sprintf("%s asks for TLS, but there is no ca.pem in %s: point DOCKER_CERT_PATH at the directory with the daemon's ca.pem, and cert.pem and key.pem for a daemon with --tlsverify", tlsVariable(verify), e.tlsFrom),
			err: err,
		}
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("%s asks for TLS, but the certificates in %s cannot be read (it needs ca.pem, and cert.pem and key.pem for a daemon with --tlsverify): %w", tlsVariable(verify), e.tlsFrom, err)
	}
	e.ep.TLSData = data
	return e, nil
}

func tlsVariable(verify bool) string {
	if verify {
		return client.EnvTLSVerify
	}
	return cliflags.EnvEnableTLS
}

// existing is path when a file is there, else "" (but a file that exists and cannot
// be read is kept, so that reading it reports why).
func existing(path string) string {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return ""
	}
	return path
}

// storedEndpoint reads a context that `docker context create` made, with the
// docker CLI's context store.
func storedEndpoint(dir, name, namedBy string) (Endpoint, error) {
	if dir == "" {
		return Endpoint{}, fmt.Errorf("%s names the Docker context %q, but neither DOCKER_CONFIG nor HOME is set to find it", namedBy, name)
	}
	storeDir := filepath.Join(dir, "contexts")
	s := store.New(storeDir, store.NewConfig(nil,
		store.EndpointTypeGetter(docker.DockerEndpoint, func() any { return &docker.EndpointMeta{} })))
	meta, err := s.GetMetadata(name)
	if cerrdefs.IsNotFound(err) {
		return Endpoint{}, &oneSentence{
			msg: fmt.Sprintf("the Docker context %q (from %s) does not exist in %s: check `docker context ls` with DOCKER_CONFIG=%s", name, namedBy, storeDir, dir),
			err: err,
		}
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("reading the Docker context %q (from %s): %w", name, namedBy, err)
	}
	m, err := docker.EndpointFromContext(meta)
	if err != nil {
		return Endpoint{}, fmt.Errorf("the Docker context %q (from %s) has no Docker endpoint: %w", name, namedBy, err)
	}
	ep, err := docker.WithTLSData(s, name, m)
	if err != nil {
		return Endpoint{}, fmt.Errorf("reading the TLS material of the Docker context %q: %w", name, err)
	}
	e := Endpoint{Host: m.Host, ep: ep}
	if ep.TLSData != nil || ep.SkipTLSVerify {
		e.tlsFrom = fmt.Sprintf("the Docker context %q (`docker context inspect %s`)", name, name)
	}
	return e, nil
}
