package registry

import (
	"fmt"
	"strings"
)

// Logins are the logins a build was given: per registry (the registry-auth
// setting, REGISTRY=USER:PASSWORD lines) and one for the registries the build
// pushes to (the username and password settings). A container action sees no
// Docker config of the runner's, so this is how credentials reach it.
//
// Default serves the registries of PushNames only. A username and password are
// given for the push (the README's ghcr.io example gives GITHUB_TOKEN), and
// sending them with the pull of a builder or runtime image from another registry
// would hand that token to a registry it was never meant for (docker.io for
// alpine:3), which may refuse the pull for it too.
type Logins struct {
	PerRegistry []string
	Default     Auth
	// PushNames are the final image's names (image and tags): their registries are
	// the ones Default serves, for the push and for a pull from the same registry.
	PushNames []string
	ConfigDir string // the Docker config to read when neither names a login; "" for none
}

// For returns the login for ref: its registry's entry in PerRegistry, else Default
// when ref's registry is one of PushNames', else what the Docker config in
// ConfigDir holds for it (see credentialsFor), else anonymous.
//
// The Docker config still serves every registry: its logins are filed per
// registry by whoever stored them, as the docker CLI uses them.
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
	push, err := l.pushRegistry(want)
	if err != nil {
		return Auth{}, err
	}
	if !push {
		return credentialsFor(ref, Auth{}, l.ConfigDir)
	}
	return credentialsFor(ref, l.Default, l.ConfigDir)
}

// pushRegistry reports whether the server address want is the registry of one of
// the push names.
func (l Logins) pushRegistry(want string) (bool, error) {
	for _, name := range l.PushNames {
		addr, err := serverAddress(name)
		if err != nil {
			return false, fmt.Errorf("the registry of the image name: %w", err)
		}
		if strings.EqualFold(addr, want) {
			return true, nil
		}
	}
	return false, nil
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
