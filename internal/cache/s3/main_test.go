package s3

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
	"github.com/rust-s2i/rust-s2i-musl/test/seaweedfs"
)

// weed is the package's one SeaweedFS server, started by the first test that needs
// it; each test has a bucket of its own in it.
var weed seaweedfs.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	weed.Stop()
	os.Exit(code)
}

// newStore makes a bucket of the test's own on the shared server and a Store over
// it, with cfg's changes; it returns the store and an admin client of the bucket.
func newStore(t *testing.T, change func(*Config)) (*Store, *minio.Core, Config) {
	t.Helper()
	srv := weed.Get(t)
	cfg := Config{
		Bucket: weed.Bucket(t), Endpoint: srv.Endpoint,
		AccessKey: seaweedfs.AccessKey, SecretKey: seaweedfs.SecretKey,
	}
	admin := adminClient(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := admin.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("making bucket %s: %v", cfg.Bucket, err)
	}
	if change != nil {
		change(&cfg)
	}
	s, err := New(cfg, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	return s, admin, cfg
}

// adminClient is a plain client of the test server, to look at a bucket from the
// outside.
func adminClient(t *testing.T, cfg Config) *minio.Core {
	t.Helper()
	ep, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.NewCore(ep.host, &minio.Options{
		Creds:  credentials.NewStaticV4(seaweedfs.AccessKey, seaweedfs.SecretKey, ""),
		Secure: ep.secure, Region: defaultRegion, BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// objects lists every object name in the bucket.
func objects(t *testing.T, admin *minio.Core, bucket string) []string {
	t.Helper()
	var names []string
	for o := range admin.Client.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		names = append(names, o.Key)
	}
	return names
}

func noEnv(string) string { return "" }

// memBlob is a cache.Blob in memory.
type memBlob struct{ *bytes.Reader }

func blobOf(b []byte) cache.Blob { return memBlob{bytes.NewReader(b)} }

// pattern is n bytes that differ from one seed to the next.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
