package s3

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/stall"
)

// Store is a cache.Store over one bucket, shared by any number of agents. It is
// safe for concurrent use.
type Store struct {
	core        *minio.Core
	bucket      string
	loadTimeout time.Duration
	saveTimeout time.Duration
	partSize    int64
	concurrency int
}

var _ cache.Store = (*Store)(nil)

// New makes a Store from cfg, with what cfg leaves empty taken from the AWS
// environment through getenv (see Config.Resolve). It sends no request: a store
// that is down shows on the first Load, as a warning.
func New(cfg Config, getenv func(string) string) (*Store, error) {
	cfg = cfg.Resolve(getenv)
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("s3 cache: %w", err)
	}
	ep, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("s3 cache: %w", err)
	}
	region := cfg.Region
	if region == "" && !ep.aws {
		region = defaultRegion
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	transport := cfg.Transport
	if transport == nil {
		transport = newTransport()
	}
	core, err := minio.NewCore(ep.host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
		Secure:       ep.secure,
		Region:       region,
		BucketLookup: lookup,
		Transport:    transport,
		MaxRetries:   maxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 cache: %w", err)
	}
	core.SetAppInfo("rust-s2i-musl", "1")
	s := &Store{
		core:        core,
		bucket:      cfg.Bucket,
		loadTimeout: DefaultLoadTimeout,
		saveTimeout: DefaultSaveTimeout,
		partSize:    cmp.Or(cfg.PartSize, DefaultPartSize),
		concurrency: cmp.Or(cfg.Concurrency, DefaultConcurrency),
	}
	if cfg.Timeout > 0 {
		s.loadTimeout, s.saveTimeout = cfg.Timeout, cfg.Timeout
	}
	return s, nil
}

// newTransport is the standard transport, proxies from the environment included.
func newTransport() http.RoundTripper {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return &http.Transport{Proxy: http.ProxyFromEnvironment}
}

// Load implements cache.Store. Finding the entry and the first answer of its GET
// must come within the load timeout; the body then streams with an idle bound.
func (s *Store) Load(ctx context.Context, keys []string) (string, io.ReadCloser, error) {
	if len(keys) == 0 {
		return "", nil, cache.ErrNotFound
	}
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return "", nil, fmt.Errorf("s3 cache load: %w", err)
		}
	}
	// One watchdog for the lookup and the download: it bounds the lookup first, then
	// each Read of the body.
	dog := stall.NewWatchdog(ctx, fmt.Errorf("no answer for %v", s.loadTimeout))
	var (
		key  string
		body io.ReadCloser
		size int64
	)
	err := dog.Within(s.loadTimeout, func() (err error) {
		key, body, size, err = s.find(dog.Context(), keys)
		return err
	})
	if err != nil {
		// A cause while the caller's ctx lives is the watchdog's: say so.
		if cause := dog.Cause(); cause != nil && ctx.Err() == nil {
			err = fmt.Errorf("%w (%v)", err, cause)
		}
		dog.Stop(err)
		return "", nil, err
	}
	return key, stall.NewReader(dog, s.loadTimeout, &sizedBody{ReadCloser: body, size: size}, readFailure(key)), nil
}

// find opens the entry of keys[0], or else the newest under keys[1], keys[2], ...
func (s *Store) find(ctx context.Context, keys []string) (string, io.ReadCloser, int64, error) {
	body, size, err := s.get(ctx, keys[0])
	if !errors.Is(err, cache.ErrNotFound) {
		return keys[0], body, size, err
	}
	for _, prefix := range keys[1:] {
		found, err := s.list(ctx, prefix)
		if err != nil {
			return "", nil, 0, err
		}
		for _, key := range found {
			body, size, err := s.get(ctx, key)
			if errors.Is(err, cache.ErrNotFound) {
				continue // expired by the lifecycle rule since the listing
			}
			return key, body, size, err
		}
	}
	return "", nil, 0, cache.ErrNotFound
}

// get starts the download of key; a missing object is cache.ErrNotFound.
func (s *Store) get(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	body, info, _, err := s.core.GetObject(ctx, s.bucket, objectName(key), minio.GetObjectOptions{})
	if err != nil {
		if notFound(err) {
			return nil, 0, cache.ErrNotFound
		}
		return nil, 0, fmt.Errorf("s3 cache: getting %s: %w", key, err)
	}
	return body, info.Size, nil
}

// list returns the keys under prefix, newest first; ties go to the greater key, so
// that equal times still give one answer on every agent.
func (s *Store) list(ctx context.Context, prefix string) ([]string, error) {
	type entry struct {
		key  string
		time time.Time
	}
	var found []entry
	for obj := range s.core.Client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: objectName(prefix), Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("s3 cache: listing %s: %w", prefix, obj.Err)
		}
		if key, ok := keyOf(obj.Key); ok && strings.HasPrefix(key, prefix) {
			found = append(found, entry{key, obj.LastModified})
		}
	}
	slices.SortFunc(found, func(a, b entry) int {
		if c := b.time.Compare(a.time); c != 0 {
			return c
		}
		return cmp.Compare(b.key, a.key)
	})
	keys := make([]string, len(found))
	for i, e := range found {
		keys[i] = e.key
	}
	return keys, nil
}

// Save implements cache.Store; see the package doc for how a taken key is told.
func (s *Store) Save(ctx context.Context, key string, blob cache.Blob) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("s3 cache save: %w", err)
	}
	// Looked up first only to spare uploading gigabytes; the condition on the write
	// is what decides.
	switch err := s.stat(ctx, key); {
	case err == nil:
		return cache.ErrExists
	case !errors.Is(err, cache.ErrNotFound):
		return err
	}
	err := s.write(ctx, key, blob)
	if err == nil || errors.Is(err, cache.ErrExists) {
		return err
	}
	// 409 ConditionalRequestConflict: another agent's write of the key was under way.
	// Taken if it went through, else this save failed.
	if isStatus(err, http.StatusConflict) && s.stat(context.WithoutCancel(ctx), key) == nil {
		return cache.ErrExists
	}
	return err
}

// write uploads blob to key unless the key exists: one conditional PUT, or a
// multipart upload completed on the same condition.
func (s *Store) write(ctx context.Context, key string, blob cache.Blob) error {
	var opts minio.PutObjectOptions
	opts.ContentType = "application/zstd"
	opts.SetMatchETagExcept("*") // If-None-Match: *
	if blob.Size() <= s.partSize {
		rctx, cancel := context.WithTimeout(ctx, s.saveTimeout)
		defer cancel()
		_, err := s.core.PutObject(rctx, s.bucket, objectName(key), io.NewSectionReader(blob, 0, blob.Size()), blob.Size(), "", "", opts)
		return s.saveError(key, "uploading", err)
	}
	return s.multipart(ctx, key, blob, opts)
}

// stat looks key up; a missing object is cache.ErrNotFound.
func (s *Store) stat(ctx context.Context, key string) error {
	rctx, cancel := context.WithTimeout(ctx, s.saveTimeout)
	defer cancel()
	_, err := s.core.StatObject(rctx, s.bucket, objectName(key), minio.StatObjectOptions{})
	switch {
	case err == nil:
		return nil
	case notFound(err):
		return cache.ErrNotFound
	}
	return fmt.Errorf("s3 cache: looking up %s: %w", key, err)
}

// saveError gives a failed write its context; 412 (the If-None-Match condition) is
// cache.ErrExists.
func (s *Store) saveError(key, step string, err error) error {
	switch {
	case err == nil:
		return nil
	case isStatus(err, http.StatusPreconditionFailed):
		return cache.ErrExists
	}
	return fmt.Errorf("s3 cache: saving %s: %s: %w", key, step, err)
}

// notFound reports whether err says the object is missing. A missing bucket is
// a fault, not a miss: a build must warn that its cache is misconfigured.
func notFound(err error) bool {
	var resp minio.ErrorResponse
	return errors.As(err, &resp) && resp.StatusCode == http.StatusNotFound && resp.Code != "NoSuchBucket"
}

// isStatus reports whether err is an S3 error answer with the HTTP status code.
func isStatus(err error, code int) bool {
	var resp minio.ErrorResponse
	return errors.As(err, &resp) && resp.StatusCode == code
}
