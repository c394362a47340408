package buildkit

import (
	"context"
	"fmt"

	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
)

// authProvider answers buildkitd's questions for registry credentials (pulling
// the builder, a build's base) from kc, the same per-registry logins the push
// uses. The credentials go over the session, never into the build.
func authProvider(kc authn.Keychain) session.Attachable {
	return authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: func(ctx context.Context, host string, _ []string, _ authprovider.ExpireCachedAuthCheck) (types.AuthConfig, error) {
			if host == authprovider.DockerHubRegistryHost {
				host = name.DefaultRegistry
			}
			reg, err := name.NewRegistry(host)
			if err != nil {
				return types.AuthConfig{}, fmt.Errorf("registry %q: %w", host, err)
			}
			a, err := kc.Resolve(reg)
			if err != nil {
				return types.AuthConfig{}, err
			}
			c, err := authn.Authorization(ctx, a)
			if err != nil {
				return types.AuthConfig{}, err
			}
			return types.AuthConfig{
				Username: c.Username, Password: c.Password, Auth: c.Auth,
				IdentityToken: c.IdentityToken, RegistryToken: c.RegistryToken, ServerAddress: host,
			}, nil
		},
	})
}
