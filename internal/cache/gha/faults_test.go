package gha

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
)

// faultTimeout is the bound the fault tests set; each checks that a call gives up
// within it (plus slack), where go-actions-cache alone would retry for 5 minutes.
const faultTimeout = time.Second

// fakeSig is the signature in the fake servers' signed URLs; no error may show it.
const fakeSig = "c2VjcmV0LXNpZ25hdHVyZQ"

// v1Server is a protocol v1 server whose steps can each be replaced; the defaults
// answer like GitHub and hand out an archive at /archive.
func v1Server(h map[string]http.HandlerFunc) http.HandlerFunc {
	defaults := map[string]http.HandlerFunc{
		"lookup": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"cacheKey": "k-1", "archiveLocation": "http://" + r.Host + "/archive"})
		},
		"reserve": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 201, map[string]any{"cacheId": 7}) },
		"upload":  func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) },
		"commit":  func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) },
		"archive": func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "content") },
	}
	return func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		var step string
		switch {
		case strings.HasSuffix(p, "/_apis/artifactcache/cache"):
			step = "lookup"
		case strings.HasSuffix(p, "/_apis/artifactcache/caches"):
			step = "reserve"
		case strings.Contains(p, "/_apis/artifactcache/caches/") && r.Method == http.MethodPatch:
			step = "upload"
		case strings.Contains(p, "/_apis/artifactcache/caches/"):
			step = "commit"
		case p == "/archive":
			step = "archive"
		default:
			http.NotFound(w, r)
			return
		}
		if f := h[step]; f != nil {
			f(w, r)
		} else {
			defaults[step](w, r)
		}
	}
}

// v2Server is a protocol v2 control plane whose methods can each be replaced, with a
// stand-in for Azure at /devstoreaccount1/ ("blob"). The defaults succeed.
func v2Server(h map[string]http.HandlerFunc) http.HandlerFunc {
	blobURL := func(r *http.Request) string {
		return "http://" + r.Host + "/devstoreaccount1/c/entry?sv=2021-08-06&sp=rcw&sig=" + fakeSig
	}
	defaults := map[string]http.HandlerFunc{
		"CreateCacheEntry": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"ok": true, "signed_upload_url": blobURL(r)})
		},
		"FinalizeCacheEntryUpload": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"ok": true, "entry_id": "1"})
		},
		"GetCacheEntryDownloadURL": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"ok": true, "matched_key": "k-1", "signed_download_url": blobURL(r)})
		},
		"blob": azureBlob("content"),
	}
	return func(w http.ResponseWriter, r *http.Request) {
		name := twirpMethod(r)
		if strings.HasPrefix(r.URL.Path, "/devstoreaccount1/") {
			name = "blob"
		}
		if f := h[name]; f != nil {
			f(w, r)
		} else if f := defaults[name]; f != nil {
			f(w, r)
		} else {
			http.NotFound(w, r)
		}
	}
}

// azureBlob answers like Azure Blob Storage: block uploads succeed, a GET gives data.
func azureBlob(data string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-request-id", "req-1")
		w.Header().Set("x-ms-version", "2021-08-06")
		switch r.Method {
		case http.MethodPut:
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusCreated)
		case http.MethodGet:
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			io.WriteString(w, data)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	}
}

func answer(code int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// truncated promises size bytes and sends half of them.
func truncated(size int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-request-id", "req-1")
		w.Header().Set("Content-Length", fmt.Sprint(size))
		w.Write(bytes.Repeat([]byte("x"), size/2))
	}
}

// chunkedCut sends a chunked body and drops the connection in the middle of it.
func chunkedCut(w http.ResponseWriter, r *http.Request) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n%x\r\n", 40000, strings.Repeat("x", 40000), 40000)
	buf.WriteString(strings.Repeat("y", 100))
	buf.Flush()
}

// stalls sends half of what it promises, then nothing until the client gives up.
func stalls(size int, done <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-request-id", "req-1")
		w.Header().Set("Content-Length", fmt.Sprint(size))
		w.Write(bytes.Repeat([]byte("x"), size/2))
		w.(http.Flusher).Flush()
		hang(done)(w, r)
	}
}

// TestFaults: every way a cache server can fail gives a bounded, clean error that
// names the step and the status.
func TestFaults(t *testing.T) {
	t.Parallel()
	for _, tt := range faultCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runFault(t, tt)
		})
	}
}

// The answers of GitHub's v1 service to an entry over the size limit and to a key
// that is taken.
const (
	faultTooBig = `{"$id":"1","innerException":null,"message":"Cache size of ~11000 MB (11534336000 B) is over the 10GB limit, not saving cache.","typeName":"Microsoft.Azure.DevOps.ArtifactCache.WebApi.ArtifactCacheItemTooLargeException","typeKey":"ArtifactCacheItemTooLargeException","errorCode":0,"eventId":3000}`
	faultExists = `{"$id":"1","innerException":null,"message":"Cache already exists. Scope: refs/heads/main, Key: k-1, Version: abc","typeName":"Microsoft.Azure.DevOps.ArtifactCache.WebApi.ArtifactCacheItemAlreadyExistsException, Microsoft.Azure.DevOps.ArtifactCache.WebApi","typeKey":"ArtifactCacheItemAlreadyExistsException","errorCode":0,"eventId":3000}`
)

// faultCase is a failing server and how the call it fails must fail.
type faultCase struct {
	name  string
	proto string
	// server is the fault; nil means nothing listens.
	server func(done <-chan struct{}) http.HandlerFunc
	op     string // "save", "load" (Load fails) or "read" (Load works, reading fails)
	step   string
	status int    // the HTTP status the error gives; 0: not checked
	text   string // the error says this
	is     error  // errors.Is(err, is)
	// maxRequests, when set, bounds how often the server was asked.
	maxRequests int64
}

// faultCases are the servers TestFaults fails against: nothing listening,
// throttled, failing and silent control planes, refusals and broken downloads.
var faultCases = []faultCase{
	// Nothing listens.
	{name: "v1 save unreachable", proto: protocolV1, op: "save", step: stepReserve, text: "connection refused"},
	{name: "v2 save unreachable", proto: protocolV2, op: "save", step: stepReserve, text: "connection refused"},
	{name: "v1 load unreachable", proto: protocolV1, op: "load", step: stepLookup, text: "connection refused"},
	{name: "v2 load unreachable", proto: protocolV2, op: "load", step: stepLookup, text: "connection refused"},
	{name: "v2 blob store unreachable on upload", proto: protocolV2, op: "save", step: stepUpload, server: func(<-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"CreateCacheEntry": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"ok": true, "signed_upload_url": "http://127.0.0.1:1/devstoreaccount1/c/e?sig=" + fakeSig})
		}})
	}},

	// Throttled, failing and silent control planes.
	{name: "v1 reserve 429", proto: protocolV1, op: "save", step: stepReserve, status: 429, server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"reserve": answer(429, `{"message":"slow down"}`)})
	}},
	{name: "v1 reserve 429 Retry-After 0", proto: protocolV1, op: "save", step: stepReserve, status: 429, maxRequests: 5, server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"reserve": answer(429, `{"message":"slow down"}`, "Retry-After", "0")})
	}},
	{name: "v2 reserve 429 Retry-After 1", proto: protocolV2, op: "save", step: stepReserve, server: func(<-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"CreateCacheEntry": answer(429, `{"code":"resource_exhausted","msg":"rate limited"}`, "Retry-After", "1")})
	}},
	{name: "v1 reserve 503", proto: protocolV1, op: "save", step: stepReserve, status: 503, server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"reserve": answer(503, "upstream down")})
	}},
	{name: "v2 reserve 500", proto: protocolV2, op: "save", step: stepReserve, status: 500, server: func(<-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"CreateCacheEntry": answer(500, `{"code":"internal","msg":"boom"}`)})
	}},
	{name: "v1 reserve never answers", proto: protocolV1, op: "save", step: stepReserve, text: "not done within " + faultTimeout.String(), server: func(done <-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"reserve": hang(done)})
	}},
	{name: "v2 reserve never answers", proto: protocolV2, op: "save", step: stepReserve, text: "not done within " + faultTimeout.String(), server: func(done <-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"CreateCacheEntry": hang(done)})
	}},
	{name: "v1 upload 500", proto: protocolV1, op: "save", step: stepUpload, status: 500, server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"upload": answer(500, `{"message":"disk full"}`)})
	}},
	{name: "v1 upload never answers", proto: protocolV1, op: "save", step: stepUpload, server: func(done <-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"upload": hang(done)})
	}},
	{name: "v2 blob upload 503", proto: protocolV2, op: "save", step: stepUpload, server: func(<-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"blob": answer(503, "<Error><Code>ServerBusy</Code></Error>", "x-ms-error-code", "ServerBusy", "x-ms-request-id", "r")})
	}},
	{name: "v2 blob upload never answers", proto: protocolV2, op: "save", step: stepUpload, server: func(done <-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"blob": hang(done)})
	}},
	{name: "v2 blob store without request IDs", proto: protocolV2, op: "save", step: stepUpload, server: func(done <-chan struct{}) http.HandlerFunc {
		// go-actions-cache dereferences the request ID of the answer; that must not crash us.
		return v2Server(map[string]http.HandlerFunc{"blob": func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusCreated)
		}})
	}},
	{name: "v1 commit 502", proto: protocolV1, op: "save", step: stepCommit, status: 502, server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"commit": answer(502, "bad gateway")})
	}},
	{name: "v2 finalize refused", proto: protocolV2, op: "save", step: stepCommit, text: "upload incomplete", server: func(<-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"FinalizeCacheEntryUpload": answer(200, `{"ok":false,"message":"upload incomplete"}`)})
	}},

	// Read-only, over budget, key taken.
	{name: "v2 reserve refused over budget", proto: protocolV2, op: "save", step: stepReserve, text: "cache storage quota exceeded for this repository", server: func(<-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"CreateCacheEntry": answer(200, `{"ok":false,"message":"cache storage quota exceeded for this repository"}`)})
	}},
	{name: "v2 reserve refused read-only", proto: protocolV2, op: "save", step: stepReserve, text: "cache is read-only for pull requests from forks", server: func(<-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"CreateCacheEntry": answer(200, `{"ok":false,"message":"cache is read-only for pull requests from forks"}`)})
	}},
	{name: "v1 reserve 400 too large", proto: protocolV1, op: "save", step: stepReserve, status: 400, text: "is over the 10GB limit", server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"reserve": answer(400, faultTooBig)})
	}},
	{name: "v1 reserve 403 read-only", proto: protocolV1, op: "save", step: stepReserve, status: 403, text: "token has no write scope", server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"reserve": answer(403, `{"message":"token has no write scope"}`)})
	}},
	{name: "v1 reserve 409 exists", proto: protocolV1, op: "save", step: stepReserve, status: 409, is: cache.ErrExists, server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"reserve": answer(409, faultExists)})
	}},
	{name: "v1 reserve 409 bare", proto: protocolV1, op: "save", step: stepReserve, status: 409, is: cache.ErrExists, server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"reserve": answer(409, "")})
	}},
	{name: "v2 reserve 409 already_exists", proto: protocolV2, op: "save", step: stepReserve, status: 409, is: cache.ErrExists, server: func(<-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"CreateCacheEntry": answer(409, `{"code":"already_exists","msg":"cache entry already exists"}`)})
	}},
	{name: "v2 reserve refused as existing", proto: protocolV2, op: "save", step: stepReserve, is: cache.ErrExists, server: func(<-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"CreateCacheEntry": answer(200, `{"ok":false,"message":"Cache entry already exists"}`)})
	}},

	// Lookups.
	{name: "v1 lookup 429", proto: protocolV1, op: "load", step: stepLookup, status: 429, server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"lookup": answer(429, `{"message":"slow down"}`)})
	}},
	{name: "v2 lookup 429 Retry-After 0", proto: protocolV2, op: "load", step: stepLookup, status: 429, maxRequests: 5, server: func(<-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"GetCacheEntryDownloadURL": answer(429, `{"code":"resource_exhausted","msg":"rate limited"}`, "Retry-After", "0")})
	}},
	{name: "v1 lookup 500", proto: protocolV1, op: "load", step: stepLookup, status: 500, server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"lookup": answer(500, `{"message":"db down"}`)})
	}},
	{name: "v2 lookup 503", proto: protocolV2, op: "load", step: stepLookup, status: 503, server: func(<-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"GetCacheEntryDownloadURL": answer(503, `{"code":"unavailable","msg":"try later"}`)})
	}},
	{name: "v1 lookup never answers", proto: protocolV1, op: "load", step: stepLookup, text: "no answer within " + faultTimeout.String(), server: func(done <-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"lookup": hang(done)})
	}},
	{name: "v2 lookup never answers", proto: protocolV2, op: "load", step: stepLookup, text: "no answer within " + faultTimeout.String(), server: func(done <-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"GetCacheEntryDownloadURL": hang(done)})
	}},
	{name: "v1 lookup garbage", proto: protocolV1, op: "load", step: stepLookup, server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"lookup": answer(200, "<html>proxy login</html>")})
	}},
	{name: "v1 miss", proto: protocolV1, op: "load", is: cache.ErrNotFound, server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"lookup": answer(204, "")})
	}},

	// Downloads.
	{name: "v1 archive 404", proto: protocolV1, op: "load", step: stepDownload, status: 404, server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"archive": answer(404, "gone")})
	}},
	{name: "v1 archive never answers", proto: protocolV1, op: "load", step: stepDownload, server: func(done <-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"archive": hang(done)})
	}},
	{name: "v2 blob 404", proto: protocolV2, op: "load", step: stepDownload, status: 404, text: "BlobNotFound", server: func(<-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"blob": answer(404, "", "x-ms-error-code", "BlobNotFound", "x-ms-request-id", "r")})
	}},
	{name: "v2 blob 503", proto: protocolV2, op: "load", step: stepDownload, server: func(<-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"blob": answer(503, "", "x-ms-error-code", "ServerBusy", "x-ms-request-id", "r")})
	}},
	{name: "v1 archive short of Content-Length", proto: protocolV1, op: "read", step: stepDownload, text: "unexpected EOF", server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"archive": truncated(200000)})
	}},
	{name: "v1 archive chunked and cut", proto: protocolV1, op: "read", step: stepDownload, text: "unexpected EOF", server: func(<-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"archive": chunkedCut})
	}},
	{name: "v1 archive stalls", proto: protocolV1, op: "read", step: stepDownload, text: "stalled: no data for " + faultTimeout.String(), server: func(done <-chan struct{}) http.HandlerFunc {
		return v1Server(map[string]http.HandlerFunc{"archive": stalls(200000, done)})
	}},
	{name: "v2 blob short of Content-Length", proto: protocolV2, op: "read", step: stepDownload, text: "unexpected EOF", server: func(<-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"blob": truncated(200000)})
	}},
	{name: "v2 blob stalls", proto: protocolV2, op: "read", step: stepDownload, text: "stalled: no data for " + faultTimeout.String(), server: func(done <-chan struct{}) http.HandlerFunc {
		return v2Server(map[string]http.HandlerFunc{"blob": stalls(200000, done)})
	}},
}

// runFault makes the call of tt against its server and checks the error.
func runFault(t *testing.T, tt faultCase) {
	token := testToken(t)
	url := closedURL(t)
	var requests atomic.Int64
	if tt.server != nil {
		srv := newServer(t, func(done <-chan struct{}) http.Handler {
			h := tt.server(done)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				h(w, r)
			})
		})
		url = srv.URL + "/"
	}
	s := newTestStore(t, tt.proto, url, token, faultTimeout)
	ctx := context.Background()

	start := time.Now()
	var err error
	switch tt.op {
	case "save":
		err = s.Save(ctx, "k-1", newBlob(randomBytes(t, 100<<10)))
	case "load":
		var rc io.ReadCloser
		_, rc, err = s.Load(ctx, []string{"k-1", "k-"})
		if err == nil {
			rc.Close()
		}
	case "read":
		var rc io.ReadCloser
		_, rc, err = s.Load(ctx, []string{"k-1", "k-"})
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
	}
	elapsed := time.Since(start)
	t.Logf("%v after %v", err, elapsed.Round(time.Millisecond))

	if err == nil {
		t.Fatal("no error")
	}
	checkBounded(t, elapsed, faultTimeout)
	checkClean(t, err, token)
	if tt.maxRequests > 0 && requests.Load() > tt.maxRequests {
		t.Errorf("server was asked %d times, want at most %d", requests.Load(), tt.maxRequests)
	}
	checkFaultError(t, tt, err)
}

// checkFaultError checks what err says against tt: the sentinel it is (and none it
// is not), its text, its step and its status.
func checkFaultError(t *testing.T, tt faultCase, err error) {
	t.Helper()
	if tt.is != nil && !errors.Is(err, tt.is) {
		t.Errorf("got %v, want %v", err, tt.is)
	}
	if tt.is != cache.ErrExists && errors.Is(err, cache.ErrExists) {
		t.Errorf("%v counts as cache.ErrExists", err)
	}
	if tt.is != cache.ErrNotFound && errors.Is(err, cache.ErrNotFound) {
		t.Errorf("%v counts as cache.ErrNotFound", err)
	}
	if tt.text != "" && !strings.Contains(err.Error(), tt.text) {
		t.Errorf("error %q does not say %q", err, tt.text)
	}
	if tt.step == "" {
		return
	}
	e := asError(t, err)
	if e.Step != tt.step {
		t.Errorf("step %q, want %q", e.Step, tt.step)
	}
	if !strings.Contains(err.Error(), ": "+tt.step) {
		t.Errorf("error %q does not name the step %q", err, tt.step)
	}
	if tt.status != 0 {
		if e.Status != tt.status {
			t.Errorf("status %d, want %d", e.Status, tt.status)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("HTTP %d", tt.status)) {
			t.Errorf("error %q does not give the status %d", err, tt.status)
		}
	}
}

// TestLoadStreams shows that Load does not read the entry into memory: the first
// bytes reach the caller while the server still holds back the rest.
func TestLoadStreams(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{"v1", "v2"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			archive := func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("x-ms-request-id", "req-1")
				w.Header().Set("Content-Length", "8")
				io.WriteString(w, "head")
				w.(http.Flusher).Flush()
				<-release
				io.WriteString(w, "tail")
			}
			var h http.HandlerFunc
			if proto == "v1" {
				h = v1Server(map[string]http.HandlerFunc{"archive": archive})
			} else {
				h = v2Server(map[string]http.HandlerFunc{"blob": archive})
			}
			srv := newServer(t, handler(h))
			var once bool
			defer func() {
				if !once {
					close(release)
				}
			}()
			s := newTestStore(t, proto, srv.URL+"/", testToken(t), 10*time.Second)
			key, rc, err := s.Load(context.Background(), []string{"k-1"})
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if key != "k-1" {
				t.Errorf("matched %q", key)
			}
			head := make([]byte, 4)
			if _, err := io.ReadFull(rc, head); err != nil || string(head) != "head" {
				t.Fatalf("got %q, %v; want the first bytes before the server sends the rest", head, err)
			}
			close(release)
			once = true
			rest, err := io.ReadAll(rc)
			if err != nil || string(rest) != "tail" {
				t.Fatalf("got %q, %v, want the rest", rest, err)
			}
		})
	}
}

// TestCallerCancel: the caller's context ends a call at once, whatever the bound.
func TestCallerCancel(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(done <-chan struct{}) http.Handler {
		return v1Server(map[string]http.HandlerFunc{"reserve": hang(done), "lookup": hang(done)})
	})
	s := newTestStore(t, "v1", srv.URL+"/", testToken(t), time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Save(ctx, "k-1", newBlob([]byte("x")))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
	if _, _, err := s.Load(ctx, []string{"k-1"}); err == nil {
		t.Error("load with an ended context worked")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	srv := newServer(t, handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		v1Server(nil)(w, r)
	})))
	s := newTestStore(t, "v1", srv.URL+"/", testToken(t), time.Minute)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"empty content", func() error { return s.Save(ctx, "k-1", newBlob(nil)) }, "empty content"},
		{"empty key", func() error { return s.Save(ctx, "", newBlob([]byte("x"))) }, "empty key"},
		{"comma in key", func() error { return s.Save(ctx, "a,b", newBlob([]byte("x"))) }, "comma"},
		{"long key", func() error { return s.Save(ctx, strings.Repeat("k", 513), newBlob([]byte("x"))) }, "longer than 512"},
		{"no keys", func() error { _, _, err := s.Load(ctx, nil); return err }, "no keys"},
		{"comma in restore key", func() error { _, _, err := s.Load(ctx, []string{"a", "b,c"}); return err }, "comma"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("bad input reached the server %d times", n)
	}
}
