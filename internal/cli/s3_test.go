package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// cache: s3 without a bucket is bad input reported with the rest (exit 2, no daemon
// reached), and the s3 keys are masked before anything is printed: in the log they
// appear only in the ::add-mask:: commands the runner strips.
func TestS3BadInputMasksKeys(t *testing.T) {
	t.Parallel()
	const access, secret, envSecret = "AKIAEXAMPLEACCESS", "s3-Secret-Key-Value", "aws-Env-Secret-Value"
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "DOCKER_HOST": "unix:///nonexistent.sock",
		"INPUT_CACHE": "s3", "INPUT_CACHE-ACCESS-KEY": access, "INPUT_CACHE-SECRET-KEY": secret,
		"INPUT_CACHE-ENDPOINT": "ftp://minio.example.com", "AWS_SECRET_ACCESS_KEY": envSecret,
	}
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"build"}, IO{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }}, "test")
	if code != ExitBadInput {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitBadInput, errOut.String())
	}
	log := errOut.String() + out.String()
	for _, w := range []string{"binary: is required", "cache-bucket: is required with cache s3", "cache-endpoint:"} {
		if !strings.Contains(log, w) {
			t.Errorf("the report lacks %q:\n%s", w, log)
		}
	}
	for _, s := range []string{access, secret, envSecret} {
		if !strings.Contains(log, "::add-mask::"+s) {
			t.Errorf("%s is not masked:\n%s", s, log)
		}
		if n := strings.Count(log, s) - strings.Count(log, "::add-mask::"+s); n != 0 {
			t.Errorf("%s appears %d times outside its mask:\n%s", s, n, log)
		}
	}
}
