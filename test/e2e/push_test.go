package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// startRegistry runs Debian's docker-registry on loopback with htpasswd auth and
// returns its address.
func startRegistry(t *testing.T, user, pass string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	script := filepath.Join(repoRoot(), "hack", "registry.sh")
	cmd := exec.Command("bash", script, "start", dir, fmt.Sprint(port), user, "-")
	cmd.Env = append(os.Environ(), "REGISTRY_PASSWORD="+pass)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("starting the registry: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("bash", script, "stop", dir).Run() })
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// registryGet asks the registry API with basic auth.
func registryGet(t *testing.T, url, user, pass string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth(user, pass)
	// An index too: a push with attestations (sbom, provenance: the default) is an
	// OCI index of the image and its attestation manifest, as BuildKit pushes it.
	req.Header.Set("Accept", strings.Join([]string{"application/vnd.docker.distribution.manifest.v2+json",
		"application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.index.v1+json",
		"application/vnd.oci.image.manifest.v1+json"}, ", "))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// push sends the final image with the action's credentials: the digest output is
// the registry's, the image pulls back and runs, the -tmp image stays home, and a
// wrong password fails cleanly without showing it. The password is in no log line
// and no output file.
func TestPush(t *testing.T) {
	needDocker(t)
	t.Parallel()
	const user, pass = "pusher", "Corr3ct-H0rse-Battery"
	reg := startRegistry(t, user, pass)
	ws, src := inWorkspace(t, "hello", "hello")
	_, tmp := names(t)
	final := reg + "/rs2i/hello:e2e"
	t.Cleanup(func() { command("docker", "rmi", "-f", final) })
	inputs := map[string]string{
		"binary": "hello", "source": src, "builder": builderImage, "runtime-image": runtimeImage,
		"image": final, "tmp-image": tmp, "cache": "none", "push": "true", "username": user, "password": pass,
	}
	env, outputFile, summaryFile := actionsEnv(t, ws, inputs)
	r := runCmd(t, env, "build")
	if r.code != 0 {
		t.Fatalf("build and push failed:\n%s", r)
	}
	outputs, _ := os.ReadFile(outputFile)
	digest := ""
	if _, rest, ok := strings.Cut(string(outputs), "digest<<"); ok {
		lines := strings.Split(rest, "\n")
		if len(lines) > 1 {
			digest = lines[1]
		}
	}
	resp, _ := registryGet(t, "http://"+reg+"/v2/rs2i/hello/manifests/e2e", user, pass)
	if want := resp.Header.Get("Docker-Content-Digest"); digest == "" || digest != want {
		t.Errorf("digest output %q, registry has %q", digest, want)
	}
	_, catalog := registryGet(t, "http://"+reg+"/v2/_catalog", user, pass)
	if !strings.Contains(catalog, "rs2i/hello") || strings.Contains(catalog, "tmp") {
		t.Errorf("registry catalog %s: want the final image only", catalog)
	}

	if out, err := command("docker", "rmi", final); err != nil {
		t.Fatalf("removing the local image: %v\n%s", err, out)
	}
	dockerConfig := t.TempDir()
	login := exec.Command("docker", "--config", dockerConfig, "login", "-u", user, "--password-stdin", reg)
	login.Stdin = strings.NewReader(pass)
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
	if out, err := command("docker", "--config", dockerConfig, "pull", final); err != nil {
		t.Fatalf("pulling the pushed image back: %v\n%s", err, out)
	}
	if got := runImage(t, final, "registry"); !strings.Contains(got, "Hello, registry!") {
		t.Errorf("pulled image printed %q", got)
	}

	inputs["password"] = "Wr0ng-Passw0rd-Guess"
	inputs["image"] = reg + "/rs2i/hello:wrong"
	env2, outputFile2, summaryFile2 := actionsEnv(t, ws, inputs)
	bad := runCmd(t, env2, "build")
	if bad.code != 1 {
		t.Fatalf("a wrong password: want exit 1\n%s", bad)
	}
	if !strings.Contains(bad.stderr, "refused the credentials") {
		t.Errorf("no clear message for the wrong password:\n%s", bad.stderr)
	}

	logs := r.stdout + r.stderr + bad.stdout + bad.stderr
	for _, f := range []string{outputFile, summaryFile, outputFile2, summaryFile2} {
		data, _ := os.ReadFile(f)
		logs += string(data)
	}
	for _, secret := range []string{pass, "Wr0ng-Passw0rd-Guess"} {
		// The add-mask command is the one place the runner must see the secret.
		if n := strings.Count(logs, secret) - strings.Count(logs, "::add-mask::"+secret); n != 0 {
			t.Errorf("a password appears %d times outside ::add-mask::", n)
		}
	}
}
