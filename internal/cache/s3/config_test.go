package s3

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want endpoint
		err  string
	}{
		{"", endpoint{host: "s3.amazonaws.com", secure: true, aws: true}, ""},
		{"http://127.0.0.1:8333", endpoint{host: "127.0.0.1:8333"}, ""},
		{"https://minio.example.com/", endpoint{host: "minio.example.com", secure: true}, ""},
		{"minio.internal:9000", endpoint{host: "minio.internal:9000", secure: true}, ""},
		{"https://s3.example.com/bucket", endpoint{}, "without a path"},
		{"ftp://s3.example.com", endpoint{}, "not http or https"},
		{"https://user:pw@s3.example.com", endpoint{}, "without a path, query or user"},
		{"http://", endpoint{}, "no host"},
	}
	for _, tc := range tests {
		got, err := parseEndpoint(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("parseEndpoint(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("parseEndpoint(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// Settings win over the AWS environment; the environment's keys come as a set.
func TestResolve(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"AWS_ACCESS_KEY_ID": "env-id", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token",
		"AWS_DEFAULT_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://general:9000",
	}
	get := func(k string) string { return env[k] }
	tests := []struct {
		name string
		in   Config
		env  func(string) string
		want Config
	}{
		{"nothing set", Config{}, noEnv, Config{}},
		{"all from the environment", Config{}, get, Config{AccessKey: "env-id", SecretKey: "env-secret", SessionToken: "env-token",
			Region: "eu-west-1", Endpoint: "http://general:9000"}},
		{"settings win, and the environment's token is not mixed in", Config{AccessKey: "id", SecretKey: "secret", Region: "us-west-2", Endpoint: "http://own:1"}, get,
			Config{AccessKey: "id", SecretKey: "secret", Region: "us-west-2", Endpoint: "http://own:1"}},
		{"the S3 endpoint and AWS_REGION come first", Config{}, func(k string) string {
			return map[string]string{"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "x", "AWS_ENDPOINT_URL_S3": "http://s3only:1", "AWS_ENDPOINT_URL": "http://general:1"}[k]
		}, Config{Region: "ap-south-1", Endpoint: "http://s3only:1"}},
	}
	for _, tc := range tests {
		if got := tc.in.Resolve(tc.env); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no bucket", Config{}},
		{"half the keys", Config{Bucket: "b12", AccessKey: "id"}},
		{"bad endpoint", Config{Bucket: "b12", Endpoint: "http://x/y"}},
		{"tiny parts", Config{Bucket: "b12", PartSize: 1 << 20}},
	} {
		if _, err := New(tc.cfg, noEnv); err == nil {
			t.Errorf("%s: New accepted %+v", tc.name, tc.cfg)
		}
	}
}

// Object names keep prefixes, never leave the root, and map back to their keys.
func TestObjectNames(t *testing.T) {
	t.Parallel()
	keys := []string{"rust-s2i-musl-target-hello-x86_64-unknown-linux-musl-1.85.0-abc-def", "a/b", "../x", "%41", "é", "~", ""}
	for _, k := range keys {
		name := objectName(k)
		if !strings.HasPrefix(name, Root) || strings.Contains(name[len(Root):], "/") {
			t.Errorf("objectName(%q) = %q", k, name)
		}
		if back, ok := keyOf(name); !ok || back != k {
			t.Errorf("keyOf(objectName(%q)) = %q, %v", k, back, ok)
		}
		for i := range len(k) {
			if !strings.HasPrefix(name, objectName(k[:i])) {
				t.Errorf("objectName(%q) does not start with objectName(%q)", k, k[:i])
			}
		}
	}
	if objectName("%41") == objectName("A") {
		t.Error("escaping is not injective")
	}
	for _, name := range []string{Root + "%4", Root + "%zz", Root + "%41", "other/x", Root + "a b"} {
		if k, ok := keyOf(name); ok {
			t.Errorf("keyOf(%q) = %q; no key maps there", name, k)
		}
	}
	if err := checkKey(strings.Repeat("/", 400)); err == nil {
		t.Error("a key whose object name is over 1024 bytes was accepted")
	}
}

// Validate checks the settings alone, names the Go field of each problem, returns
// every problem at once and never quotes a credential.
func TestValidate(t *testing.T) {
	t.Parallel()
	const secret = "wJalrXUtnFEMI/K7MDENG"
	tests := []struct {
		name string
		cfg  Config
		want []string // the fields named, in order; nil means valid
	}{
		{"bucket only", Config{Bucket: "ci-cache"}, nil},
		{"everything", Config{Bucket: "ci.cache_1", Endpoint: "http://127.0.0.1:8333", Region: "eu-west-1", PathStyle: true,
			AccessKey: "AKIA", SecretKey: secret, Timeout: time.Minute, PartSize: minPartSize, Concurrency: 2}, nil},
		{"bare host endpoint", Config{Bucket: "b12", Endpoint: "minio.internal:9000"}, nil},
		{"no bucket", Config{}, []string{"Bucket"}},
		{"not a bucket name", Config{Bucket: "My Bucket"}, []string{"Bucket"}},
		{"endpoint with a path", Config{Bucket: "b12", Endpoint: "https://s3.example.com/prefix"}, []string{"Endpoint"}},
		{"endpoint with a fragment", Config{Bucket: "b12", Endpoint: "https://s3.example.com#x"}, []string{"Endpoint"}},
		{"endpoint with a port only", Config{Bucket: "b12", Endpoint: "http://:9000"}, []string{"Endpoint"}},
		{"endpoint with a password", Config{Bucket: "b12", Endpoint: "https://u:" + secret + "@s3.example.com"}, []string{"Endpoint"}},
		{"secret key alone", Config{Bucket: "b12", SecretKey: secret}, []string{"AccessKey"}},
		{"access key alone", Config{Bucket: "b12", AccessKey: "AKIA"}, []string{"SecretKey"}},
		{"all at once", Config{Endpoint: "s3://x", SecretKey: secret, Timeout: -1, PartSize: 1, Concurrency: -1},
			[]string{"Bucket", "Endpoint", "AccessKey", "Timeout", "Concurrency", "PartSize"}},
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		var got []string
		if err != nil {
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var fe *FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("%s: %v (%T) is not a *FieldError", tc.name, e, e)
				}
				got = append(got, fe.Field)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error shows a secret: %v", tc.name, err)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: fields %q, want %q:\n%v", tc.name, got, tc.want, err)
		}
	}
}

// A Config prints without its credentials in every verb, and Secrets lists them.
func TestConfigHidesCredentials(t *testing.T) {
	t.Parallel()
	c := Config{Bucket: "b12", AccessKey: "AKIAEXAMPLE", SecretKey: "hunter2", SessionToken: "tok3n"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		s := fmt.Sprintf(verb, c)
		for _, secret := range []string{"AKIAEXAMPLE", "hunter2", "tok3n"} {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows %s: %s", verb, secret, s)
			}
		}
		if !strings.Contains(s, "b12") {
			t.Errorf("%s hides the bucket too: %s", verb, s)
		}
	}
	if got := c.Secrets(); !slices.Equal(got, []string{"AKIAEXAMPLE", "hunter2", "tok3n"}) {
		t.Errorf("Secrets() = %q", got)
	}
	if got := (Config{Bucket: "b12"}).Secrets(); got != nil {
		t.Errorf("Secrets() without credentials = %q", got)
	}
}
