package remote

// Two engines, one digest (issue 22): the same commit, the same builder and the
// same settings give the same pushed image and the same index (image plus SBOM
// and provenance attestations) on two Docker Engines, and SOURCE_DATE_EPOCH alone
// changes them.
//
// The two engines are the local daemon and the second dockerd of this package
// (startTLSDaemon: a data root of its own, in a network namespace with only lo).
// Both push to ONE registry, the in-memory one of go-containerregistry served by
// this test process, so that both pushes are read back and compared in the same
// place, byte for byte. The test serves it on 127.0.0.1:PORT on the host and on a
// unix socket; inside the namespace, where the host's loopback is out of reach,
// this test binary, started again there through nsenter (forwardEnv), listens on
// the same 127.0.0.1:PORT and passes each connection on to that socket, which the
// namespace sees because it shares the file system. So one reference names the
// registry on both sides: the local daemon pushes 127.0.0.1:PORT/…:main, the
// second daemon (and the command's own read-back and index push, which run in the
// namespace too) 127.0.0.1:PORT/…:tls. The two tags share one repository: the
// SBOM names the repository, not the tag.
//
// Comparing the digest outputs alone would take the command's word for what it
// pushed; reading the registry checks that word too (the digest output is the
// index the tag names) and gives the image manifest's own digest, which the
// single-platform metadata output does not hold (its containerimage.digest is
// the index's, containerimage.config.digest the daemon's image ID, and an image
// ID is not comparable across engines whose image stores differ: with the
// containerd store it is the manifest's digest).

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/attest"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// forwardEnv, set to LISTEN=SOCKET (127.0.0.1:PORT=/path/registry.sock), makes this
// test binary a port forwarder instead of a test run (see run): it listens on
// LISTEN, passes every connection on to the unix socket SOCKET, prints "ready"
// once it listens, and exits when its stdin closes (the test ended, or died).
const forwardEnv = "RS2I_TEST_FORWARD"

// forward is the forwarder's main.
func forward(spec string) int {
	addr, sock, ok := strings.Cut(spec, "=")
	if !ok {
		fmt.Fprintf(os.Stderr, "%s=%q: want LISTEN=SOCKET\n", forwardEnv, spec)
		return 2
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		go func() {
			defer c.Close()
			u, err := net.Dial("unix", sock)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return
			}
			defer u.Close()
			done := make(chan struct{})
			go func() {
				_, _ = io.Copy(u, c)
				_ = u.(*net.UnixConn).CloseWrite()
				close(done)
			}()
			_, _ = io.Copy(c, u)
			_ = c.(*net.TCPConn).CloseWrite()
			<-done
		}()
	}
}

// sharedRegistry is the one registry both engines push to.
type sharedRegistry struct {
	host string // 127.0.0.1:PORT, on the host and (through the forwarder) in the namespace
	sock string // the same registry on a unix socket
}

// startSharedRegistry serves an in-memory registry on a free loopback port and on
// a unix socket, until the test ends.
func startSharedRegistry(t *testing.T) *sharedRegistry {
	t.Helper()
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "registry.sock")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		tl.Close()
		t.Fatal(err)
	}
	srv := &http.Server{Handler: testenv.RegistryHandler()}
	go func() { _ = srv.Serve(tl) }()
	go func() { _ = srv.Serve(ul) }()
	t.Cleanup(func() { srv.Close() })
	return &sharedRegistry{host: tl.Addr().String(), sock: sock}
}

// forwardRegistry makes reg reachable at reg.host inside the daemon's namespace:
// this test binary, run there as root through nsenter, forwards that address to
// reg.sock. It stops when the test ends.
func (d *tlsDaemon) forwardRegistry(t *testing.T, reg *sharedRegistry) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "forward.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := rootCmd(context.Background(), "nsenter", "--net=/run/netns/"+d.netns,
		"env", forwardEnv+"="+reg.host+"="+reg.sock, exe)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	// If this test process dies, so does the forwarder (sudo passes the signal on);
	// its stdin closing stops it too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the registry forwarder in %s: %v", d.netns, err)
	}
	ready := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		ready <- line
		_, _ = io.Copy(io.Discard, br)
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-drained:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-drained:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-drained
			}
		}
		_ = cmd.Wait()
	})
	select {
	case line := <-ready:
		if line == "ready\n" {
			return
		}
	case <-time.After(30 * time.Second):
	}
	logText, _ := os.ReadFile(logPath)
	t.Fatalf("the registry forwarder in %s did not start; its log:\n%s", d.netns, logText)
}

// committedExample is a copy of examples/hello, in a directory of its own, made a
// git repository with everything committed by testenv.Git (fixed identity and
// dates) and an origin remote, as a CI checks a repository out: every call gives
// the same commit, with the same time, at another path. The origin makes the
// provenance's source the repository rather than the directory, as on a runner.
func committedExample(t *testing.T) (src, commit string, at time.Time) {
	t.Helper()
	src = exampleCopy(t)
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"-c", "commit.gpgsign=false", "commit", "-q", "-m", "hello"},
		{"remote", "add", "origin", "https://example.com/rust-s2i/hello.git"},
	} {
		if _, err := testenv.Git(src, args...); err != nil {
			t.Fatal(err)
		}
	}
	out, err := testenv.Git(src, "log", "-1", "--format=%H %ct")
	if err != nil {
		t.Fatal(err)
	}
	commit, ts, _ := strings.Cut(out, " ")
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatalf("git log: %q: %v", out, err)
	}
	return src, commit, time.Unix(n, 0).UTC()
}

// hostEnv is the environment of a build on the local daemon: what reaches the
// daemon (DOCKER_*), PATH, HOME and TMPDIR, and nothing else, as the build in the
// namespace gets exactly its env: no CI variable (GITHUB_SHA, …) of the machine
// running the tests may enter one build's provenance and not the other's, and no
// SOURCE_DATE_EPOCH but the test's own.
func hostEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PATH" || k == "HOME" || k == "TMPDIR" || strings.HasPrefix(k, "DOCKER_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// localBuild runs the command on the local daemon.
func localBuild(t *testing.T, ctx context.Context, env []string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = env
	return runCmd(t, cmd)
}

// outputOf is the value of one KEY=VALUE output line of r.
func outputOf(r result, key string) string {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `=(.*)$`).FindStringSubmatch(r.stdout)
	if m == nil {
		return ""
	}
	return m[1]
}

// pushed is what a tag names in the registry: the index of the image and its
// attestations.
type pushed struct {
	index, image, config v1.Hash
	created              time.Time // the image config's
	attestations         int       // attestation manifests in the index
	// parts are the raw bytes of everything but the image's layers (which the
	// manifest names by digest), by name, for saying where two pushes differ.
	parts map[string][]byte
}

// readPushed reads what ref names: an index of one image and its attestation
// manifests, as a single-platform push with the SBOM and provenance on makes.
func readPushed(t *testing.T, ref string) pushed {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(r)
	if err != nil {
		t.Fatalf("reading %s from the registry: %v", ref, err)
	}
	if !desc.MediaType.IsIndex() {
		t.Fatalf("%s is a %s, not the index of an image and its attestations", ref, desc.MediaType)
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	p := pushed{index: desc.Digest, parts: map[string][]byte{"index": desc.Manifest}}
	images := 0
	for _, m := range im.Manifests {
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatalf("%s@%s: %v", ref, m.Digest, err)
		}
		raw, err := img.RawManifest()
		if err != nil {
			t.Fatal(err)
		}
		if m.Annotations[attest.RefTypeAnnotation] == attest.AttestationManifestType {
			p.attestations++
			key := fmt.Sprintf("attestation manifest %d", p.attestations)
			p.parts[key] = raw
			layers, err := img.Layers()
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range layers {
				rc, err := l.Compressed()
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
				p.parts[fmt.Sprintf("%s, statement %d", key, i+1)] = b
			}
			continue
		}
		images++
		p.image = m.Digest
		p.parts["image manifest"] = raw
		if p.parts["image config"], err = img.RawConfigFile(); err != nil {
			t.Fatal(err)
		}
		if p.config, err = img.ConfigName(); err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		p.created = cf.Created.UTC()
	}
	if images != 1 {
		t.Fatalf("%s holds %d images, want 1 (and its attestations)", ref, images)
	}
	return p
}

// explainDiff logs each part that differs between a and b, both in full (up to a
// few KB): the manifests name the layers by digest, the config their diff IDs,
// the statements are JSON.
func explainDiff(t *testing.T, aName string, a pushed, bName string, b pushed) {
	t.Helper()
	var keys []string
	for k := range a.parts {
		keys = append(keys, k)
	}
	for k := range b.parts {
		if _, ok := a.parts[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	clip := func(b []byte) []byte {
		if len(b) > 6000 {
			return append(b[:6000:6000], " …"...)
		}
		return b
	}
	for _, k := range keys {
		if !bytes.Equal(a.parts[k], b.parts[k]) {
			t.Logf("%s differs:\n--- %s\n%s\n--- %s\n%s", k, aName, clip(a.parts[k]), bName, clip(b.parts[k]))
		}
	}
}

// removeLocal removes the local daemon's images (names or IDs; "" is skipped)
// now and when the test ends.
func removeLocal(t *testing.T, names ...string) {
	t.Helper()
	remove := func() {
		for _, n := range names {
			if n == "" {
				continue
			}
			_, _ = local.ImageRemove(context.Background(), n, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		}
	}
	remove()
	t.Cleanup(remove)
}

// twoEnginesRepo is the repository the final images are pushed to, in the
// registry of the run (127.0.0.1:PORT/twoEnginesRepo:TAG).
const twoEnginesRepo = "rust-s2i-remote/twoengines"

// sweepTwoEngines removes the final images that a killed run left in a daemon:
// their names hold that run's registry port, so no later run's removal finds them.
func sweepTwoEngines(t *testing.T, api *client.Client) {
	t.Helper()
	ctx := context.Background()
	list, err := api.ImageList(ctx, client.ImageListOptions{})
	if err != nil {
		t.Fatalf("listing images: %v", err)
	}
	for _, img := range list.Items {
		for _, tag := range img.RepoTags {
			// HOST:PORT/REPO:TAG: the last colon starts the tag.
			if i := strings.LastIndex(tag, ":"); i > 0 && strings.HasSuffix(tag[:i], "/"+twoEnginesRepo) {
				_, _ = api.ImageRemove(ctx, tag, client.ImageRemoveOptions{Force: true, PruneChildren: true})
				t.Logf("removed %s, left by a run that was killed", tag)
			}
		}
	}
}

// Two engines, one digest: examples/hello at one commit, built on the local
// daemon and on the second dockerd, from two checkouts at different paths, each
// pushed with its SBOM and provenance (on by default for a push) to the same
// registry under its own tag of one repository. The two pushes are the same
// index, holding the same image (manifest and config). Then one more build on the
// local daemon with nothing changed but SOURCE_DATE_EPOCH pushes another image
// and another index.
//
// The builder is the same image on both engines, not one built on each from the
// same base: startTLSDaemon's loadTestImages copies the local daemon's builder
// (and runtime) image into the second daemon with docker save/load, so it has the
// same image ID there. Building it there instead is not possible offline: the
// s2i Dockerfile's RUN step calls apt-get update and install (musl-tools, mold),
// which needs a Debian mirror, and the second daemon's namespace has no network
// but lo (--bridge=none); nor is the toolchain image (testenv.RustImage) loaded
// there. What the two engines do themselves (S2I's containers, the commit of the
// final image, the push's layer compression, the command's read-back and index)
// is what this compares.
//
// Not parallel: the second daemon serves one test at a time (lockDataRoot, which
// waits at most 15 minutes). A sequential test runs to its end before the
// parallel ones (TestTLSDaemon) start, so neither waits for the other.
func TestTwoEnginesOneDigest(t *testing.T) {
	needPeers(t)
	d := startTLSDaemon(t)
	reg := startSharedRegistry(t)
	d.forwardRegistry(t, reg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	repo := reg.host + "/" + twoEnginesRepo
	mainRef, tlsRef := repo+":main", repo+":tls"
	// One -tmp name on both daemons, removed first: a leftover would make a build
	// incremental, or up to date. The lock on the second daemon's data root makes
	// runs of this test take turns, so the fixed name is theirs alone.
	const tmp = "rust-s2i-remote/twoengines-tmp:latest"
	sweepTwoEngines(t, local)
	sweepTwoEngines(t, d.api)
	removeLocal(t, mainRef, tmp)
	d.removeImages(t, tlsRef, tmp)

	srcMain, commit, commitTime := committedExample(t)
	srcTLS, commitTLS, _ := committedExample(t)
	if commitTLS != commit {
		t.Fatalf("the two checkouts are at %s and %s: the same tree and dates should give one commit", commit, commitTLS)
	}
	args := func(src, ref string) []string { return append(buildArgs(src, ref, tmp), "--push") }

	rMain := localBuild(t, ctx, hostEnv(), args(srcMain, mainRef)...)
	if rMain.code != 0 {
		t.Fatalf("build and push on the local daemon:\n%s", rMain)
	}
	removeLocal(t, outputOf(rMain, "image-id")) // untagged by the SOURCE_DATE_EPOCH build below
	tlsEnv := []string{"HOME=" + t.TempDir(), "DOCKER_HOST=" + tlsAddr, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + d.certs}
	rTLS := runCmd(t, d.command(ctx, tlsEnv, args(srcTLS, tlsRef)...))
	if rTLS.code != 0 {
		t.Fatalf("build and push on the second daemon:\n%s", rTLS)
	}
	if id := outputOf(rTLS, "image-id"); id != "" {
		d.removeImages(t, id) // the data root is kept between runs
	}
	for _, r := range []result{rMain, rTLS} {
		if !strings.Contains(r.stderr, "Compiling hello") {
			t.Errorf("cargo did not compile the crate (a leftover made the build incremental or up to date?):\n%s", r)
		}
	}

	pMain, pTLS := readPushed(t, mainRef), readPushed(t, tlsRef)
	for _, c := range []struct {
		engine string
		r      result
		p      pushed
	}{{"local", rMain, pMain}, {"second", rTLS, pTLS}} {
		if got := outputOf(c.r, "digest"); got != c.p.index.String() {
			t.Errorf("the %s daemon's build says digest=%s, the registry's index is %s", c.engine, got, c.p.index)
		}
		if c.p.attestations == 0 {
			t.Errorf("the %s daemon's push has no attestation manifest: the index digest covers no SBOM or provenance", c.engine)
		}
		if !c.p.created.Equal(commitTime) {
			t.Errorf("the %s daemon's image was created at %s, want the commit's time %s", c.engine, c.p.created, commitTime)
		}
	}
	t.Logf("commit %s (%s)", commit, commitTime.Format(time.RFC3339))
	t.Logf("local daemon:  index %s, image %s, config %s", pMain.index, pMain.image, pMain.config)
	t.Logf("second daemon: index %s, image %s, config %s", pTLS.index, pTLS.image, pTLS.config)
	if pMain.image != pTLS.image {
		t.Errorf("the two engines pushed different images: %s and %s", pMain.image, pTLS.image)
	}
	if pMain.index != pTLS.index {
		t.Errorf("the two engines pushed different indexes: %s and %s", pMain.index, pTLS.index)
	}
	if pMain.index != pTLS.index || pMain.image != pTLS.image {
		explainDiff(t, "local daemon", pMain, "second daemon", pTLS)
	}

	// Nothing but SOURCE_DATE_EPOCH, a day after the commit: the same checkout, tag
	// and -tmp image. The time is one of the inputs the up-to-date check hashes,
	// so this is a build, incremental from the -tmp image.
	epoch := commitTime.Add(24 * time.Hour)
	rEpoch := localBuild(t, ctx, hostEnv("SOURCE_DATE_EPOCH="+strconv.FormatInt(epoch.Unix(), 10)), args(srcMain, mainRef)...)
	if rEpoch.code != 0 {
		t.Fatalf("build and push with SOURCE_DATE_EPOCH on the local daemon:\n%s", rEpoch)
	}
	removeLocal(t, outputOf(rEpoch, "image-id"))
	if strings.Contains(rEpoch.stderr, "is up to date") {
		t.Errorf("with another SOURCE_DATE_EPOCH the image counts as up to date:\n%s", rEpoch)
	}
	pEpoch := readPushed(t, mainRef)
	t.Logf("SOURCE_DATE_EPOCH=%d: index %s, image %s, config %s", epoch.Unix(), pEpoch.index, pEpoch.image, pEpoch.config)
	if got := outputOf(rEpoch, "digest"); got != pEpoch.index.String() {
		t.Errorf("the build says digest=%s, the registry's index is %s", got, pEpoch.index)
	}
	if !pEpoch.created.Equal(epoch) {
		t.Errorf("with SOURCE_DATE_EPOCH=%d the image was created at %s, want %s", epoch.Unix(), pEpoch.created, epoch)
	}
	if pEpoch.image == pMain.image {
		t.Errorf("another SOURCE_DATE_EPOCH gave the same image %s", pEpoch.image)
	}
	if pEpoch.index == pMain.index {
		t.Errorf("another SOURCE_DATE_EPOCH gave the same index %s", pEpoch.index)
	}
}
