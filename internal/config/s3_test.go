package config

import (
	"io"
	"slices"
	"strings"
	"testing"
)

// The s3 cache's settings, in each front end's words, all problems at once, and
// never a credential in the report.
func TestValidateS3(t *testing.T) {
	t.Parallel()
	const secret = "wJalrXUtnFEMI/K7MDENG"
	tests := []struct {
		name   string
		in     func(*Config)
		naming Naming
		want   []string // the settings named, in order; nil means valid
	}{
		{"bucket only (AWS, credentials from the environment)", func(c *Config) { c.Cache.S3.Bucket = "ci-cache" }, FlagNaming, nil},
		{"everything", func(c *Config) {
			c.Cache.S3.Bucket, c.Cache.S3.Endpoint, c.Cache.S3.Region, c.Cache.S3.PathStyle = "ci.cache_1", "http://127.0.0.1:8333", "eu-west-1", true
			c.Cache.S3.AccessKey, c.Cache.S3.SecretKey = "AKIA", secret
		}, InputNaming, nil},
		{"bare host endpoint", func(c *Config) { c.Cache.S3.Bucket, c.Cache.S3.Endpoint = "b12", "minio.internal:9000" }, InputNaming, nil},
		{"no bucket", func(*Config) {}, PluginNaming, []string{"cache_bucket"}},
		{"bucket not a bucket name", func(c *Config) { c.Cache.S3.Bucket = "My Bucket" }, InputNaming, []string{"cache-bucket"}},
		{"endpoint with a path", func(c *Config) { c.Cache.S3.Bucket, c.Cache.S3.Endpoint = "b12", "https://s3.example.com/prefix" }, InputNaming, []string{"cache-endpoint"}},
		{"endpoint of another scheme", func(c *Config) { c.Cache.S3.Bucket, c.Cache.S3.Endpoint = "b12", "ftp://s3.example.com" }, InputNaming, []string{"cache-endpoint"}},
		{"secret key alone", func(c *Config) { c.Cache.S3.Bucket, c.Cache.S3.SecretKey = "b12", secret }, PluginNaming, []string{"cache_access_key"}},
		{"access key alone", func(c *Config) { c.Cache.S3.Bucket, c.Cache.S3.AccessKey = "b12", "AKIA" }, InputNaming, []string{"cache-secret-key"}},
		{"all at once", func(c *Config) {
			c.Binary, c.Cache.S3.Endpoint, c.Cache.S3.SecretKey = "", "s3://x", secret
		}, PluginNaming, []string{"binary", "cache_bucket", "cache_endpoint", "cache_access_key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			c.Cache.Backend = "s3"
			tc.in(&c)
			err := c.Validate(tc.naming)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if got := inputErrors(t, err); !slices.Equal(got, tc.want) {
				t.Errorf("bad %q, want %q:\n%v", got, tc.want, err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the secret key is in the error: %v", err)
			}
		})
	}
}

// The s3 settings arrive from each front end; the keys are secrets, never flags.
func TestS3Settings(t *testing.T) {
	t.Parallel()
	c, err := FromPlugin(env{"PLUGIN_CACHE": "s3", "PLUGIN_CACHE_BUCKET": "ci", "PLUGIN_CACHE_ENDPOINT": "http://minio:9000",
		"PLUGIN_CACHE_PATH_STYLE": "true", "PLUGIN_CACHE_ACCESS_KEY": "AKIA", "PLUGIN_CACHE_SECRET_KEY": "hunter2"}.get)
	if err != nil {
		t.Fatal(err)
	}
	if c.Cache.Backend != "s3" || c.Cache.S3.Bucket != "ci" || c.Cache.S3.Endpoint != "http://minio:9000" || !c.Cache.S3.PathStyle ||
		c.Cache.S3.AccessKey != "AKIA" || c.Cache.S3.SecretKey != "hunter2" {
		t.Errorf("plugin settings gave %+v", c)
	}
	c, err = FromInputs(env{"INPUT_CACHE": "s3", "INPUT_CACHE-BUCKET": "ci", "INPUT_CACHE-REGION": "eu-west-1", "INPUT_CACHE-SECRET-KEY": "hunter2"}.get)
	if err != nil {
		t.Fatal(err)
	}
	if c.Cache.S3.Bucket != "ci" || c.Cache.S3.Region != "eu-west-1" || c.Cache.S3.SecretKey != "hunter2" {
		t.Errorf("inputs gave %+v", c)
	}
	if fc, err := ParseBuildFlags([]string{"--cache", "s3", "--cache-bucket", "ci", "--cache-path-style"}, io.Discard); err != nil || fc.Cache.S3.Bucket != "ci" || !fc.Cache.S3.PathStyle {
		t.Errorf("flags gave %+v, %v", fc, err)
	}
	for _, f := range []string{"--cache-access-key", "--cache-secret-key"} {
		if _, err := ParseBuildFlags([]string{f, "x"}, io.Discard); err == nil {
			t.Errorf("%s is a flag: a secret there shows in ps output", f)
		}
	}
}
