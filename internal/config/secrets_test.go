package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Secrets lists every secret a build knows, from the settings and, given getenv,
// from the environment the build reads; without getenv only the settings'.
func TestSecrets(t *testing.T) {
	t.Parallel()
	c := Config{
		SecretEnv: []string{"INLINE=in-line", "FROM_ENV"},
		Registry:  Registry{Username: "u", Password: "pw", Auth: []string{"ghcr.io=bot:ghcr-pw", "quay.io=bare-token", "pw-again=x:pw"}},
		Cache:     Cache{Backend: CacheS3},
	}
	c.Cache.S3.AccessKey, c.Cache.S3.SecretKey = "AKIA-SET", "set-secret"
	e := env{
		"FROM_ENV": "env-value", "ACTIONS_RUNTIME_TOKEN": "runtime-token",
		"AWS_ACCESS_KEY_ID": "AKIA-ENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-session",
	}
	settingsOnly := []string{"pw", "ghcr-pw", "bare-token", "AKIA-SET", "set-secret", "in-line"}
	if got := c.Secrets(nil); !slices.Equal(got, settingsOnly) {
		t.Errorf("Secrets(nil) = %q, want %q", got, settingsOnly)
	}
	all := append(slices.Clone(settingsOnly), "env-value", "runtime-token", "AKIA-ENV", "env-secret", "env-session")
	if got := c.Secrets(e.get); !slices.Equal(got, all) {
		t.Errorf("Secrets(getenv) = %q, want %q", got, all)
	}
	// The AWS environment is the s3 cache's: another backend does not read it.
	c.Cache.Backend = CacheGHA
	if got := c.Secrets(e.get); slices.Contains(got, "env-secret") || !slices.Contains(got, "runtime-token") {
		t.Errorf("with cache gha, Secrets(getenv) = %q", got)
	}
	if got := (Config{}).Secrets(env{}.get); got != nil {
		t.Errorf("no secrets gave %q", got)
	}
}

// No verb prints a password, a registry-auth password or an s3 credential of a
// Config; the rest still shows.
func TestConfigDoesNotPrintSecrets(t *testing.T) {
	t.Parallel()
	c := Config{Binary: "app", Registry: Registry{Username: "octo", Password: "pw-1", Auth: []string{"ghcr.io=bot:pw-2", "quay.io=pw-3"}}}
	c.Cache.S3.Bucket, c.Cache.S3.AccessKey, c.Cache.S3.SecretKey = "b12", "AKIA-4", "pw-5"
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		s := fmt.Sprintf(verb, c)
		for _, secret := range []string{"pw-1", "pw-2", "pw-3", "AKIA-4", "pw-5"} {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows %s: %s", verb, secret, s)
			}
		}
		for _, shown := range []string{"app", "octo", "ghcr.io", "bot", "quay.io", "b12"} {
			if !strings.Contains(s, shown) {
				t.Errorf("%s hides %s too: %s", verb, shown, s)
			}
		}
	}
}
