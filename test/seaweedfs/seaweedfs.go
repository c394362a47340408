// Package seaweedfs runs SeaweedFS's `weed server` on loopback for tests: a real
// S3-compatible object store for the s3 cache backend, with one identity whose
// requests are signed, as on a real store. A test package starts one server (see
// Shared) and gives each test a bucket of its own.
package seaweedfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The identity the server knows. Requests must be signed with it; anonymous ones
// are refused, so a test that forgot credentials fails instead of passing.
const (
	AccessKey = "rust-s2i-test"
	SecretKey = "rust-s2i-test-secret"
)

// Server is a running weed server.
type Server struct {
	// Endpoint is the S3 API's URL, http://127.0.0.1:PORT.
	Endpoint string

	cmd  *exec.Cmd
	dir  string
	log  *logBuf
	done chan struct{}
}

// Binary finds weed: $WEED, which `make test` sets from hack/seaweedfs.sh, or else
// what that script builds (it reuses a built binary; a fresh machine pays about 7
// minutes). WEED set to a path that is not there is an error, so CI cannot pass
// without the store.
func Binary() (string, error) {
	if bin := os.Getenv("WEED"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("WEED=%s: %w (run bash hack/seaweedfs.sh)", bin, err)
		}
		return bin, nil
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "hack", "seaweedfs.sh")
	var stderr bytes.Buffer
	cmd := exec.Command("bash", script)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building weed with %s: %w\n%s", script, err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out)), nil
}

// Start runs weed server on free loopback ports with its data in a new temporary
// directory, and returns once its S3 API answers.
func Start(ctx context.Context, bin string) (*Server, error) {
	dir, err := os.MkdirTemp("", "rust-s2i-weed-")
	if err != nil {
		return nil, err
	}
	srv, err := start(ctx, bin, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return srv, nil
}

func start(ctx context.Context, bin, dir string) (*Server, error) {
	config := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(config, []byte(identities), 0o600); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		return nil, err
	}
	// Every port weed would otherwise take by default, gRPC ones included, is a
	// free one: two test packages run their servers at the same time.
	ports, err := freePorts(8)
	if err != nil {
		return nil, err
	}
	p := func(i int) string { return strconv.Itoa(ports[i]) }
	args := []string{"server",
		"-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir=" + data,
		"-master.port=" + p(0), "-master.port.grpc=" + p(1),
		"-volume.port=" + p(2), "-volume.port.grpc=" + p(3),
		"-filer.port=" + p(4), "-filer.port.grpc=" + p(5),
		"-s3", "-s3.port=" + p(6), "-s3.port.grpc=" + p(7),
		"-s3.config=" + config,
		// Off: the Iceberg and Lance catalogs (fixed default ports), and the
		// telemetry that would leave loopback.
		"-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
		// Its sockets in its own directory, not /tmp.
		"-s3.localSocket=" + filepath.Join(dir, "s3.sock"), "-filer.localSocket=" + filepath.Join(dir, "filer.sock"),
		// Small volumes, as many as the disk holds: each bucket is a collection
		// with volumes of its own, and the tests make many buckets of megabytes.
		"-master.volumeSizeLimitMB=256", "-volume.max=0",
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	log := &logBuf{}
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so that Stop ends whatever weed starts.
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	s := &Server{Endpoint: "http://127.0.0.1:" + p(6), cmd: cmd, dir: dir, log: log, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	if err := s.wait(ctx, time.Minute); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// identities is the server's S3 configuration: one identity allowed everything.
const identities = `{"identities": [{"name": "test",
  "credentials": [{"accessKey": "` + AccessKey + `", "secretKey": "` + SecretKey + `"}],
  "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}`

// wait polls the S3 API until it answers a ListBuckets (403 without credentials
// counts: it is the S3 gateway answering, with the filer behind it).
func (s *Server) wait(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusForbidden {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("weed exited before its S3 API answered:\n%s", s.Log())
		case <-ctx.Done():
			return fmt.Errorf("weed's S3 API did not answer within %v:\n%s", limit, s.Log())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Log is what weed printed so far, for a failing test to show.
func (s *Server) Log() string { return s.log.String() }

// Stop kills the server and removes its data.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		killGroup(s.cmd.Process.Pid)
		<-s.done
	}
	os.RemoveAll(s.dir)
}

// Shared is one server for a whole test package, started by the first test that
// asks for it and stopped by TestMain after the tests. A test in -short mode is
// skipped instead; anywhere else a server that cannot start fails the test.
type Shared struct {
	once sync.Once
	srv  *Server
	err  error
	n    atomic.Int64
}

// Get returns the shared server, starting it on first use.
func (sh *Shared) Get(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("needs SeaweedFS (weed); skipped in -short mode")
	}
	sh.once.Do(func() {
		bin, err := Binary()
		if err != nil {
			sh.err = err
			return
		}
		sh.srv, sh.err = Start(context.Background(), bin)
	})
	if sh.err != nil {
		t.Fatal(sh.err)
	}
	return sh.srv
}

// Bucket names a bucket no other test of the package uses: b-N-NAME, lowercased
// and cut to S3's 63 characters. The caller creates it.
func (sh *Shared) Bucket(t testing.TB) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	name := fmt.Sprintf("b-%d-%s", sh.n.Add(1), strings.Trim(b.String(), "-"))
	if len(name) > 63 {
		name = name[:63]
	}
	return strings.TrimRight(name, "-")
}

// Stop stops the server if one was started.
func (sh *Shared) Stop() {
	if sh.srv != nil {
		sh.srv.Stop()
	}
}

// freePorts returns n distinct free loopback ports. They are free when asked; weed
// takes them a moment later, which is the usual small race of this idiom.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	if len(ports) != n {
		return nil, errors.New("not enough free ports")
	}
	return ports, nil
}
