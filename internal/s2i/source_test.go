package s2i

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openshift/source-to-image/pkg/api"
	"github.com/openshift/source-to-image/pkg/api/constants"
	"github.com/openshift/source-to-image/pkg/build/strategies/sti"
	"github.com/openshift/source-to-image/pkg/ignore"
	"github.com/openshift/source-to-image/pkg/scm/git"
	"github.com/openshift/source-to-image/pkg/scripts"
	"github.com/openshift/source-to-image/pkg/util"
	s2ifs "github.com/openshift/source-to-image/pkg/util/fs"

	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// hostileSource writes a crate whose .s2i/, .sti/ and .s2iignore would act on the
// host if S2I saw them: scripts of its own, an environment file that is a
// symbolic link to a host file holding a secret, and an ignore file whose glob
// leaves the working directory. It returns the source and the host file that a
// followed link or an escaping glob would reach.
func hostileSource(t *testing.T) (src, hostFile string) {
	t.Helper()
	src = filepath.Join(t.TempDir(), "crate")
	hostFile = filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(hostFile, []byte("AWS_SECRET=host-secret-line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"Cargo.toml":               "[package]\nname = \"x\"\n",
		"src/main.rs":              "fn main() {}\n",
		".s2i/bin/assemble":        "#!/bin/sh\necho planted\n",
		".s2i/bin/save-artifacts":  "#!/bin/sh\necho planted\n",
		".sti/bin/run":             "#!/bin/sh\necho planted\n",
		".s2iignore":               "../../../../../../../.." + hostFile + "\n",
		"crates/member/.s2i/notes": "a member's .s2i is just a file of the source\n",
	}
	for name, data := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(hostFile, filepath.Join(src, ".s2i", "environment")); err != nil {
		t.Fatal(err)
	}
	return src, hostFile
}

// What S2I sees of a source: whichever way the source reaches it (this tool's
// copy of a local directory, S2I's own copy, S2I's git clone), S2I's own code
// finds no scripts, no environment and no ignore file in it, and the user's
// checkout keeps them.
func TestS2ISeesNoSourceConventions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  func(src string) Request
		git  bool
	}{
		{"local directory", func(src string) Request { return Request{Source: src, Copy: true} }, false},
		{"s2i's copy", func(src string) Request { return Request{Source: src, Copy: true, Exclude: DefaultExclude} }, false},
		{"git clone", func(src string) Request { return Request{Source: src} }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src, hostFile := hostileSource(t)
			if tc.git {
				for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "hostile"}} {
					if out, err := testenv.Git(src, args...); err != nil {
						t.Fatalf("git %v: %v\n%s", args, err, out)
					}
				}
			}
			cfg := preparedConfig(t, tc.req(src))
			dl, err := downloader(tc.req(src), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dl.Download(cfg); err != nil {
				t.Fatal(err)
			}
			checkS2ISeesNothing(t, cfg, hostFile)
			if _, err := os.Lstat(filepath.Join(src, ".s2i", "environment")); err != nil {
				t.Errorf("the user's checkout lost its .s2i/environment: %v", err)
			}
			if _, err := os.Stat(filepath.Join(cfg.WorkingSourceDir, "crates/member/.s2i/notes")); err != nil {
				t.Errorf("a .s2i below the top is the crate's own file and stays: %v", err)
			}
		})
	}
}

// preparedConfig is S2I's config for req with its working directories made, as
// S2I's Prepare makes them before it downloads the source.
func preparedConfig(t *testing.T, req Request) *api.Config {
	t.Helper()
	src, err := git.Parse(req.Source)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &api.Config{Source: src, ForceCopy: req.Copy, ExcludeRegExp: req.Exclude, WorkingDir: t.TempDir(), KeepSymlinks: true}
	for _, d := range []string{constants.UploadScripts, constants.Source, constants.DefaultScripts, constants.UserScripts} {
		if err := os.MkdirAll(filepath.Join(cfg.WorkingDir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// checkS2ISeesNothing runs S2I's own readers of the source conventions on the
// prepared source.
func checkS2ISeesNothing(t *testing.T, cfg *api.Config, hostFile string) {
	t.Helper()
	for _, name := range []string{".s2i", ".sti", ".s2iignore"} {
		if _, err := os.Lstat(filepath.Join(cfg.WorkingSourceDir, name)); !os.IsNotExist(err) {
			t.Errorf("S2I's copy of the source has %s (%v)", name, err)
		}
	}
	if env := sti.CreateBuildEnvironment(cfg.WorkingDir, nil); len(env) != 0 {
		t.Errorf("S2I read an environment from the source: %q", env)
	}
	inst := scripts.NewInstaller("builder", "", nil, nil, api.AuthConfig{}, s2ifs.NewFileSystem(), cfg)
	for _, r := range inst.InstallOptional([]string{constants.Assemble, constants.SaveArtifacts, constants.Run}, cfg.WorkingDir) {
		if r.Installed || strings.Contains(r.URL, cfg.WorkingSourceDir) {
			t.Errorf("S2I took the source's %s script from %s", r.Script, r.URL)
		}
	}
	if err := (&ignore.DockerIgnorer{}).Ignore(cfg); err != nil {
		t.Errorf("S2I's ignorer: %v", err)
	}
	if _, err := os.Stat(hostFile); err != nil {
		t.Errorf("a file outside the source was removed: %v", err)
	}
}

// secretToken stands for a CI token in the credential tests.
const secretToken = "SECRETTOKEN"

// Credentials never reach S2I's copy of the source nor the labels S2I makes of
// it: a checkout whose .git/config holds actions/checkout's persisted token, and
// a git URL with a token in it, which S2I clones (from a loopback server that
// wants the token) and records as the source-location label.
func TestS2ISeesNoCredentials(t *testing.T) {
	t.Parallel()
	checkout := filepath.Join(t.TempDir(), "crate")
	if err := os.MkdirAll(filepath.Join(checkout, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(checkout, "Cargo.toml"), []byte("[package]\nname = \"x\"\n"), 0o644)
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "x"},
		{"config", "http.https://github.com/.extraheader", "AUTHORIZATION: basic " + secretToken}} {
		if out, err := testenv.Git(checkout, args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	served := t.TempDir()
	if out, err := testenv.Git(served, "clone", "-q", "--bare", checkout, "repo.git"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	base := testenv.GitHTTPServer(t, served, "x-access-token", secretToken)
	tests := []struct {
		name string
		req  Request
	}{
		{"persisted-credential checkout", Request{Source: checkout, Copy: true}},
		{"git URL with a token", Request{Source: base + "/repo.git"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := preparedConfig(t, tc.req)
			dl, err := downloader(tc.req, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			info, err := dl.Download(cfg)
			if err != nil {
				t.Fatal(err)
			}
			config, err := os.ReadFile(filepath.Join(cfg.WorkingSourceDir, ".git", "config"))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(config), secretToken) {
				t.Errorf("S2I's copy of .git/config holds the token:\n%s", config)
			}
			for k, v := range util.GenerateOutputImageLabels(info, cfg) {
				if strings.Contains(v, secretToken) {
					t.Errorf("S2I's label %s = %q holds the token", k, v)
				}
			}
			if loc := info.Location; loc == "" {
				t.Error("no source-location at all")
			}
		})
	}
	if data, _ := os.ReadFile(filepath.Join(checkout, ".git", "config")); !strings.Contains(string(data), secretToken) {
		t.Error("the user's checkout was scrubbed: only the copy may be")
	}
}
