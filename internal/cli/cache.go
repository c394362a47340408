package cli

import (
	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/gha"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/local"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache/s3"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
)

// localCacheBytes caps a local cache directory, like GitHub's 10 GB per repository.
const localCacheBytes = 10 << 30

// stores maps each cache backend but none to its constructor. Each backend's
// settings were checked by Config.Validate; the constructors check them again.
var stores = map[string]func(c config.Cache, getenv func(string) string) (cache.Store, error){
	config.CacheLocal: func(c config.Cache, _ func(string) string) (cache.Store, error) {
		return local.New(c.Local.Dir, localCacheBytes)
	},
	config.CacheGHA: func(c config.Cache, getenv func(string) string) (cache.Store, error) {
		return gha.New(gha.Config{Protocol: c.GHA.Protocol, Timeout: c.Timeout}, getenv)
	},
	config.CacheS3: func(c config.Cache, getenv func(string) string) (cache.Store, error) {
		s := c.S3
		s.Timeout = c.Timeout
		return s3.New(s, getenv)
	},
}

// openStore returns the configured cache, or nil for none (the pipeline then skips
// restore and save altogether). A cache that cannot be
// opened is a warning and a build without cache, never a failed build.
func openStore(cfg config.Config, getenv func(string) string, warn func(string, ...any)) cache.Store {
	open, ok := stores[cfg.Cache.Backend]
	if !ok {
		return nil
	}
	s, err := open(cfg.Cache, getenv)
	if err != nil {
		warn("cache %s unavailable, building without it: %v", cfg.Cache.Backend, err)
		return nil
	}
	return cache.Breaker(s)
}
