package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/pkg/authconfig"
	registrytypes "github.com/moby/moby/api/types/registry"
)

// Auth is a registry login. The zero value means anonymous.
//
// It never prints its password: fmt shows *** in its place (%v, %+v, %#v, %s, %q),
// and so does encoding/json, so a Config dump, a log line or an output cannot
// leak it. Read the Password field where the value itself is needed.
type Auth struct {
	Username string
	Password string
}

// IsZero reports whether a is anonymous.
func (a Auth) IsZero() bool { return a.Username == "" && a.Password == "" }

func (a Auth) masked() string {
	if a.Password == "" {
		return ""
	}
	return "***"
}

// String shows the username and *** for the password.
func (a Auth) String() string { return fmt.Sprintf("{%s %s}", a.Username, a.masked()) }

// Format makes every fmt verb go through the masked form, %#v included.
func (a Auth) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprintf(f, "registry.Auth{Username:%q, Password:%q}", a.Username, a.masked())
	case verb == 'v' && f.Flag('+'):
		fmt.Fprintf(f, "{Username:%s Password:%s}", a.Username, a.masked())
	case verb == 'q':
		fmt.Fprintf(f, "%q", a.String())
	default:
		fmt.Fprint(f, a.String())
	}
}

// MarshalJSON masks the password too (a slog JSON handler or an outputs dump
// marshals values it is given). The daemon gets the real value through
// EncodeAuth, not through this.
func (a Auth) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Username string `json:"username,omitempty"`
		Password string `json:"password,omitempty"`
	}{a.Username, a.masked()})
}

// dockerHubKey is the key the docker CLI files Docker Hub logins under.
const dockerHubKey = "https://index.docker.io/v1/"

// dockerHubHosts are the other names Docker Hub entries are found under in
// config files written by hand or by other tools.
var dockerHubHosts = []string{"index.docker.io", "docker.io", "registry-1.docker.io"}

// ServerAddress is the key a login for ref's registry is filed under in a Docker
// config: the registry host (with port), or https://index.docker.io/v1/ for
// Docker Hub, as the docker CLI does.
func ServerAddress(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w", ref, err)
	}
	host := reference.Domain(named)
	if host == "docker.io" {
		return dockerHubKey, nil
	}
	return host, nil
}

// DefaultConfigDir is where the docker CLI keeps config.json: $DOCKER_CONFIG, else
// $HOME/.docker. It returns "" when neither is set (no config: anonymous).
func DefaultConfigDir(getenv func(string) string) string {
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".docker")
	}
	return ""
}

// Credentials finds the login to push ref with.
//
// Explicit credentials (the username/password inputs) win. Otherwise the Docker
// config in dockerConfigDir (see DefaultConfigDir; "" means none) is read the way
// the docker CLI reads it: a credential helper named by credHelpers for the
// registry, or by credsStore, is run (docker-credential-NAME get); an "auths"
// entry gives the login from its "auth" field (base64 user:password) or its
// "username"/"password" fields. No config, no entry, or a helper that knows no
// login for the registry means anonymous (the zero Auth), which is fine for
// registries that allow it.
//
// Identity tokens (OAuth refresh tokens that some `docker login` flows store) are
// not supported: such an entry is an error rather than a silent anonymous push.
func Credentials(ref string, explicit Auth, dockerConfigDir string) (Auth, error) {
	r := resolver{lookPath: exec.LookPath, timeout: 30 * time.Second}
	return r.credentials(ref, explicit, dockerConfigDir)
}

// resolver holds what tests swap: how a credential helper is found.
type resolver struct {
	lookPath func(file string) (string, error)
	timeout  time.Duration
}

type configFile struct {
	Auths       map[string]authEntry `json:"auths"`
	CredsStore  string               `json:"credsStore"`
	CredHelpers map[string]string    `json:"credHelpers"`
}

type authEntry struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

func (r resolver) credentials(ref string, explicit Auth, dir string) (Auth, error) {
	switch {
	case explicit.Username != "" && explicit.Password != "":
		return explicit, nil
	case explicit.Username != "":
		// The usual cause: a workflow run from a fork, which gets no secrets.
		return Auth{}, fmt.Errorf("registry username %q is set but the password is empty (secrets are not passed to workflows from forks)", explicit.Username)
	case explicit.Password != "":
		return Auth{}, errors.New("a registry password is set but the username is empty")
	}
	key, err := ServerAddress(ref)
	if err != nil {
		return Auth{}, err
	}
	if dir == "" {
		return Auth{}, nil
	}
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Auth{}, nil
	}
	if err != nil {
		return Auth{}, fmt.Errorf("reading Docker config: %w", err)
	}
	var cfg configFile
	if err := json.Unmarshal(data, &cfg); err != nil {
		return Auth{}, fmt.Errorf("reading Docker config %s: %w", path, err)
	}

	names := hostNames(key)
	var helperErr error
	helper, namedBy := cfg.CredsStore, "credsStore"
	if k, h, ok := lookup(cfg.CredHelpers, key, names); ok {
		helper, namedBy = h, fmt.Sprintf("credHelpers[%q]", k)
	}
	if helper != "" {
		a, found, err := r.runHelper(helper, namedBy, key)
		switch {
		case err != nil:
			// An auths entry may still hold the login (config files copied
			// between machines often have both); without one, this is the error.
			helperErr = fmt.Errorf("Docker config %s: %w", path, err)
		case found:
			return a, nil
		}
	}

	entryKey, e, ok := lookup(cfg.Auths, key, names)
	if !ok {
		return Auth{}, helperErr
	}
	a, err := e.auth()
	if err != nil {
		return Auth{}, fmt.Errorf("reading Docker config %s: auths[%q]: %w", path, entryKey, err)
	}
	if a.IsZero() {
		return Auth{}, helperErr
	}
	return a, nil
}

func (e authEntry) auth() (Auth, error) {
	if e.IdentityToken != "" || e.RegistryToken != "" {
		return Auth{}, errors.New("holds a token login, which is not supported: pass a username and password (or an access token as the password) instead")
	}
	if e.Auth == "" {
		return Auth{Username: e.Username, Password: e.Password}, nil
	}
	raw, err := base64.StdEncoding.DecodeString(e.Auth)
	if err != nil {
		// Some tools write it unpadded.
		if raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(e.Auth, "=")); err != nil {
			return Auth{}, errors.New(`"auth" is not base64`) // the value itself is a secret
		}
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" {
		return Auth{}, errors.New(`"auth" is not base64 of USER:PASSWORD`)
	}
	return Auth{Username: user, Password: pass}, nil
}

// hostNames are the host names a config key may name for the registry filed
// under key.
func hostNames(key string) []string {
	if key == dockerHubKey {
		return dockerHubHosts
	}
	return []string{key}
}

// lookup finds the entry for a registry as the docker CLI does: the exact key
// first, then any key whose host part (scheme and path stripped) is one of names.
func lookup[V any](m map[string]V, key string, names []string) (string, V, bool) {
	if v, ok := m[key]; ok {
		return key, v, true
	}
	// Sorted, so that a file with two matching keys gives the same answer each time.
	for _, k := range slices.Sorted(maps.Keys(m)) {
		h := strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://")
		h, _, _ = strings.Cut(h, "/")
		for _, n := range names {
			if strings.EqualFold(h, n) { // host names are case-insensitive
				return k, m[k], true
			}
		}
	}
	var zero V
	return "", zero, false
}

// runHelper asks docker-credential-NAME for the login filed under serverURL, by
// the credential helper protocol: "get" with the server URL on stdin, a JSON
// {ServerURL, Username, Secret} on stdout, or a failure saying "credentials not
// found".
func (r resolver) runHelper(name, namedBy, serverURL string) (Auth, bool, error) {
	prog := "docker-credential-" + name
	path, err := r.lookPath(prog)
	if err != nil {
		return Auth{}, false, fmt.Errorf("%s names the credential helper %s, which is not on PATH", namedBy, prog)
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "get")
	cmd.Stdin = strings.NewReader(serverURL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stdout.String() + " " + stderr.String())
		if strings.Contains(strings.ToLower(msg), "credentials not found") {
			return Auth{}, false, nil
		}
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		return Auth{}, false, fmt.Errorf("%s get %s: %w: %s", prog, serverURL, err, msg)
	}
	var out struct {
		Username string
		Secret   string
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return Auth{}, false, fmt.Errorf("%s get %s: its answer is not JSON", prog, serverURL)
	}
	if out.Username == "<token>" {
		return Auth{}, false, fmt.Errorf("%s get %s: holds a token login, which is not supported: pass a username and password instead", prog, serverURL)
	}
	if out.Username == "" && out.Secret == "" {
		return Auth{}, false, nil
	}
	return Auth{Username: out.Username, Password: out.Secret}, true, nil
}

// EncodeAuth returns a in the form the daemon takes in X-Registry-Auth (the
// RegistryAuth of push and pull options): base64url of a registry.AuthConfig.
// Anonymous is encoded as "{}", which old daemons want rather than nothing.
func EncodeAuth(ref string, a Auth) (string, error) {
	cfg := registrytypes.AuthConfig{Username: a.Username, Password: a.Password}
	if !a.IsZero() {
		addr, err := ServerAddress(ref)
		if err != nil {
			return "", err
		}
		cfg.ServerAddress = addr
	}
	s, err := authconfig.Encode(cfg)
	if err != nil {
		return "", errors.New("encoding registry credentials") // the cause would quote them
	}
	return s, nil
}
