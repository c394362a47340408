package gha

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// minThrottleGap is the least time between a 429 and the next request of a call.
// go-actions-cache retries a 429 after its Retry-After, and a Retry-After of 0 (or a
// date in the past) would make that a busy loop until the time bound.
const minThrottleGap = time.Second

// tracker is the http.RoundTripper of one Load or Save. go-actions-cache does a
// whole Save (reserve, upload, commit) in one call and its errors do not say which
// step failed, so the tracker watches the requests to know the step and its last
// HTTP status.
type tracker struct {
	base http.RoundTripper

	mu        sync.Mutex
	step      string
	status    int
	throttled time.Time
}

func (t *tracker) RoundTrip(req *http.Request) (*http.Response, error) {
	step := stepOf(req)
	t.mu.Lock()
	if t.step != step {
		// Keep the status of a retried step: a retry cut short by the time bound
		// still reports the 429 or 5xx that caused it.
		t.step, t.status = step, 0
	}
	wait := time.Until(t.throttled.Add(minThrottleGap))
	t.mu.Unlock()

	if wait > 0 {
		timer := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			timer.Stop()
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, req.Context().Err()
		case <-timer.C:
		}
	}

	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.status = resp.StatusCode
	if resp.StatusCode == http.StatusTooManyRequests {
		t.throttled = time.Now()
	}
	t.mu.Unlock()

	// A v2 reservation is followed by an upload to Azure that bypasses this
	// transport, so learn from the answer whether the reserve step is over.
	if step == stepReserve && resp.StatusCode/100 == 2 && strings.Contains(req.URL.Path, "/twirp/") {
		dt, rerr := io.ReadAll(io.LimitReader(resp.Body, 64*1024))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(dt))
		var r struct {
			OK bool `json:"ok"`
		}
		if rerr == nil && json.Unmarshal(dt, &r) == nil && r.OK {
			t.mu.Lock()
			t.step, t.status = stepUpload, 0
			t.mu.Unlock()
		}
	}
	return resp, nil
}

// state is the current step and its last status.
func (t *tracker) state() (string, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.step, t.status
}

// stepOf names the step a request of go-actions-cache belongs to.
func stepOf(req *http.Request) string {
	p := req.URL.Path
	switch {
	case strings.HasSuffix(p, "/CreateCacheEntry"):
		return stepReserve
	case strings.HasSuffix(p, "/FinalizeCacheEntryUpload"):
		return stepCommit
	case strings.HasSuffix(p, "/GetCacheEntryDownloadURL"):
		return stepLookup
	case strings.HasSuffix(p, "/_apis/artifactcache/cache"):
		return stepLookup
	case strings.HasSuffix(p, "/_apis/artifactcache/caches"):
		return stepReserve
	case strings.Contains(p, "/_apis/artifactcache/caches/") && req.Method == http.MethodPatch:
		return stepUpload
	case strings.Contains(p, "/_apis/artifactcache/caches/"):
		return stepCommit
	default:
		// The archive URL a v1 lookup hands out.
		return stepDownload
	}
}
