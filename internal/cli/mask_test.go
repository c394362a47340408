package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Every secret the build knows is masked before the bad-input report: the
// password, registry-auth's passwords, secret-env's values (a bare NAME's from the
// environment) and the runner's token, all through one cfg.Secrets call.
func TestBadInputMasksSecrets(t *testing.T) {
	t.Parallel()
	secrets := []string{"registry-Password-1", "ghcr-Password-2", "inline-Secret-3", "env-Secret-4", "runtime-Token-5"}
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "DOCKER_HOST": "unix:///nonexistent.sock",
		"INPUT_USERNAME": "octo", "INPUT_PASSWORD": secrets[0], "INPUT_REGISTRY-AUTH": "ghcr.io=bot:" + secrets[1],
		"INPUT_SECRET-ENV": "INLINE=" + secrets[2] + "\nFROM_ENV", "FROM_ENV": secrets[3],
		"ACTIONS_RUNTIME_TOKEN": secrets[4], "INPUT_CACHE-TIMEOUT": "soon",
	}
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"build"}, IO{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }}, "test")
	if code != ExitBadInput {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitBadInput, errOut.String())
	}
	log := errOut.String() + out.String()
	for _, w := range []string{"binary: is required", `cache-timeout: "soon" is not a duration`} {
		if !strings.Contains(log, w) {
			t.Errorf("the report lacks %q:\n%s", w, log)
		}
	}
	for _, s := range secrets {
		if !strings.Contains(log, "::add-mask::"+s) {
			t.Errorf("%s is not masked:\n%s", s, log)
		}
		if n := strings.Count(log, s) - strings.Count(log, "::add-mask::"+s); n != 0 {
			t.Errorf("%s appears %d times outside its mask:\n%s", s, n, log)
		}
	}
}
