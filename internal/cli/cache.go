package cli

import (
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/gha"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/local"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/s3"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
)

// localCacheBytes caps a local cache directory, like GitHub's 10 GB per repository.
const localCacheBytes = 10 << 30

// stores maps each --cache value but none to its backend's constructor.
var stores = map[string]func(cfg config.Config, getenv func(string) string) (cache.Store, error){
	"local": func(cfg config.Config, _ func(string) string) (cache.Store, error) {
		return local.New(cfg.CacheDir, localCacheBytes)
	},
	"gha": func(cfg config.Config, getenv func(string) string) (cache.Store, error) {
		timeout, _ := time.ParseDuration(cfg.CacheTimeout) // validated; "" is 0, the defaults
		return gha.New(gha.Config{Protocol: cfg.CacheProtocol, Timeout: timeout}, getenv)
	},
	"s3": func(cfg config.Config, getenv func(string) string) (cache.Store, error) {
		timeout, _ := time.ParseDuration(cfg.CacheTimeout) // validated; "" is 0, the defaults
		return s3.New(s3.Config{
			Bucket: cfg.CacheBucket, Endpoint: cfg.CacheEndpoint, Region: cfg.CacheRegion, PathStyle: cfg.CachePathStyle,
			AccessKey: string(cfg.CacheAccessKey), SecretKey: string(cfg.CacheSecretKey), Timeout: timeout,
		}, getenv)
	},
}

// openStore returns the configured cache, or nil for none (the pipeline then skips
// restore and save altogether). A cache that cannot be
// opened is a warning and a build without cache, never a failed build.
func openStore(cfg config.Config, getenv func(string) string, warn func(string, ...any)) cache.Store {
	open, ok := stores[cfg.Cache]
	if !ok {
		return nil
	}
	s, err := open(cfg, getenv)
	if err != nil {
		warn("cache %s unavailable, building without it: %v", cfg.Cache, err)
		return nil
	}
	return cache.Breaker(s)
}
