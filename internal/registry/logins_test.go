package registry

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoginsFor(t *testing.T) {
	t.Parallel()
	def := Auth{Username: "def", Password: "defpass"}
	l := Logins{
		PerRegistry: []string{"ghcr.io=gh:ghpass", "127.0.0.1:5000=local:a:b", "https://index.docker.io/v1/=hub:hubpass"},
		Default:     def,
		PushNames:   []string{"registry.example.com/o/app:1", "quay.io/o/app:1"},
	}
	for _, c := range []struct {
		name, ref string
		want      Auth
	}{
		{"registry-auth names ghcr.io", "ghcr.io/o/app:1", Auth{Username: "gh", Password: "ghpass"}},
		{"registry-auth with a port, a colon in the password", "127.0.0.1:5000/base:1", Auth{Username: "local", Password: "a:b"}},
		{"registry-auth names Docker Hub: short name", "alpine:3", Auth{Username: "hub", Password: "hubpass"}},
		{"registry-auth names Docker Hub: long name", "docker.io/library/alpine:3", Auth{Username: "hub", Password: "hubpass"}},
		{"the push name's registry", "registry.example.com/o/app:1", def},
		{"a tag's registry", "quay.io/o/x", def},
		{"a pull from a push registry", "QUAY.IO/o/base:1", def},
		{"another registry is anonymous", "gcr.io/distroless/static", Auth{}},
		{"another port is another registry", "registry.example.com:5000/o/base", Auth{}},
	} {
		got, err := l.For(c.ref)
		if err != nil || got != c.want {
			t.Errorf("%s: For(%s) = %v, %v; want %v", c.name, c.ref, got, err, c.want)
		}
	}
}

// username/password serve the registries of the push names only: the README's
// ghcr.io example must not hand GITHUB_TOKEN to Docker Hub when it pulls alpine:3.
func TestLoginsDefaultOnlyForPushRegistries(t *testing.T) {
	t.Parallel()
	token := Auth{Username: "octocat", Password: "ghs_token"}
	hub := Auth{Username: "hubuser", Password: "hubpass"}
	for _, c := range []struct {
		name        string
		perRegistry []string
		pushNames   []string
		ref         string
		want        Auth
	}{
		{"builder pull from Docker Hub", nil, []string{"ghcr.io/o/app:v1"}, "alpine:3", Auth{}},
		{"runtime pull from another registry", nil, []string{"ghcr.io/o/app:v1"}, "quay.io/o/base:1", Auth{}},
		{"push name", nil, []string{"ghcr.io/o/app:v1"}, "ghcr.io/o/app:v1", token},
		{"second push name", nil, []string{"ghcr.io/o/app:v1", "docker.io/o/app:v1"}, "o/app:v1", token},
		{"pull from the push registry", nil, []string{"ghcr.io/o/app:v1"}, "ghcr.io/o/base:1", token},
		{"a name without a registry pushes to Docker Hub", nil, []string{"o/app"}, "alpine:3", token},
		{"no push names: nothing gets them", nil, nil, "ghcr.io/o/app:v1", Auth{}},
		{"registry-auth names the pull registry", []string{"docker.io=hubuser:hubpass"}, []string{"ghcr.io/o/app:v1"}, "alpine:3", hub},
		{"registry-auth wins over them on a push registry", []string{"ghcr.io=hubuser:hubpass"}, []string{"ghcr.io/o/app:v1"}, "ghcr.io/o/app:v1", hub},
	} {
		l := Logins{PerRegistry: c.perRegistry, Default: token, PushNames: c.pushNames}
		got, err := l.For(c.ref)
		if err != nil || got != c.want {
			t.Errorf("%s: For(%s) = %v, %v; want %v", c.name, c.ref, got, err, c.want)
		}
	}
}

// An incomplete username/password (a workflow from a fork gets no secrets) is an
// error for the push registries only: a pull from elsewhere never used them.
func TestLoginsIncompleteDefault(t *testing.T) {
	t.Parallel()
	l := Logins{Default: Auth{Username: "octocat"}, PushNames: []string{"ghcr.io/o/app"}}
	if _, err := l.For("ghcr.io/o/app"); err == nil || !strings.Contains(err.Error(), "password is empty") {
		t.Errorf("For(the push name) with no password: %v, want the empty-password error", err)
	}
	if got, err := l.For("alpine:3"); err != nil || !got.IsZero() {
		t.Errorf("For(alpine:3) = %v, %v; want anonymous", got, err)
	}
}

// The Docker config's logins are filed per registry by whoever stored them, so they
// still serve pulls from any registry, as the docker CLI uses them; they never
// serve another registry.
func TestLoginsDockerConfigPerRegistry(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	basic := base64.StdEncoding.EncodeToString([]byte("cfguser:cfgpass"))
	cfg := `{"auths":{"quay.io":{"auth":"` + basic + `"}}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	l := Logins{Default: Auth{Username: "octocat", Password: "ghs_token"}, PushNames: []string{"ghcr.io/o/app"}, ConfigDir: dir}
	for _, c := range []struct {
		ref  string
		want Auth
	}{
		{"quay.io/o/base:1", Auth{Username: "cfguser", Password: "cfgpass"}},
		{"alpine:3", Auth{}},
		{"ghcr.io/o/app", Auth{Username: "octocat", Password: "ghs_token"}},
	} {
		got, err := l.For(c.ref)
		if err != nil || got != c.want {
			t.Errorf("For(%s) = %v, %v; want %v", c.ref, got, err, c.want)
		}
	}
}

func TestPullErrorHint(t *testing.T) {
	t.Parallel()
	err := PullError("127.0.0.1:5000/private/base:1", "runtime image", errors.New("Error response from daemon: Head ...: no basic auth credentials\nmore"))
	for _, want := range []string{"runtime image 127.0.0.1:5000/private/base:1", "registry-auth", "docker/login-action"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %q", err, want)
		}
	}
	if err := PullError("x:1", "builder image", errors.New("manifest unknown")); strings.Contains(err.Error(), "registry-auth") {
		t.Errorf("a missing image is no credentials problem: %v", err)
	}
}
