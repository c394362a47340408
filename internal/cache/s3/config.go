package s3

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// The defaults; see the package doc.
const (
	DefaultLoadTimeout = 1 * time.Minute
	DefaultSaveTimeout = 2 * time.Minute

	// Root is where every entry lives in the bucket: a lifecycle rule's prefix.
	Root = "rust-s2i-musl/"

	// DefaultPartSize is the size of one part of a multipart upload, and the largest
	// entry sent as one PUT. 16 MiB keeps a retried part cheap and stays far from
	// S3's 10000-part limit for any entry we save (restores refuse over 16 GiB).
	DefaultPartSize = 16 << 20
	// DefaultConcurrency is how many parts upload at once.
	DefaultConcurrency = 4

	// maxRetries is minio-go's tries per request (1 means none again): enough for a
	// blip or one 503 SlowDown, few enough that a dead store costs little.
	maxRetries = 3

	// awsEndpoint is AWS S3's global endpoint; minio-go moves to the bucket's region.
	awsEndpoint = "https://s3.amazonaws.com"

	// defaultRegion is the region of an S3-compatible store that does not care.
	// Naming one spares minio-go a GetBucketLocation call per bucket.
	defaultRegion = "us-east-1"
)

// Config is the typed configuration of a Store: the settings cache-bucket,
// cache-endpoint, cache-region, cache-path-style, cache-access-key,
// cache-secret-key and cache-timeout, with the AWS environment filled in by
// Resolve.
type Config struct {
	Bucket string
	// Endpoint is the store's URL, http:// or https://; a bare host means https.
	// Empty is AWS S3.
	Endpoint string
	Region   string
	// PathStyle addresses the bucket as ENDPOINT/BUCKET rather than
	// BUCKET.ENDPOINT. Without it, AWS gets virtual-hosted addresses and any other
	// endpoint path-style ones, which is what MinIO, SeaweedFS and Ceph expect.
	PathStyle    bool
	AccessKey    string
	SecretKey    string
	SessionToken string
	// Timeout bounds each request; zero means the defaults.
	Timeout time.Duration

	// PartSize and Concurrency shape multipart uploads; zero means the defaults.
	PartSize    int64
	Concurrency int
	// Transport carries the requests; nil is a clone of http.DefaultTransport.
	Transport http.RoundTripper
}

// Resolve fills what the settings leave empty from the usual AWS environment,
// read through getenv: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN (only together with keys from the same place),
// AWS_REGION or AWS_DEFAULT_REGION, and AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL.
// Instance roles and credential files are not read: a CI agent passes secrets as
// variables, and probing the metadata address from a build would be a surprise.
func (c Config) Resolve(getenv func(string) string) Config {
	if c.AccessKey == "" && c.SecretKey == "" {
		c.AccessKey = getenv("AWS_ACCESS_KEY_ID")
		c.SecretKey = getenv("AWS_SECRET_ACCESS_KEY")
		c.SessionToken = getenv("AWS_SESSION_TOKEN")
	}
	c.Region = first(c.Region, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
	c.Endpoint = first(c.Endpoint, getenv("AWS_ENDPOINT_URL_S3"), getenv("AWS_ENDPOINT_URL"))
	return c
}

func first(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// endpoint is where minio-go connects: host[:port] and whether it is https.
type endpoint struct {
	host   string
	secure bool
	aws    bool
}

// parseEndpoint reads Config.Endpoint. A path is refused rather than dropped: a
// store behind a path prefix is not something minio-go can address. The errors
// quote the endpoint with any password in it redacted.
func parseEndpoint(raw string) (endpoint, error) {
	if raw == "" {
		raw = awsEndpoint
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url's own error quotes the whole input, password and all: only its cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return endpoint{}, fmt.Errorf("endpoint does not parse as a URL: %w", err)
	}
	shown := firstRunes(u.Redacted(), 100)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return endpoint{}, fmt.Errorf("endpoint %q: the scheme is not http or https", shown)
	case u.Hostname() == "":
		return endpoint{}, fmt.Errorf("endpoint %q: no host", shown)
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return endpoint{}, fmt.Errorf("endpoint %q: only scheme://host[:port], without a path, query or user", shown)
	}
	return endpoint{host: u.Host, secure: u.Scheme == "https", aws: u.Hostname() == "s3.amazonaws.com"}, nil
}

// bucketRe is S3's rule for bucket names (3 to 63 lower-case letters, digits,
// dots and hyphens, a letter or digit at each end), with _ that some
// S3-compatible stores allow.
var bucketRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$`)

// FieldError is a problem with one field of a Config. It names the Go field
// (Bucket, Endpoint, AccessKey, SecretKey, Timeout, PartSize, Concurrency) rather
// than a setting, so that each front end can name the setting in its own words.
// Problem never quotes a credential.
type FieldError struct {
	Field   string
	Problem string
}

// Error is FIELD: PROBLEM.
func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Validate refuses what would only fail later, request by request, and returns
// every problem at once, each a *FieldError, joined. It reads only c: the
// settings are checked before the AWS environment is read (New checks again
// after Resolve, when the environment has filled in the rest).
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	switch {
	case c.Bucket == "":
		bad("Bucket", "is required with cache s3")
	case !bucketRe.MatchString(c.Bucket):
		bad("Bucket", "%q is not a bucket name (3 to 63 lower-case letters, digits, '.', '-' or '_')", firstRunes(c.Bucket, 70))
	}
	if c.Endpoint != "" {
		if _, err := parseEndpoint(c.Endpoint); err != nil {
			bad("Endpoint", "is not an S3 endpoint such as https://s3.example.com or http://127.0.0.1:9000 (scheme and host, no path): %v", err)
		}
	}
	switch {
	case c.AccessKey != "" && c.SecretKey == "":
		bad("SecretKey", "is required with an access key")
	case c.AccessKey == "" && c.SecretKey != "":
		bad("AccessKey", "is required with a secret key")
	}
	if c.Timeout < 0 {
		bad("Timeout", "%v is negative", c.Timeout)
	}
	if c.Concurrency < 0 {
		bad("Concurrency", "%d is negative", c.Concurrency)
	}
	switch {
	case c.PartSize < 0:
		bad("PartSize", "%d is negative", c.PartSize)
	case c.PartSize > 0 && c.PartSize < minPartSize:
		bad("PartSize", "%d is below S3's minimum of %d", c.PartSize, minPartSize)
	}
	return errors.Join(errs...)
}

// check is Validate, for New.
func (c Config) check() error { return c.Validate() }

// minPartSize is S3's smallest part but the last.
const minPartSize = 5 << 20

// Secrets are the credentials in c, for a CI log to mask: the access key ID too,
// which is no secret to AWS but names an account.
func (c Config) Secrets() []string {
	var out []string
	for _, s := range []string{c.AccessKey, c.SecretKey, c.SessionToken} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Format prints c with each credential that is set shown as ***, in every verb
// (%v, %+v, %#v, %s, %q): a Config in a log line or an error never shows them.
func (c Config) Format(f fmt.State, verb rune) {
	type fields Config // the same fields without the methods, so fmt prints them
	m := fields(c)
	m.AccessKey, m.SecretKey, m.SessionToken = mask(c.AccessKey), mask(c.SecretKey), mask(c.SessionToken)
	fmt.Fprintf(f, fmt.FormatString(f, verb), m)
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "***"
}

// firstRunes shortens s to n runes, so that an error quoting a long value stays
// one readable line.
func firstRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}
