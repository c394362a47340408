package gha

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
)

// controlPlane is the Twirp JSON half of cache protocol v2 that github.com serves
// (no importable server exists), in front of a real blob store: it keeps the key
// index and hands out SAS URLs to Azurite, signed with the development account's
// key, as GitHub hands out SAS URLs to Azure.
type controlPlane struct {
	t         *testing.T
	token     string
	container string // http://127.0.0.1:PORT/devstoreaccount1/NAME
	name      string
	cred      *sas.SharedKeyCredential

	mu      sync.Mutex
	seq     int
	entries map[string]*cpEntry
}

type cpEntry struct {
	key, version, blob string
	seq                int
	done               bool
}

func newControlPlane(t *testing.T, azurite, token string) *controlPlane {
	t.Helper()
	cred, err := container.NewSharedKeyCredential(devAccount, devKey)
	if err != nil {
		t.Fatal(err)
	}
	cp := &controlPlane{
		t:         t,
		token:     token,
		name:      "actions-cache",
		container: azurite + "/" + devAccount + "/actions-cache",
		cred:      cred,
		entries:   map[string]*cpEntry{},
	}
	cc, err := container.NewClientWithSharedKeyCredential(cp.container, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Private container: the cache's data is reachable only through signed URLs.
	if _, err := cc.Create(context.Background(), nil); err != nil {
		t.Fatalf("creating the container in Azurite: %v", err)
	}
	return cp
}

// sign is a service SAS URL for one blob, as GitHub hands them out.
func (cp *controlPlane) sign(name string, perm sas.BlobPermissions) string {
	qp, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		ExpiryTime:    time.Now().Add(10 * time.Minute).UTC(),
		Permissions:   perm.String(),
		ContainerName: cp.name,
		BlobName:      name,
	}.SignWithSharedKey(cp.cred)
	if err != nil {
		cp.t.Error(err)
	}
	return cp.container + "/" + name + "?" + qp.Encode()
}

func (cp *controlPlane) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+cp.token {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "unauthenticated", "msg": "bad token"})
		return
	}
	var req struct {
		Key         string   `json:"key"`
		Version     string   `json:"version"`
		RestoreKeys []string `json:"restore_keys"`
		SizeBytes   int64    `json:"size_bytes"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "malformed", "msg": err.Error()})
		return
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	switch twirpMethod(r) {
	case "CreateCacheEntry":
		if _, ok := cp.entries[req.Key]; ok {
			writeJSON(w, http.StatusConflict, map[string]string{"code": "already_exists", "msg": "cache entry with the same key, version, and scope already exists"})
			return
		}
		cp.seq++
		e := &cpEntry{key: req.Key, version: req.Version, blob: fmt.Sprintf("entry-%d", cp.seq), seq: cp.seq}
		cp.entries[req.Key] = e
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "signed_upload_url": cp.sign(e.blob, sas.BlobPermissions{Create: true, Write: true})})
	case "FinalizeCacheEntryUpload":
		e, ok := cp.entries[req.Key]
		if !ok || e.done {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "message": "no reservation"})
			return
		}
		// Like the service, check that the upload is there and whole.
		bc, err := blob.NewClientWithSharedKeyCredential(cp.container+"/"+e.blob, cp.cred, nil)
		if err != nil {
			cp.t.Error(err)
			return
		}
		props, err := bc.GetProperties(r.Context(), nil)
		if err != nil || props.ContentLength == nil || *props.ContentLength != req.SizeBytes {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "message": fmt.Sprintf("uploaded blob does not match size %d: %v", req.SizeBytes, err)})
			return
		}
		e.done = true
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "entry_id": fmt.Sprint(e.seq)})
	case "GetCacheEntryDownloadURL":
		e := cp.find(req.Key, req.Version, req.RestoreKeys)
		if e == nil {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "matched_key": e.key, "signed_download_url": cp.sign(e.blob, sas.BlobPermissions{Read: true})})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "bad_route", "msg": r.URL.Path})
	}
}

// find is GitHub's restore rule: the exact key, else per restore key the newest
// entry whose key starts with it.
func (cp *controlPlane) find(key, version string, restore []string) *cpEntry {
	if e, ok := cp.entries[key]; ok && e.done && e.version == version {
		return e
	}
	for _, prefix := range restore {
		var best *cpEntry
		for _, e := range cp.entries {
			if e.done && e.version == version && strings.HasPrefix(e.key, prefix) && (best == nil || e.seq > best.seq) {
				best = e
			}
		}
		if best != nil {
			return best
		}
	}
	return nil
}

// TestV2AgainstAzurite saves and restores through go-actions-cache in v2 mode: the
// control plane above, and Azurite as the blob store the data really goes through.
func TestV2AgainstAzurite(t *testing.T) {
	t.Parallel()
	azurite := startAzurite(t)
	token := testToken(t)
	cp := newControlPlane(t, azurite, token)
	srv := newServer(t, handler(cp))

	// The environment of a container action on github.com: no ACTIONS_CACHE_SERVICE_V2.
	s, err := New(Config{Timeout: 30 * time.Second}, env(map[string]string{
		"GITHUB_SERVER_URL":     "https://github.com",
		"ACTIONS_RUNTIME_TOKEN": token,
		"ACTIONS_RESULTS_URL":   srv.URL + "/",
		"ACTIONS_CACHE_URL":     closedURL(t),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.ep.protocol != "v2" {
		t.Fatalf("protocol %s, want v2", s.ep.protocol)
	}
	ctx := context.Background()

	older := randomBytes(t, 3<<20+5) // several Azure blocks
	newer := randomBytes(t, 70<<10)
	if err := s.Save(ctx, "Build-linux-abc", newBlob(older)); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "Build-linux-def", newBlob(newer)); err != nil {
		t.Fatal(err)
	}

	tests := []loadCase{
		{name: "exact", keys: []string{"Build-linux-abc", "Build-linux-"}, key: "Build-linux-abc", want: older},
		{name: "restore prefix takes the newest", keys: []string{"Build-linux-xyz", "Build-linux-"}, key: "Build-linux-def", want: newer},
		{name: "second restore prefix", keys: []string{"Other-1", "Other-", "Build-"}, key: "Build-linux-def", want: newer},
	}
	checkLoads(t, s, tests)

	t.Run("miss", func(t *testing.T) {
		t.Parallel()
		if _, _, err := s.Load(ctx, []string{"Nothing-1", "Nothing-"}); !errors.Is(err, cache.ErrNotFound) {
			t.Fatalf("got %v, want cache.ErrNotFound", err)
		}
	})

	t.Run("key taken", func(t *testing.T) {
		t.Parallel()
		err := s.Save(ctx, "Build-linux-abc", newBlob([]byte("again")))
		if !errors.Is(err, cache.ErrExists) {
			t.Fatalf("got %v, want cache.ErrExists", err)
		}
		checkClean(t, err, token)
	})
}
