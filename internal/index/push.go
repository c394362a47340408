package index

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Push pushes the index under every name (NAME[:TAG], the tag latest when none)
// straight to the registries, with no daemon in between. Each repository gets the
// blobs and the index once, under its first name; its other names are only
// tagged. kc gives each registry's login; nil is anonymous.
func Push(ctx context.Context, ix *Index, names []string, kc authn.Keychain) error {
	if kc == nil {
		kc = authn.NewMultiKeychain()
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	tags, err := parseTags(names)
	if err != nil {
		return err
	}
	written := map[string]bool{} // by repository
	for _, tag := range tags {
		repo := tag.Context().String()
		if written[repo] {
			if err := remote.Tag(tag, ix.Index, opts...); err != nil {
				return fmt.Errorf("tagging image index %s as %s: %w", ix.Digest, tag, err)
			}
			continue
		}
		if err := remote.WriteIndex(tag, ix.Index, opts...); err != nil {
			return fmt.Errorf("pushing image index %s to %s: %w", ix.Digest, tag, err)
		}
		written[repo] = true
	}
	return nil
}

// parseTags reads the names to push, all of them before anything is pushed.
func parseTags(names []string) ([]name.Tag, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("no name to push the image index to")
	}
	tags := make([]name.Tag, len(names))
	for i, n := range names {
		t, err := name.NewTag(n)
		if err != nil {
			return nil, fmt.Errorf("image name %q: %w", n, err)
		}
		tags[i] = t
	}
	return tags, nil
}

// Login is a registry user and password (or token).
type Login struct {
	Username string
	Password string
}

// Logins is an authn.Keychain of one login per registry, keyed by the registry as
// an image name writes it (ghcr.io, docker.io, localhost:5000); a registry it
// does not name is reached anonymously. It prints no password.
type Logins map[string]Login

// Resolve is the login for the resource's registry.
func (l Logins) Resolve(r authn.Resource) (authn.Authenticator, error) {
	for host, login := range l {
		reg, err := name.NewRegistry(host)
		if err != nil {
			continue // not a registry name: it serves none
		}
		if reg.RegistryStr() == r.RegistryStr() {
			return authn.FromConfig(authn.AuthConfig{Username: login.Username, Password: login.Password}), nil
		}
	}
	return authn.Anonymous, nil
}

// String is the user and *** for the password.
func (l Login) String() string { return l.Username + ":***" }

// GoString hides the password from %#v too.
func (l Login) GoString() string { return l.String() }

// GoString hides the passwords from %#v too.
func (l Logins) GoString() string { return l.String() }

// String names the registries and users, never a password.
func (l Logins) String() string {
	var parts []string
	for _, host := range sortedKeys(l) {
		parts = append(parts, host+"="+l[host].String())
	}
	return "{" + strings.Join(parts, " ") + "}"
}
