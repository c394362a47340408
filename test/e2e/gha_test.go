package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// runtimeToken is an ACTIONS_RUNTIME_TOKEN as the runner hands out: a JWT with the
// claims go-actions-cache checks.
func runtimeToken(t *testing.T) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"ac":  `[{"Scope":"refs/heads/main","Permission":3}]`,
		"nbf": time.Now().Add(-time.Hour).Unix(),
		"exp": time.Now().Add(time.Hour).Unix(),
	})
	s, err := tok.SignedString([]byte("test key"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// faultyCache serves the Actions cache protocol v1 the way a broken server does.
type faultyCache struct {
	lookup, reserve http.HandlerFunc // nil: a miss / a reservation that works
}

func (f faultyCache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/_apis/artifactcache/cache"):
		if f.lookup != nil {
			f.lookup(w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/_apis/artifactcache/caches"):
		if f.reserve != nil {
			f.reserve(w, r)
			return
		}
		json.NewEncoder(w).Encode(map[string]int{"cacheId": 1})
	case strings.HasSuffix(r.URL.Path, "/archive"):
		// Promise a big archive, send a few bytes, hang up.
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("(\xb5/\xfd truncated"))
		if hj, ok := w.(http.Hijacker); ok {
			conn, _, _ := hj.Hijack()
			conn.Close()
		}
	default:
		w.WriteHeader(http.StatusNoContent) // uploads and commits
	}
}

func status(code int, message string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"message":%q}`, message)
	}
}

// Every cache fault costs a warning naming it and at most a cold build: the build
// succeeds and the binary is right.
func TestCacheFaults(t *testing.T) {
	needDocker(t)
	t.Parallel()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + closed.Addr().String() + "/"
	closed.Close()

	tests := []struct {
		name   string
		server http.Handler // nil: nothing listens
		want   []string
	}{
		{"unreachable", nil, []string{"warning: cache entry", "connection refused"}},
		{"429", faultyCache{lookup: status(http.StatusTooManyRequests, "slow down"), reserve: status(http.StatusTooManyRequests, "slow down")}, []string{"warning: cache entry", "429"}},
		{"500", faultyCache{lookup: status(http.StatusInternalServerError, "boom"), reserve: status(http.StatusInternalServerError, "boom")}, []string{"warning: cache entry", "500"}},
		{"read-only", faultyCache{reserve: status(http.StatusForbidden, "Cache is read-only for this workflow")}, []string{"warning: cache entry", "read-only"}},
		{"over budget", faultyCache{reserve: status(http.StatusBadRequest, "Cache size of ~11000 MB is over the 10GB limit")}, []string{"warning: cache entry", "over the 10GB limit"}},
		{"key exists", faultyCache{reserve: status(http.StatusConflict, "Cache already exists")}, []string{"already saved by another build"}},
		{"truncated archive", faultyCache{lookup: func(w http.ResponseWriter, r *http.Request) {
			key := strings.Split(r.URL.Query().Get("keys"), ",")[0]
			json.NewEncoder(w).Encode(map[string]string{"cacheKey": key, "archiveLocation": "http://" + r.Host + "/archive"})
		}}, []string{"warning: cache entry", "not restored"}},
	}
	token := runtimeToken(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := deadURL
			if tc.server != nil {
				srv := httptest.NewServer(tc.server)
				defer srv.Close()
				url = srv.URL + "/"
			}
			final, tmp := names(t)
			env := []string{"ACTIONS_CACHE_URL=" + url, "ACTIONS_RUNTIME_TOKEN=" + token}
			start := time.Now()
			r := runCmd(t, env, buildArgs(crate("hello"), "hello", final, tmp,
				"--cache", "gha", "--cache-protocol", "v1", "--cache-timeout", "3s")...)
			if r.code != 0 {
				t.Fatalf("a cache fault failed the build:\n%s", r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("log lacks %q:\n%s", w, r.stderr)
				}
			}
			if tc.name == "key exists" && strings.Contains(r.stderr, "warning:") {
				t.Errorf("an existing key is not a problem, yet it warned:\n%s", r.stderr)
			}
			if strings.Contains(r.stderr+r.stdout, token) {
				t.Error("the cache token reached the log")
			}
			if got := runImage(t, final); !strings.Contains(got, "Hello, world!") {
				t.Errorf("image printed %q", got)
			}
			t.Logf("%s: built in %s", tc.name, time.Since(start).Round(time.Millisecond))
		})
	}
}
