package s3

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
// store behind a path prefix is not something minio-go can address.
func parseEndpoint(raw string) (endpoint, error) {
	if raw == "" {
		raw = awsEndpoint
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, fmt.Errorf("endpoint %q: %w", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return endpoint{}, fmt.Errorf("endpoint %q: the scheme is not http or https", raw)
	case u.Host == "":
		return endpoint{}, fmt.Errorf("endpoint %q: no host", raw)
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil:
		return endpoint{}, fmt.Errorf("endpoint %q: only scheme://host[:port], without a path, query or user", raw)
	}
	return endpoint{host: u.Host, secure: u.Scheme == "https", aws: u.Hostname() == "s3.amazonaws.com"}, nil
}

// check refuses what would only fail later, request by request.
func (c Config) check() error {
	var errs []error
	if c.Bucket == "" {
		errs = append(errs, errors.New("no bucket"))
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		errs = append(errs, errors.New("an access key needs its secret key, and the other way round"))
	}
	if c.Timeout < 0 || c.PartSize < 0 || c.Concurrency < 0 {
		errs = append(errs, errors.New("negative timeout, part size or concurrency"))
	}
	if c.PartSize > 0 && c.PartSize < minPartSize {
		errs = append(errs, fmt.Errorf("part size %d is below S3's minimum of %d", c.PartSize, minPartSize))
	}
	return errors.Join(errs...)
}

// minPartSize is S3's smallest part but the last.
const minPartSize = 5 << 20
