package gha

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	actionscache "github.com/tonistiigi/go-actions-cache"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
)

// The default time bounds; see the package doc.
const (
	defaultLoadTimeout = 1 * time.Minute
	defaultSaveTimeout = 2 * time.Minute
)

// maxKeyLen is the Actions cache's limit on a key.
const maxKeyLen = 512

const userAgent = "rust-s2i-musl"

// Config chooses the protocol and the time bounds.
type Config struct {
	// Protocol forces "v1" or "v2"; empty chooses from the environment.
	Protocol string
	// Timeout bounds each Load and Save, and a download's wait for data. Zero means
	// defaultLoadTimeout for Load and defaultSaveTimeout for Save.
	Timeout time.Duration
}

// Store is a cache.Store over the GitHub Actions cache service. It is safe for
// concurrent use; each call has its own client and time bound.
type Store struct {
	ep          endpoint
	loadTimeout time.Duration
	saveTimeout time.Duration
	transport   http.RoundTripper
	// backoff is shared by the calls of this Store (not across Stores, as
	// go-actions-cache's default pool would be), so that a 429 slows them all.
	backoff *actionscache.BackoffPool
}

var _ cache.Store = (*Store)(nil)

// New reads ACTIONS_RUNTIME_TOKEN, ACTIONS_CACHE_URL, ACTIONS_RESULTS_URL,
// ACTIONS_CACHE_SERVICE_V2, GITHUB_SERVER_URL and ACT through getenv, picks the
// protocol and checks the token. It sends no request.
func New(cfg Config, getenv func(string) string) (*Store, error) {
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("gha: negative timeout %v", cfg.Timeout)
	}
	ep, err := chooseEndpoint(cfg.Protocol, getenv)
	if err != nil {
		return nil, err
	}
	s := &Store{
		ep:          ep,
		loadTimeout: defaultLoadTimeout,
		saveTimeout: defaultSaveTimeout,
		transport:   newTransport(),
		backoff:     &actionscache.BackoffPool{},
	}
	if cfg.Timeout > 0 {
		s.loadTimeout, s.saveTimeout = cfg.Timeout, cfg.Timeout
	}
	// go-actions-cache checks the token's claims (ac, exp, nbf) here.
	if _, _, err := s.client(s.loadTimeout); err != nil {
		return nil, err
	}
	return s, nil
}

// newTransport is the control plane's (and v1 downloads') transport: the standard
// one, proxies from the environment included. (v2 data goes through the Azure SDK's.)
func newTransport() http.RoundTripper {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
}

// client makes a go-actions-cache client for one call, with its own tracker.
func (s *Store) client(timeout time.Duration) (*actionscache.Cache, *tracker, error) {
	t := &tracker{base: s.transport}
	c, err := actionscache.New(s.ep.token, s.ep.url, s.ep.protocol == protocolV2, actionscache.Opt{
		Client:      &http.Client{Transport: t},
		Timeout:     timeout,
		BackoffPool: s.backoff,
		UserAgent:   userAgent,
	})
	if err != nil {
		// The library's messages name the claim, never the token.
		return nil, nil, fmt.Errorf("gha: ACTIONS_RUNTIME_TOKEN: %s", redact(err.Error(), s.ep.token))
	}
	return c, t, nil
}

// Load implements cache.Store. The lookup and the start of the download are bounded
// by the load timeout; after that, the content stream fails if the server sends
// nothing for that long, and it stops when ctx ends.
func (s *Store) Load(ctx context.Context, keys []string) (string, io.ReadCloser, error) {
	if len(keys) == 0 {
		return "", nil, errors.New("gha cache load: no keys")
	}
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return "", nil, fmt.Errorf("gha cache load: %w", err)
		}
	}
	deadline := time.Now().Add(s.loadTimeout)
	lctx, cancel := context.WithDeadlineCause(ctx, deadline, fmt.Errorf("no answer within %v", s.loadTimeout))
	defer cancel()

	c, track, err := s.client(s.loadTimeout)
	if err != nil {
		return "", nil, err
	}
	var e *actionscache.Entry
	err = safely(func() (err error) {
		e, err = c.Load(lctx, keys...)
		return err
	})
	if err != nil {
		_, status := track.state()
		return "", nil, newError("load", stepLookup, status, err, stopCause(lctx), s.ep.token)
	}
	if e == nil || e.Key == "" {
		return "", nil, fmt.Errorf("gha cache load %q: %w", keys[0], cache.ErrNotFound)
	}
	st, err := openStream(ctx, e, deadline, s.loadTimeout, track, s.ep.token)
	if err != nil {
		return "", nil, err
	}
	return e.Key, st, nil
}

// Save implements cache.Store, within the save timeout.
func (s *Store) Save(ctx context.Context, key string, blob cache.Blob) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("gha cache save: %w", err)
	}
	if blob.Size() <= 0 {
		// v1 would commit an entry no chunk was uploaded to, which servers refuse or
		// keep broken; no archive is empty.
		return fmt.Errorf("gha cache save %q: empty content", key)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, s.saveTimeout, fmt.Errorf("not done within %v", s.saveTimeout))
	defer cancel()

	c, track, err := s.client(s.saveTimeout)
	if err != nil {
		return err
	}
	err = safely(func() error { return c.Save(withAzureRetries(ctx), key, nopCloser{blob}) })
	if err != nil {
		step, status := track.state()
		if step == "" {
			step = stepReserve
		}
		return newError("save", step, status, err, stopCause(ctx), s.ep.token)
	}
	return nil
}

func checkKey(k string) error {
	switch {
	case k == "":
		return errors.New("empty key")
	case len(k) > maxKeyLen:
		return fmt.Errorf("key longer than %d bytes", maxKeyLen)
	case strings.Contains(k, ","):
		// v1 sends the keys comma-separated.
		return fmt.Errorf("key %q has a comma", k)
	}
	return nil
}

// withAzureRetries replaces go-actions-cache's Azure retry policy (10 retries,
// delays up to 2 minutes) by one that fits in the time bounds. The context's
// deadline stops it in any case; this keeps it from sleeping most of the bound away.
func withAzureRetries(ctx context.Context) context.Context {
	return policy.WithRetryOptions(ctx, policy.RetryOptions{
		MaxRetries:    4,
		RetryDelay:    500 * time.Millisecond,
		MaxRetryDelay: 10 * time.Second,
	})
}

// errPanic marks a panic in go-actions-cache caught by safely.
var errPanic = errors.New("go-actions-cache panicked")

// safely runs f and turns a panic into an error: go-actions-cache dereferences
// fields of server answers without checking them (for one, the request ID of an
// Azure upload), and nothing a cache sends may crash a build. Panics in the
// library's own goroutines cannot be caught here.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errPanic, r)
		}
	}()
	return f()
}

// nopCloser gives a cache.Blob the Close that go-actions-cache's Blob wants; the
// caller owns the blob.
type nopCloser struct{ cache.Blob }

func (nopCloser) Close() error { return nil }
