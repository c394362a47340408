package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/credentials"
	"github.com/docker/cli/cli/config/types"
	helperclient "github.com/docker/docker-credential-helpers/client"
	helpercreds "github.com/docker/docker-credential-helpers/credentials"
	"github.com/moby/moby/api/pkg/authconfig"
	registrytypes "github.com/moby/moby/api/types/registry"
)

// Auth is a registry login. The zero value means anonymous.
//
// It never prints its secrets: fmt shows *** in place of the password and the
// identity token (%v, %+v, %#v, %s, %q), and so does encoding/json, so a Config
// dump, a log line or an output cannot leak them. Read the fields where the
// values themselves are needed.
type Auth struct {
	Username string
	Password string
	// IdentityToken is the OAuth refresh token that `docker login` keeps instead
	// of a password for some registries; the daemon trades it for access tokens.
	IdentityToken string
}

// IsZero reports whether a is anonymous.
func (a Auth) IsZero() bool { return a.Username == "" && a.Password == "" && a.IdentityToken == "" }

func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return "***"
}

// String shows the username and *** for the password (and for the identity
// token, when there is one).
func (a Auth) String() string {
	if a.IdentityToken != "" {
		return fmt.Sprintf("{%s %s token:%s}", a.Username, mask(a.Password), mask(a.IdentityToken))
	}
	return fmt.Sprintf("{%s %s}", a.Username, mask(a.Password))
}

// Format makes every fmt verb go through the masked form, %#v included.
func (a Auth) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprintf(f, "registry.Auth{Username:%q, Password:%q, IdentityToken:%q}", a.Username, mask(a.Password), mask(a.IdentityToken))
	case verb == 'v' && f.Flag('+') && a.IdentityToken != "":
		fmt.Fprintf(f, "{Username:%s Password:%s IdentityToken:%s}", a.Username, mask(a.Password), mask(a.IdentityToken))
	case verb == 'v' && f.Flag('+'):
		fmt.Fprintf(f, "{Username:%s Password:%s}", a.Username, mask(a.Password))
	case verb == 'q':
		fmt.Fprintf(f, "%q", a.String())
	default:
		fmt.Fprint(f, a.String())
	}
}

// MarshalJSON masks the secrets too (a slog JSON handler or an outputs dump
// marshals values it is given). The daemon gets the real values through
// encodeAuth, not through this.
func (a Auth) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Username      string `json:"username,omitempty"`
		Password      string `json:"password,omitempty"`
		IdentityToken string `json:"identitytoken,omitempty"`
	}{a.Username, mask(a.Password), mask(a.IdentityToken)})
}

// who names the login in a message: its user, or the identity token.
func (a Auth) who() string {
	switch {
	case a.IdentityToken != "" && a.Username != "" && a.Username != tokenUsername:
		return fmt.Sprintf("user %q (identity token)", a.Username)
	case a.IdentityToken != "":
		return "the identity token"
	}
	return fmt.Sprintf("user %q", a.Username)
}

// dockerHubKey is the key the docker CLI files Docker Hub logins under.
const dockerHubKey = "https://index.docker.io/v1/"

// dockerHubHosts are the other names Docker Hub logins are found under in
// config files written by other tools (podman, skopeo, by hand). The docker CLI
// only looks under dockerHubKey; these are tried after it.
var dockerHubHosts = []string{"docker.io", "index.docker.io", "registry-1.docker.io"}

// tokenUsername is the username a credential helper answers with when its
// secret is an identity token rather than a password.
const tokenUsername = "<token>"

// serverAddress is the key a login for ref's registry is filed under in a Docker
// config: the registry host (with port), or https://index.docker.io/v1/ for
// Docker Hub, as the docker CLI does.
func serverAddress(ref string) (string, error) {
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

// credentialsFor finds the login to push ref with.
//
// Explicit credentials (the username/password inputs) win. Otherwise the Docker
// config in dockerConfigDir (see engine.ConfigDir; "" means none) is read with
// the docker CLI's own config package (github.com/docker/cli/cli/config): the
// credential helper named by credHelpers for the registry, or by credsStore, is
// asked (docker-credential-NAME get, through docker-credential-helpers' client);
// an "auths" entry gives the login from its "auth" field (base64 user:password),
// its "username"/"password" fields, or its "identitytoken". Identity tokens from a
// helper or an entry work and travel to the daemon in X-Registry-Auth.
//
// Two leniences beyond the docker CLI: an "auths" login is still used when the
// helper knows none for the registry or fails, and Docker Hub logins are also
// found under docker.io, index.docker.io and registry-1.docker.io.
//
// No config file, no entry, or a helper that knows no login for the registry
// means anonymous (the zero Auth), which is fine for registries that allow it. A
// config file that cannot be read or parsed is an error. No error ever contains
// a password, a token or an "auth" value.
func credentialsFor(ref string, explicit Auth, dockerConfigDir string) (Auth, error) {
	r := resolver{lookPath: exec.LookPath, timeout: 30 * time.Second}
	return r.credentials(ref, explicit, dockerConfigDir)
}

// resolver holds what tests swap: how a credential helper is found, and how long
// it may take to answer.
type resolver struct {
	lookPath func(file string) (string, error)
	timeout  time.Duration
}

func (r resolver) credentials(ref string, explicit Auth, dir string) (Auth, error) {
	switch {
	case explicit.IdentityToken != "" || (explicit.Username != "" && explicit.Password != ""):
		return explicit, nil
	case explicit.Username != "":
		// The usual cause: a workflow run from a fork, which gets no secrets.
		return Auth{}, fmt.Errorf("registry username %q is set but the password is empty (secrets are not passed to workflows from forks)", explicit.Username)
	case explicit.Password != "":
		return Auth{}, errors.New("a registry password is set but the username is empty")
	}
	key, err := serverAddress(ref)
	if err != nil {
		return Auth{}, err
	}
	if dir == "" {
		return Auth{}, nil
	}
	// config.Load reads dir/config.json only (never $DOCKER_CONFIG or $HOME
	// when given a directory) and returns an empty config when it is missing.
	path := filepath.Join(dir, config.ConfigFileName)
	cfg, err := config.Load(dir)
	if err != nil {
		return Auth{}, configError(path, err)
	}

	// The helper for the registry, as configfile.GetCredentialsStore picks it;
	// that method is not used because it also reads $DOCKER_AUTH_CONFIG and
	// prints to os.Stderr.
	helper, namedBy := cfg.CredentialsStore, "credsStore"
	if h, ok := cfg.CredentialHelpers[key]; ok {
		helper, namedBy = h, fmt.Sprintf("credHelpers[%q]", key)
	}
	var helperErr error
	if helper != "" {
		a, err := r.runHelper(helper, namedBy, key, secretsOf(cfg))
		switch {
		case err != nil:
			// An auths entry may still hold the login (config files copied
			// between machines often have both); without one, this is the error.
			helperErr = fmt.Errorf("Docker config %s: %w", path, err)
		case !a.IsZero():
			return a, nil
		}
	}

	entry := fileEntry(cfg, key)
	a := Auth{Username: entry.Username, Password: entry.Password, IdentityToken: entry.IdentityToken}
	if a.Password == "" && a.IdentityToken == "" && entry.RegistryToken != "" {
		return Auth{}, fmt.Errorf("Docker config %s: the login for %s is a registry token, which is not supported: log in with a username and password or an identity token", path, key)
	}
	if a.IsZero() {
		return Auth{}, helperErr
	}
	return a, nil
}

// fileEntry is the "auths" entry for the registry filed under key, found as the
// docker CLI's file store finds it: the exact key, else a key whose host part
// (scheme and path stripped) is key.
func fileEntry(cfg *configfile.ConfigFile, key string) types.AuthConfig {
	files := credentials.NewFileStore(cfg)
	entry, _ := files.Get(key) // the file store never fails a Get
	if key != dockerHubKey {
		return entry
	}
	for _, host := range dockerHubHosts {
		if entry.Username != "" || entry.Password != "" || entry.IdentityToken != "" || entry.RegistryToken != "" {
			break
		}
		entry, _ = files.Get(host)
	}
	return entry
}

// configError says what is wrong with the config file without quoting it: the
// JSON decoder's errors quote no values, and the library's "auth" decoding
// errors are replaced by one that names the field.
func configError(path string, err error) error {
	var (
		syntax    *json.SyntaxError
		typeError *json.UnmarshalTypeError
		pathError *fs.PathError
	)
	// The library's own message names the file.
	if errors.As(err, &pathError) || errors.As(err, &syntax) || errors.As(err, &typeError) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("reading Docker config: %w", err)
	}
	return fmt.Errorf(`reading Docker config %s: an "auth" value in "auths" is not base64 of USER:PASSWORD`, path)
}

// secretsOf lists every secret in cfg, longest first, for redacting what a
// credential helper says when it fails.
func secretsOf(cfg *configfile.ConfigFile) []string {
	var s []string
	for _, ac := range cfg.AuthConfigs {
		if ac.Password != "" {
			basic := ac.Username + ":" + ac.Password
			s = append(s, base64.StdEncoding.EncodeToString([]byte(basic)), basic, ac.Password)
		}
		s = append(s, ac.IdentityToken, ac.RegistryToken)
	}
	return sortSecrets(s)
}

// runHelper asks docker-credential-NAME for the login filed under serverURL.
// docker-credential-helpers' client speaks the protocol (and tells "credentials
// not found" apart); the program it runs is found with lookPath, gets a timeout,
// and its stderr is kept for the error rather than printed.
func (r resolver) runHelper(name, namedBy, serverURL string, secrets []string) (Auth, error) {
	prog := "docker-credential-" + name
	path, err := r.lookPath(prog)
	if err != nil {
		return Auth{}, fmt.Errorf("%s names the credential helper %s, which is not on PATH", namedBy, prog)
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	var out *helpercreds.Credentials
	out, err = helperclient.Get(func(args ...string) helperclient.Program {
		cmd := exec.CommandContext(ctx, path, args...)
		cmd.WaitDelay = time.Second // a helper's children may hold stdout open
		return &helperProgram{cmd: cmd}
	}, serverURL)
	switch {
	case helpercreds.IsErrCredentialsNotFound(err):
		return Auth{}, nil
	case err != nil && ctx.Err() != nil:
		return Auth{}, fmt.Errorf("%s get %s: no answer within %s", prog, serverURL, r.timeout)
	case err != nil:
		// The helper's own words may help, but they are its output: redact what
		// the config knows to be secret, and keep it short.
		msg := redactor{secrets}.redact(err.Error())
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return Auth{}, fmt.Errorf("%s get %s: %s", prog, serverURL, msg)
	}
	if out.Username == tokenUsername {
		return Auth{IdentityToken: out.Secret}, nil
	}
	return Auth{Username: out.Username, Password: out.Secret}, nil
}

// helperProgram is a helperclient.Program that keeps the helper's stderr.
type helperProgram struct{ cmd *exec.Cmd }

func (p *helperProgram) Input(in io.Reader) { p.cmd.Stdin = in }

func (p *helperProgram) Output() ([]byte, error) {
	var stderr bytes.Buffer
	p.cmd.Stderr = &stderr
	out, err := p.cmd.Output()
	if msg := strings.TrimSpace(stderr.String()); err != nil && msg != "" {
		err = fmt.Errorf("%w (stderr: %s)", err, msg)
	}
	return out, err
}

// encodeAuth returns a in the form the daemon takes in X-Registry-Auth (the
// RegistryAuth of push and pull options): base64url of a registry.AuthConfig.
// Anonymous is encoded as "{}", which old daemons want rather than nothing.
func encodeAuth(ref string, a Auth) (string, error) {
	cfg := registrytypes.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken}
	if !a.IsZero() {
		addr, err := serverAddress(ref)
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
