package registry

import (
	"errors"
	"strings"
	"testing"
)

func TestLoginsFor(t *testing.T) {
	t.Parallel()
	l := Logins{
		PerRegistry: []string{"ghcr.io=gh:ghpass", "127.0.0.1:5000=local:a:b", "https://index.docker.io/v1/=hub:hubpass"},
		Default:     Auth{Username: "def", Password: "defpass"},
	}
	for ref, want := range map[string]Auth{
		"ghcr.io/o/app:1":            {Username: "gh", Password: "ghpass"},
		"127.0.0.1:5000/base:1":      {Username: "local", Password: "a:b"},
		"alpine:3":                   {Username: "hub", Password: "hubpass"},
		"docker.io/library/alpine:3": {Username: "hub", Password: "hubpass"},
		"quay.io/o/x":                {Username: "def", Password: "defpass"},
	} {
		got, err := l.For(ref)
		if err != nil || got != want {
			t.Errorf("For(%s) = %v, %v; want %v", ref, got, err, want)
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
