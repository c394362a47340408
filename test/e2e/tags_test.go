package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/client"
)

// docker/metadata-action's outputs go into tags and labels as a workflow passes
// them: the image has every tag and every label, a mixed-case repository is
// lowercased with a notice (its tag kept), and the outputs and summary list the tags.
func TestTagsAndLabelsFromMetadataAction(t *testing.T) {
	needDocker(t)
	t.Parallel()
	tags, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "metadata-action", "tags"))
	if err != nil {
		t.Fatal(err)
	}
	labels, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "metadata-action", "labels"))
	if err != nil {
		t.Fatal(err)
	}
	// Names of this test's own, so that parallel tests keep apart.
	final, tmp := names(t)
	tagList := strings.ReplaceAll(string(tags), "name/app", final) + "ghcr.io/Octo-Org/" + final + ":Main\n"
	want := []string{final + ":main", final + ":sha-860c190", "ghcr.io/octo-org/" + final + ":Main"}
	t.Cleanup(func() { removeAll(t, want...) })

	ws, src := inWorkspace(t, "hello", "hello")
	env, outputFile, summaryFile := actionsEnv(t, ws, map[string]string{
		"binary": "hello", "source": src, "builder": builderImage, "runtime-image": runtimeImage,
		"tmp-image": tmp, "cache": "none", "tags": tagList, "labels": string(labels),
	})
	r := runCmd(t, env, "build")
	if r.code != 0 {
		t.Fatalf("build failed:\n%s", r)
	}
	if !strings.Contains(r.stderr, "::notice::ghcr.io/Octo-Org/"+final+":Main: the repository is lowercased to ghcr.io/octo-org/"+final+":Main") {
		t.Errorf("no notice for the lowercased repository:\n%s", r.stderr)
	}
	id := imageID(t, want[0])
	for _, tag := range want {
		if got := imageID(t, tag); got == "" || got != id {
			t.Errorf("%s is %q, want the image %s", tag, got, id)
		}
	}
	img, err := docker.ImageInspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(labels)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		if got := img.Config.Labels[k]; got != v {
			t.Errorf("label %s = %q, want %q", k, got, v)
		}
	}
	out, _ := os.ReadFile(outputFile)
	summary, _ := os.ReadFile(summaryFile)
	for _, tag := range want {
		if !strings.Contains(string(out), tag+"\n") {
			t.Errorf("the tags output lacks %s:\n%s", tag, out)
		}
		if !strings.Contains(string(summary), "`"+tag+"`") {
			t.Errorf("the job summary lacks %s:\n%s", tag, summary)
		}
	}
}

// push with three tags: every one resolves to the same digest in the registry, and
// the digest, tags and metadata outputs say so. A name without a registry host is
// refused for push before anything runs.
func TestPushThreeTags(t *testing.T) {
	needDocker(t)
	t.Parallel()
	const user, pass = "tagger", "Thr33-T4gs-Pass"
	reg := startRegistry(t, user, pass)
	_, tmp := names(t)
	tags := []string{reg + "/rs2i/multi:a", reg + "/rs2i/multi:b", reg + "/rs2i/other:c"}
	t.Cleanup(func() { removeAll(t, tags...) })
	args := append(buildArgs(crate("hello"), "hello", tags[0], tmp), "--tag", tags[1], "--tag", tags[2], "--push")
	r := runCmd(t, []string{"DOCKER_CONFIG=" + dockerLogin(t, reg, user, pass)}, args...)
	if r.code != 0 {
		t.Fatalf("build and push failed:\n%s", r)
	}
	outputs := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			outputs[k] = v
		}
	}
	digest := outputs["digest"]
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("digest output %q", digest)
	}
	for _, tag := range tags {
		repo, ref, _ := strings.Cut(strings.TrimPrefix(tag, reg+"/"), ":")
		resp, _ := registryGet(t, "http://"+reg+"/v2/"+repo+"/manifests/"+ref, user, pass)
		if got := resp.Header.Get("Docker-Content-Digest"); got != digest {
			t.Errorf("%s has the digest %q in the registry, the output says %q", tag, got, digest)
		}
	}
	var meta map[string]string
	if err := json.Unmarshal([]byte(outputs["metadata"]), &meta); err != nil {
		t.Fatalf("metadata output %q: %v", outputs["metadata"], err)
	}
	if meta["containerimage.digest"] != digest || meta["image.name"] != strings.Join(tags, ",") ||
		meta["containerimage.config.digest"] != outputs["image-id"] {
		t.Errorf("metadata %v does not match digest %s, tags %v, image %s", meta, digest, tags, outputs["image-id"])
	}

	final, tmp2 := names(t)
	bad := runCmd(t, nil, append(buildArgs(crate("hello"), "hello", final+"-push", tmp2), "--push")...)
	if bad.code != 2 || !strings.Contains(bad.stderr, "--push: "+final+"-push names no registry") {
		t.Errorf("a push to a name without a registry: exit %d, want 2 naming --push:\n%s", bad.code, bad)
	}
	if imageID(t, final+"-push") != "" {
		t.Error("an image was built for a refused push")
	}
}

// A private runtime base is pulled with registry-auth; without it the error says
// which setting to use. pull always picks up a new base under the same tag.
func TestPrivateBaseAndPullAlways(t *testing.T) {
	needDocker(t)
	t.Parallel()
	const user, pass = "puller", "Pr1vate-Base-Pass"
	reg := startRegistry(t, user, pass)
	cfgDir := dockerLogin(t, reg, user, pass)
	base := reg + "/private/base:1"
	pushBase := func(extra string) []string {
		t.Helper()
		dir := t.TempDir()
		dockerfile := "FROM " + runtimeImage + "\nRUN echo " + extra + " > /etc/base-version\n"
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, c := range [][]string{{"build", "-q", "-t", base, dir}, {"--config", cfgDir, "push", base}} {
			if out, err := exec.Command("docker", c...).CombinedOutput(); err != nil {
				t.Fatalf("docker %v: %v\n%s", c, err, out)
			}
		}
		in, err := docker.ImageInspect(context.Background(), base)
		if err != nil {
			t.Fatal(err)
		}
		// Gone from the daemon: the build must pull it.
		if _, err := docker.ImageRemove(context.Background(), base, client.ImageRemoveOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
		return in.RootFS.Layers
	}
	firstLayers := pushBase("one")
	t.Cleanup(func() { removeAll(t, base) })

	final, tmp := names(t)
	args := []string{"build", "--source", crate("hello"), "--binary", "hello", "--builder", builderImage,
		"--runtime-image", base, "--image", final, "--tmp-image", tmp}
	r := runCmd(t, []string{"DOCKER_CONFIG=" + t.TempDir()}, args...)
	if r.code != 1 || !strings.Contains(r.stderr, "registry-auth") {
		t.Errorf("a private base without credentials: exit %d, want 1 and a message naming registry-auth:\n%s", r.code, r)
	}
	env, _, _ := actionsEnv(t, t.TempDir(), map[string]string{
		"binary": "hello", "source": crate("hello"), "builder": builderImage, "runtime-image": base,
		"image": final, "tmp-image": tmp, "cache": "none", "registry-auth": reg + "=" + user + ":" + pass,
	})
	if r := runCmd(t, env, "build"); r.code != 0 {
		t.Fatalf("a private base with registry-auth failed:\n%s", r)
	} else if strings.Count(r.stderr+r.stdout, pass) != strings.Count(r.stderr, "::add-mask::"+pass) {
		t.Error("the registry password appears outside ::add-mask::")
	}
	if got := layersOf(t, final); !hasPrefix(got, firstLayers) {
		t.Fatalf("the final image is not on the pulled base")
	}

	newLayers := pushBase("two")
	env2 := append(env, "INPUT_PULL=always")
	if r := runCmd(t, env2, "build"); r.code != 0 {
		t.Fatalf("pull always failed:\n%s", r)
	}
	if got := layersOf(t, final); !hasPrefix(got, newLayers) {
		t.Errorf("with pull always the final image is not on the base pushed since")
	}
}

// dockerLogin logs in to reg in a Docker config of its own and returns its dir.
func dockerLogin(t *testing.T, reg, user, pass string) string {
	t.Helper()
	dir := t.TempDir()
	login := exec.Command("docker", "--config", dir, "login", "-u", user, "--password-stdin", reg)
	login.Stdin = strings.NewReader(pass)
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
	return dir
}

func layersOf(t *testing.T, img string) []string {
	t.Helper()
	in, err := docker.ImageInspect(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	return in.RootFS.Layers
}

func hasPrefix(layers, base []string) bool {
	if len(layers) < len(base) {
		return false
	}
	for i := range base {
		if layers[i] != base[i] {
			return false
		}
	}
	return true
}
