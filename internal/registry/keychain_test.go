package registry

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// The keychain gives the username and password to the push registries only, and
// the per-registry logins to theirs, as the daemon's pulls and pushes get them.
func TestKeychain(t *testing.T) {
	t.Parallel()
	kc := Logins{
		Default:     Auth{Username: "pusher", Password: "s3cret"},
		PushNames:   []string{"ghcr.io/o/app:1"},
		PerRegistry: []string{"127.0.0.1:5000=reader:pw"},
	}.Keychain()
	tests := []struct {
		resource string
		repo     bool
		want     authn.AuthConfig
	}{
		{"ghcr.io/o/app", true, authn.AuthConfig{Username: "pusher", Password: "s3cret"}},
		{"ghcr.io", false, authn.AuthConfig{Username: "pusher", Password: "s3cret"}},
		{"127.0.0.1:5000/base", true, authn.AuthConfig{Username: "reader", Password: "pw"}},
		{"127.0.0.1:5000", false, authn.AuthConfig{Username: "reader", Password: "pw"}},
		{"index.docker.io/library/alpine", true, authn.AuthConfig{}},
	}
	for _, tc := range tests {
		var r authn.Resource
		var err error
		if tc.repo {
			r, err = name.NewRepository(tc.resource)
		} else {
			r, err = name.NewRegistry(tc.resource)
		}
		if err != nil {
			t.Fatal(err)
		}
		a, err := kc.Resolve(r)
		if err != nil {
			t.Fatalf("%s: %v", tc.resource, err)
		}
		got, err := a.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		if got.Username != tc.want.Username || got.Password != tc.want.Password {
			t.Errorf("%s: login %q/%q, want %q/%q", tc.resource, got.Username, got.Password, tc.want.Username, tc.want.Password)
		}
	}
}
