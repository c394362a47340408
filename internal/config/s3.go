package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// bucketRe is S3's rule for bucket names (3 to 63 lower-case letters, digits,
// dots and hyphens, a letter or digit at each end), with _ that some
// S3-compatible stores allow.
var bucketRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$`)

// validateS3 checks the settings of cache s3. The credentials are never quoted:
// only whether they are there.
func (c Config) validateS3(name Naming) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &InputError{Name: name(field), Problem: fmt.Sprintf(format, args...)})
	}
	switch {
	case c.CacheBucket == "":
		bad("cache-bucket", "is required with cache s3")
	case !bucketRe.MatchString(c.CacheBucket):
		bad("cache-bucket", "%q is not a bucket name (3 to 63 lower-case letters, digits, '.', '-' or '_')", firstRunes(c.CacheBucket, 70))
	}
	if c.CacheEndpoint != "" && !validEndpoint(c.CacheEndpoint) {
		bad("cache-endpoint", "%q is not an S3 endpoint such as https://s3.example.com or http://127.0.0.1:9000 (scheme and host, no path)", firstRunes(c.CacheEndpoint, 100))
	}
	switch {
	case c.CacheAccessKey != "" && c.CacheSecretKey == "":
		bad("cache-secret-key", "is required with cache-access-key")
	case c.CacheAccessKey == "" && c.CacheSecretKey != "":
		bad("cache-access-key", "is required with cache-secret-key")
	}
	return errs
}

// validEndpoint takes http(s)://host[:port] with nothing after it but a /, or a
// bare host[:port] (meaning https).
func validEndpoint(raw string) bool {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Hostname() != "" &&
		strings.Trim(u.Path, "/") == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil
}
