package testenv

import (
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RuntimeArm64Image is the arm64 busybox rootfs (hack/test-images.sh busybox-arm64).
// Docker Engine 20.10 records the daemon's own architecture on an imported image,
// whatever its files are: MultiArchBase sets arm64 where it uses it.
var RuntimeArm64Image = envOr("TEST_RUNTIME_ARM64_IMAGE", "rust-s2i-test/busybox-arm64:latest")

// multiArch is the registry and the two-platform base of one test binary.
var multiArch struct {
	once    sync.Once
	host    string
	baseRef string
	err     error
}

// MultiArchRegistry is the address (127.0.0.1:PORT) of a registry that lives as long
// as the test binary: go-containerregistry's in-memory one, which the daemon reaches
// without TLS on loopback. It holds MultiArchBase's index; tests push there too.
func MultiArchRegistry(t testing.TB) string {
	t.Helper()
	setupMultiArch(t)
	return multiArch.host
}

// MultiArchBase is the tests' stand-in for alpine:3: a two-platform index in
// MultiArchRegistry holding RuntimeImage as linux/amd64 and RuntimeArm64Image as
// linux/arm64, as a Docker manifest list (the form Docker Hub serves).
func MultiArchBase(t testing.TB) string {
	t.Helper()
	setupMultiArch(t)
	return multiArch.baseRef
}

func setupMultiArch(t testing.TB) {
	t.Helper()
	multiArch.once.Do(func() {
		multiArch.host, multiArch.baseRef, multiArch.err = ServeMultiArchBase()
	})
	if multiArch.err != nil {
		t.Fatalf("the two-platform runtime base (make test-images builds %s and %s): %v",
			RuntimeImage, RuntimeArm64Image, multiArch.err)
	}
}

// ServeMultiArchBase starts the in-memory registry on loopback, which serves for
// the rest of the process, and pushes the two-platform base there: its host and
// the base's reference. The benchmarks use it outside a test.
func ServeMultiArchBase() (host, ref string, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", err
	}
	srv := httptest.NewUnstartedServer(RegistryHandler())
	srv.Listener = l
	srv.Start()
	host = l.Addr().String()
	ref = host + "/rust-s2i-test/busybox:multi"
	return host, ref, pushMultiArchBase(ref)
}

// pushMultiArchBase writes the index of the two busybox images to ref.
func pushMultiArchBase(ref string) error {
	amd64, err := savedImage(RuntimeImage)
	if err != nil {
		return err
	}
	arm64, err := savedImage(RuntimeArm64Image)
	if err != nil {
		return err
	}
	if arm64, err = withArch(arm64, "arm64"); err != nil {
		return err
	}
	idx := mutate.IndexMediaType(empty.Index, types.DockerManifestList)
	idx = mutate.AppendManifests(idx,
		mutate.IndexAddendum{Add: amd64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	r, err := name.ParseReference(ref)
	if err != nil {
		return err
	}
	return remote.WriteIndex(r, idx)
}

// savedImage is the daemon's image img, read through `docker save`: the daemon's
// API client is the moby one, which go-containerregistry's daemon package does not take.
func savedImage(img string) (v1.Image, error) {
	dir, err := os.MkdirTemp("", "rust-s2i-multiarch")
	if err != nil {
		return nil, err
	}
	// Left for the process: the image reads layers from the file lazily.
	file := filepath.Join(dir, "image.tar")
	if out, err := exec.Command("docker", "save", "-o", file, img).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("docker save %s: %v\n%s", img, err, out)
	}
	tag, err := name.NewTag(img)
	if err != nil {
		return nil, err
	}
	return tarball.ImageFromPath(file, &tag)
}

// withArch is img with its config saying linux/arch.
func withArch(img v1.Image, arch string) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	return mutate.ConfigFile(img, cf)
}
