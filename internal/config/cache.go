package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache/s3"
)

// The cache backends, the values of Cache.Backend.
const (
	CacheNone  = "none"  // no cache: the pipeline skips restore and save
	CacheLocal = "local" // a directory, LocalCache
	CacheGHA   = "gha"   // the GitHub Actions cache service, GHACache
	CacheS3    = "s3"    // an S3-compatible bucket, s3.Config
)

var cacheBackends = []string{CacheNone, CacheLocal, CacheGHA, CacheS3}

// MaxCacheTimeout bounds Cache.Timeout: a cache call that may take longer than
// this costs more than the build it would save.
const MaxCacheTimeout = time.Hour

// Cache is the cache section of a Config: what every backend shares, then each
// backend's own settings. Only the section of the chosen Backend is validated and
// used.
type Cache struct {
	Backend   string // CacheNone, CacheLocal, CacheGHA or CacheS3
	KeyPrefix string // the first part of every cache key
	Save      bool   // false restores only
	// Timeout bounds each cache call; 0 leaves each backend's own defaults.
	Timeout time.Duration

	Local LocalCache
	GHA   GHACache
	// S3 is the s3 backend's own Config, checked by its Validate, which is also
	// what s3.New applies: one check, next to the constructor. Its Timeout is
	// unused here (the CLI passes Cache.Timeout) and its credentials never print.
	S3 s3.Config
}

// LocalCache is the settings of cache local.
type LocalCache struct {
	Dir string // the directory the entries are kept in; required
}

// GHACache is the settings of cache gha.
type GHACache struct {
	Protocol string // "v1", "v2", or "" to detect it from the runner
}

// Cache service protocols accepted by GHACache.Protocol.
var cacheProtocols = []string{"", "v1", "v2"}

// s3Settings names the setting each s3.Config field comes from, so that an
// s3.FieldError is reported in the front end's words.
var s3Settings = map[string]string{
	"Bucket": "cache-bucket", "Endpoint": "cache-endpoint", "Region": "cache-region",
	"PathStyle": "cache-path-style", "AccessKey": "cache-access-key", "SecretKey": "cache-secret-key",
	"Timeout": "cache-timeout",
}

// keyPrefixRe is what a cache key prefix may hold: what the backends store
// unescaped, and / for a branch name. The gha cache refuses a comma in a key, and
// a line break would reach the step outputs and logs that print the keys.
var keyPrefixRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)

// maxKeyPrefix bounds the prefix: the keys add the entry, binary, target and
// toolchain to it, and the gha cache takes keys of up to 512 characters.
const maxKeyPrefix = 100

// validate checks the shared settings and the chosen backend's.
func (c Cache) validate(name Naming) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &InputError{Name: name(field), Problem: fmt.Sprintf(format, args...)})
	}
	if !oneOf(c.Backend, cacheBackends) {
		bad("cache", "%q is not one of %s", c.Backend, strings.Join(cacheBackends, ", "))
	}
	switch {
	case c.KeyPrefix == "":
		bad("cache-key-prefix", "is empty: every cache key begins with it (the default is rust-s2i-musl)")
	case len(c.KeyPrefix) > maxKeyPrefix:
		bad("cache-key-prefix", "is %d bytes long, more than %d", len(c.KeyPrefix), maxKeyPrefix)
	case !keyPrefixRe.MatchString(c.KeyPrefix):
		bad("cache-key-prefix", "%q is not letters, digits and . _ - /, beginning with a letter or digit", c.KeyPrefix)
	}
	if c.Backend == CacheLocal && c.Local.Dir == "" {
		bad("cache-dir", "is required with cache local")
	}
	if c.Backend == CacheS3 {
		errs = append(errs, s3Problems(c.S3, name)...)
	}
	if c.Timeout < 0 || c.Timeout > MaxCacheTimeout {
		bad("cache-timeout", "%v is not a duration between 0 and %v, such as 30s or 2m", c.Timeout, MaxCacheTimeout)
	}
	// Checked whatever the backend, as before the sections were nested: a typo
	// here is worth a word even when the gha cache is not in use.
	if !oneOf(c.GHA.Protocol, cacheProtocols) {
		bad("cache-protocol", "%q is not v1 or v2 (or empty to detect it)", c.GHA.Protocol)
	}
	return errs
}

// s3Problems turns what s3.Config.Validate finds into *InputErrors named by the
// settings. The credentials are never quoted: only whether they are there.
func s3Problems(c s3.Config, name Naming) []error {
	err := c.Validate()
	if err == nil {
		return nil
	}
	var errs []error
	for _, e := range unjoin(err) {
		var fe *s3.FieldError
		if errors.As(e, &fe) {
			if setting, ok := s3Settings[fe.Field]; ok {
				errs = append(errs, &InputError{Name: name(setting), Problem: fe.Problem, Err: fe})
				continue
			}
		}
		// A field no setting fills (PartSize, say) cannot be wrong from the user's
		// input; should it be, it is still reported, under cache.
		errs = append(errs, &InputError{Name: name("cache"), Problem: "s3: " + e.Error(), Err: e})
	}
	return errs
}

// unjoin lists the errors errors.Join joined, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
