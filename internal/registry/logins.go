package registry

import (
	"fmt"
	"strings"
)

// Logins are the logins a build was given: per registry (the registry-auth
// setting, REGISTRY=USER:PASSWORD lines) and one for the rest (username and
// password). A container action sees no Docker config of the runner's, so this is
// how credentials reach it.
type Logins struct {
	PerRegistry []string
	Default     Auth
	ConfigDir   string // the Docker config to read when neither names a login; "" for none
}

// For returns the login for ref: its registry's entry in PerRegistry, else Default,
// else what the Docker config in ConfigDir holds for it (see credentialsFor).
func (l Logins) For(ref string) (Auth, error) {
	want, err := serverAddress(ref)
	if err != nil {
		return Auth{}, err
	}
	for _, entry := range l.PerRegistry {
		reg, cred, _ := strings.Cut(entry, "=")
		user, pass, _ := strings.Cut(cred, ":")
		if sameRegistry(strings.TrimSpace(reg), want) {
			return Auth{Username: strings.TrimSpace(user), Password: pass}, nil
		}
	}
	return credentialsFor(ref, l.Default, l.ConfigDir)
}

// sameRegistry reports whether a registry as a user writes it (ghcr.io,
// https://ghcr.io, docker.io) names the server address want.
func sameRegistry(written, want string) bool {
	host := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(written, "https://"), "http://"), "/")
	if want == dockerHubKey {
		return host == "index.docker.io/v1" || host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io"
	}
	return strings.EqualFold(host, want)
}

// Hint is what to tell a user whose push or pull a registry refused for want of
// credentials.
const Hint = "give credentials with registry-auth (REGISTRY=USER:PASSWORD) or username and password; " +
	"in GitHub Actions a docker/login-action login does not reach this action, which runs in a container of its own"

// PullError says why a pull failed, and how to give credentials when the registry
// refused them.
func PullError(ref, what string, cause error) error {
	msg := firstLine(cause.Error())
	if refused(msg) {
		return fmt.Errorf("%s %s could not be pulled: the registry refused: %s (%s)", what, ref, msg, Hint)
	}
	return fmt.Errorf("%s %s is not in the daemon and could not be pulled: %s", what, ref, msg)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
