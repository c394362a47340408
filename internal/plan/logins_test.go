package plan

import (
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/registry"
)

// The plan's logins give username/password to the registries the final image's
// names (image and tags) push to, and to no other: the builder and runtime images
// of another registry are pulled anonymously unless registry-auth names it.
func TestNewLoginsServePushRegistriesOnly(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults()
	cfg.Binary, cfg.Source = "hello", crateDir(t)
	cfg.Image, cfg.Tags = "ghcr.io/o/app:v1", []string{"quay.io/o/app:v1"}
	cfg.Builder, cfg.RuntimeImage = "docker.io/o/builder:1", "alpine:3"
	cfg.Registry.Username, cfg.Registry.Password = "octocat", "ghs_token"
	cfg.Registry.Auth = []string{"registry.example.com=reg:regpass"}
	p, err := New(t.Context(), cfg, Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	token := registry.Auth{Username: "octocat", Password: "ghs_token"}
	for _, c := range []struct {
		name, ref string
		want      registry.Auth
	}{
		{"the image", p.Image, token},
		{"a tag", "quay.io/o/app:v1", token},
		{"the builder", p.Builder, registry.Auth{}},
		{"the runtime image", p.RuntimeImage, registry.Auth{}},
		{"a registry-auth registry", "registry.example.com/o/base:1", registry.Auth{Username: "reg", Password: "regpass"}},
	} {
		got, err := p.Logins.For(c.ref)
		if err != nil || got != c.want {
			t.Errorf("%s: Logins.For(%s) = %v, %v; want %v", c.name, c.ref, got, err, c.want)
		}
	}
}
