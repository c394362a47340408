package gha

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache/cachetest"
)

// testToken is a runtime token as the runner hands it out: a JWT whose claims
// go-actions-cache reads (ac, exp, nbf). Nobody checks the signature.
func testToken(t *testing.T) string {
	t.Helper()
	return signToken(t, time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
}

func signToken(t *testing.T, nbf, exp time.Time) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"ac":  `[{"Scope":"refs/heads/main","Permission":3}]`,
		"nbf": nbf.Unix(),
		"exp": exp.Unix(),
	})
	s, err := tok.SignedString([]byte("test-signing-key"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// env is a getenv over a map, so tests never touch the process environment.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// newTestStore is a Store for protocol proto at url with the given bound. An empty
// proto is chosen from the environment of a GHES runner, which means v1.
func newTestStore(t *testing.T, proto, url, token string, timeout time.Duration) *Store {
	t.Helper()
	s, err := New(Config{Protocol: proto, Timeout: timeout}, env(map[string]string{
		"GITHUB_SERVER_URL":     "https://ghes.example",
		"ACTIONS_RUNTIME_TOKEN": token,
		"ACTIONS_CACHE_URL":     url,
		"ACTIONS_RESULTS_URL":   url,
	}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// memBlob is a cache.Blob in memory.
type memBlob struct{ *bytes.Reader }

func newBlob(b []byte) memBlob { return memBlob{bytes.NewReader(b)} }

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// closedURL is an http URL on loopback where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	// Port 1 (tcpmux), which nothing on these machines serves and no test binds: a
	// port freed by closing a listener could be taken by a parallel test's server
	// in between, which then resets the connection instead of refusing it.
	return "http://127.0.0.1:1/"
}

// newServer is an httptest server on 127.0.0.1 with the handler that mk makes.
// Handlers can wait on done, which is closed before the server is, so a handler
// that never answers does not keep Close waiting.
func newServer(t *testing.T, mk func(done <-chan struct{}) http.Handler) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(mk(done)) // httptest listens on 127.0.0.1
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	return srv
}

// handler adapts a fixed handler for newServer.
func handler(h http.Handler) func(<-chan struct{}) http.Handler {
	return func(<-chan struct{}) http.Handler { return h }
}

// hang answers nothing until the client gives up or the test ends.
func hang(done <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

const twirpPrefix = "/twirp/github.actions.results.api.v1.CacheService/"

// twirpMethod is the CacheService method a request calls, or "".
func twirpMethod(r *http.Request) string {
	m, ok := strings.CutPrefix(r.URL.Path, twirpPrefix)
	if !ok || r.Method != http.MethodPost {
		return ""
	}
	return m
}

// checkBounded fails t unless elapsed stays within the bound plus slack for a
// loaded machine (2 CPUs shared with builds). Left to themselves, go-actions-cache
// would retry for 5 minutes and the Azure SDK for more than 10.
func checkBounded(t *testing.T, elapsed, bound time.Duration) {
	t.Helper()
	if limit := bound*3/2 + 2*time.Second; elapsed > limit {
		t.Errorf("took %v, want at most %v (bound %v)", elapsed.Round(time.Millisecond), limit, bound)
	}
}

// checkClean fails t when err's text holds the token or a URL signature.
func checkClean(t *testing.T, err error, token string) {
	t.Helper()
	if err == nil {
		return
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error holds the token: %v", err)
	}
	if i := strings.Index(strings.ToLower(err.Error()), "sig="); i >= 0 && !strings.HasPrefix(err.Error()[i+4:], "***") {
		t.Errorf("error holds a URL signature: %v", err)
	}
}

// asError is err as a *callError, failing t when it is not one.
func asError(t *testing.T, err error) *callError {
	t.Helper()
	var e *callError
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *callError", err, err)
	}
	return e
}

// loadCase is a Load of keys that must match key and give want.
type loadCase struct {
	name string
	keys []string
	key  string
	want []byte
}

// checkLoads runs each case against s, in parallel subtests.
func checkLoads(t *testing.T, s *Store, cases []loadCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key, got, err := cachetest.LoadAll(context.Background(), s, tt.keys...)
			if err != nil {
				t.Fatal(err)
			}
			if key != tt.key {
				t.Errorf("matched %q, want %q", key, tt.key)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got %d bytes, want %d, or the content differs", len(got), len(tt.want))
			}
		})
	}
}
