package registry

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Keychain gives go-containerregistry the logins (For), for what this program
// reads from and pushes to registries itself rather than through the daemon: the
// runtime bases of a multi-platform build, image indexes, attestations, the
// builder's layers. So each registry gets the login the daemon's pulls and pushes
// get: the username and password serve the push registries only, and a registry
// neither names is asked with the Docker config's login, or none.
func (l Logins) Keychain() authn.Keychain { return keychain{l} }

type keychain struct{ logins Logins }

// Resolve implements authn.Keychain.
func (k keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	// For takes an image reference, of which only the registry counts: a
	// registry alone gets a repository name to parse as one.
	ref := r.String()
	if !strings.Contains(ref, "/") {
		ref = r.RegistryStr() + "/x"
	}
	a, err := k.logins.For(ref)
	if err != nil {
		return nil, fmt.Errorf("the login for %s: %w", r.RegistryStr(), err)
	}
	if a.IsZero() {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken}), nil
}
