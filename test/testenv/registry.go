package testenv

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Registry starts go-containerregistry's in-memory registry on loopback for the
// test and returns its host (127.0.0.1:PORT). It stops when the test ends.
func Registry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(RegistryHandler())
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// RegistryHandler is the in-memory registry, its request log kept out of the
// test output, for a test that serves it its own way.
func RegistryHandler() http.Handler {
	return registry.New(registry.Logger(log.New(io.Discard, "", 0)))
}
