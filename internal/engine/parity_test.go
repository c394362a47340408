package engine

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/test/testpki"
)

// The docker CLI is the reference: for each environment, `docker context inspect`
// (the current context, as the CLI resolves it) and Resolve pick the same context,
// host, TLS verification and TLS material, or both refuse. The contexts are made by
// the docker CLI itself (`docker context create`, `docker context use`).
func TestResolveAsTheDockerCLI(t *testing.T) {
	t.Parallel()
	dockerBin, err := exec.LookPath("docker")
	if err != nil {
		if testing.Short() {
			t.Skip("needs the docker CLI; runs without -short")
		}
		t.Fatalf("the docker CLI is the reference for this test (apt-get install docker.io): %v", err)
	}
	root := t.TempDir()
	certs := filepath.Join(root, "certs")
	ca, err := testpki.NewCA("ca")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := ca.Client()
	if err != nil {
		t.Fatal(err)
	}
	if err := testpki.WriteCertPath(certs, ca.PEM, cl); err != nil {
		t.Fatal(err)
	}
	caOnly := filepath.Join(root, "ca-only")
	if err := testpki.WriteCertPath(caOnly, ca.PEM, testpki.Pair{}); err != nil {
		t.Fatal(err)
	}
	// "plain" has no current context; "current" has sshctx as its current context.
	dockerCLI := func(env map[string]string, args ...string) ([]byte, error) {
		cmd := exec.Command(dockerBin, args...)
		cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		return cmd.Output()
	}
	for _, cfg := range []string{"plain", "current"} {
		env := map[string]string{"DOCKER_CONFIG": filepath.Join(root, cfg)}
		for _, c := range [][]string{
			{"plain", "host=tcp://10.9.9.9:2375"},
			{"tlsctx", "host=tcp://10.9.9.9:2376,ca=" + certs + "/ca.pem,cert=" + certs + "/cert.pem,key=" + certs + "/key.pem"},
			{"insecure", "host=tcp://10.9.9.9:2376,skip-tls-verify=true"},
			{"sshctx", "host=ssh://me@example.test:2222"},
		} {
			if out, err := dockerCLI(env, "context", "create", c[0], "--docker", c[1]); err != nil {
				t.Fatalf("docker context create %s: %v\n%s", c[0], err, out)
			}
		}
	}
	if out, err := dockerCLI(map[string]string{"DOCKER_CONFIG": filepath.Join(root, "current")}, "context", "use", "sshctx"); err != nil {
		t.Fatalf("docker context use: %v\n%s", err, out)
	}

	cases := []map[string]string{
		{},
		{"DOCKER_HOST": "tcp://docker"},
		{"DOCKER_HOST": "docker:2376"},
		{"DOCKER_HOST": "unix:///run/other.sock"},
		{"DOCKER_HOST": "ssh://me@build-host"},
		{"DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": certs},
		{"DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": caOnly},
		{"DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS": "1", "DOCKER_CERT_PATH": certs},
		{"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": certs},
		{"DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": filepath.Join(root, "nothing")},
		{"DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS_VERIFY": "1"},
		{"DOCKER_CONTEXT": "tlsctx"},
		{"DOCKER_CONTEXT": "insecure"},
		{"DOCKER_CONTEXT": "sshctx"},
		{"DOCKER_CONTEXT": "plain", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": certs},
		{"DOCKER_CONTEXT": "tlsctx", "DOCKER_HOST": "tcp://docker"},
		{"DOCKER_CONTEXT": "default"},
		{"DOCKER_CONTEXT": "nope"},
		{"DOCKER_HOST": "http://docker"},
	}
	for _, cfg := range []string{"plain", "current"} {
		for _, c := range cases {
			env := map[string]string{"DOCKER_CONFIG": filepath.Join(root, cfg)}
			var desc []string
			for k, v := range c {
				env[k] = v
				desc = append(desc, k+"="+strings.TrimPrefix(v, root))
			}
			slices.Sort(desc)
			t.Run(cfg+"/"+strings.Join(desc, ","), func(t *testing.T) {
				out, cliErr := dockerCLI(env, "context", "inspect")
				e, err := Resolve(mapEnv(env))
				if (cliErr != nil) != (err != nil) {
					t.Fatalf("docker CLI error: %v; ours: %v\n%s", cliErr, err, out)
				}
				if err != nil {
					return
				}
				var got []struct {
					Name      string
					Endpoints struct {
						Docker struct {
							Host          string
							SkipTLSVerify bool
						} `json:"docker"`
					}
					TLSMaterial struct {
						Docker []string `json:"docker"`
					}
				}
				if err := json.Unmarshal(out, &got); err != nil || len(got) != 1 {
					t.Fatalf("docker context inspect: %v\n%s", err, out)
				}
				want := got[0]
				slices.Sort(want.TLSMaterial.Docker)
				if e.Context != want.Name || e.Host != want.Endpoints.Docker.Host || e.ep.SkipTLSVerify != want.Endpoints.Docker.SkipTLSVerify {
					t.Errorf("ours: %s %s skip=%v; docker CLI: %s %s skip=%v", e.Context, e.Host, e.ep.SkipTLSVerify,
						want.Name, want.Endpoints.Docker.Host, want.Endpoints.Docker.SkipTLSVerify)
				}
				if !slices.Equal(e.tlsFiles(), want.TLSMaterial.Docker) {
					t.Errorf("TLS material: ours %v, docker CLI %v", e.tlsFiles(), want.TLSMaterial.Docker)
				}
			})
		}
	}
}
