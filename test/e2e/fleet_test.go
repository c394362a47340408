package e2e

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/rust-s2i/rust-s2i-musl/test/seaweedfs"
)

// weed is the package's SeaweedFS server, for the s3 cache; started by the first
// test that needs it, stopped by TestMain.
var weed seaweedfs.Shared

// A fleet of CI agents sharing one bucket: two agents build the same commit at
// the same time, each with its own -tmp image and RUNNER_TEMP and nothing else in
// common but the bucket (SeaweedFS on loopback, with signed requests). Both
// succeed, and each entry is written once: one agent saves it, the other finds it
// taken. A third agent on a fresh machine (no -tmp image) then restores the state
// from the bucket and compiles no dependency.
func TestFleetSharesS3Cache(t *testing.T) {
	needDocker(t)
	t.Parallel()
	srv := weed.Get(t)
	bucket := weed.Bucket(t)
	store := s3Admin(t, srv.Endpoint)
	ctx := context.Background()
	if err := store.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	src := withGitDep(t)
	final, tmp := names(t)
	// Credentials come the way a CI agent passes them: AWS variables.
	env := []string{"AWS_ACCESS_KEY_ID=" + seaweedfs.AccessKey, "AWS_SECRET_ACCESS_KEY=" + seaweedfs.SecretKey}
	agent := func(n int) result {
		agentFinal, agentTmp := fmt.Sprintf("%s-%d", final, n), fmt.Sprintf("%s-%d", tmp, n)
		t.Cleanup(func() { command("docker", "rmi", "-f", agentFinal, agentTmp) })
		args := buildArgs(src, "gitdep", agentFinal, agentTmp,
			"--cache", "s3", "--cache-bucket", bucket, "--cache-endpoint", srv.Endpoint, "--cache-path-style")
		return runCmd(t, append([]string{"RUNNER_TEMP=" + t.TempDir()}, env...), args...)
	}

	var wg sync.WaitGroup
	results := make([]result, 2)
	start := time.Now()
	for i := range results {
		wg.Go(func() { results[i] = agent(i + 1) })
	}
	wg.Wait()
	t.Logf("two agents at once took %s", time.Since(start).Round(10*time.Millisecond))
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("agent %d failed:\n%s", i+1, r)
		}
		t.Logf("agent %d:\n%s", i+1, cacheLines(r.stderr))
		if strings.Contains(r.stderr, "warning:") {
			t.Errorf("agent %d warned:\n%s", i+1, r.stderr)
		}
	}

	// Exactly one object per entry, each saved by one agent.
	var keys []string
	for o := range store.Client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	if len(keys) != 2 {
		t.Fatalf("the bucket holds %q, want one registry and one target entry", keys)
	}
	both := results[0].stderr + results[1].stderr
	for _, name := range keys {
		key, ok := strings.CutPrefix(name, "rust-s2i-musl/")
		if !ok || !regexp.MustCompile(`^[0-9a-f]{12}\.[a-z0-9]+-rust-s2i-musl-(registry|target)-gitdep-`).MatchString(key) {
			t.Errorf("object %q is not an entry under rust-s2i-musl/", name)
			continue
		}
		if n := strings.Count(both, "cache: saved "+key+" "); n != 1 {
			t.Errorf("%s was saved %d times by the two agents, want once:\n%s", key, n, both)
		}
	}

	// A fresh machine: no -tmp image of its own, only the bucket.
	r := agent(3)
	if r.code != 0 {
		t.Fatalf("agent 3 failed:\n%s", r)
	}
	if strings.Contains(r.stderr, "Compiling greet") {
		t.Errorf("agent 3 compiled the dependency again: the state was not restored\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "Compiling gitdep") || !strings.Contains(r.stdout, "cache-hit=true") {
		t.Errorf("agent 3 should restore an exact hit and compile only the workspace crate:\n%s", r)
	}
	if got := runImage(t, final+"-3"); !strings.Contains(got, "greetings, gitdep") {
		t.Errorf("agent 3's image printed %q", got)
	}
}

// cacheLines are the lines of a build's log that say what its cache did.
func cacheLines(log string) string {
	var b strings.Builder
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "cache: ") {
			b.WriteString("  " + l + "\n")
		}
	}
	return b.String()
}

// s3Admin is a client of the test store, to look at a bucket from outside.
func s3Admin(t *testing.T, endpoint string) *minio.Core {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.NewCore(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(seaweedfs.AccessKey, seaweedfs.SecretKey, ""),
		Region: "us-east-1", BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
