package plan

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
)

// crateDir is a local source with a Cargo.toml and no git repository.
func crateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Cargo.toml"), []byte("[package]\nname = \"hello\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "src", "main.rs"), []byte("fn main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestNew(t *testing.T) {
	t.Parallel()
	dir := crateDir(t)
	parent := filepath.Dir(dir)
	const gitURL = "https://x-access-token:secret@github.com/o/r.git"
	tests := []struct {
		name     string
		source   string
		env      map[string]string
		annotate bool

		identity, url, revision, prefix string
		created                         time.Time
		git                             bool
	}{
		{name: "local, no CI", source: dir, identity: dir},
		{
			name: "local in GitHub Actions", source: dir, annotate: true,
			env: map[string]string{
				"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_SHA": "abc",
				"GITHUB_WORKSPACE": parent, "SOURCE_DATE_EPOCH": "1700000000",
			},
			identity: "https://github.com/o/r", url: "https://github.com/o/r", revision: "abc",
			prefix: filepath.Base(dir) + "/", created: time.Unix(1700000000, 0).UTC(),
		},
		{
			name: "local in Woodpecker", source: dir,
			env:      map[string]string{"CI_REPO_URL": "https://codeberg.org/o/r", "CI_COMMIT_SHA": "def"},
			identity: "https://codeberg.org/o/r", url: "https://codeberg.org/o/r", revision: "def",
		},
		{
			name: "git URL, annotated", source: gitURL, annotate: true, git: true,
			env:      map[string]string{"GITHUB_WORKSPACE": parent, "DRONE_COMMIT_SHA": "0123"},
			identity: "https://github.com/o/r.git", url: "https://github.com/o/r.git", revision: "0123",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Defaults()
			cfg.Binary, cfg.Source, cfg.Tags = "hello", tc.source, []string{"ghcr.io/o/hello:1"}
			cfg.Pull, cfg.Labels = "always", []string{"a=1", " b =2"}
			p, err := New(t.Context(), cfg, Options{Getenv: func(k string) string { return tc.env[k] }, Annotate: tc.annotate})
			if err != nil {
				t.Fatal(err)
			}
			s := p.Source
			switch {
			case s.Git != tc.git:
				t.Errorf("Git = %v, want %v", s.Git, tc.git)
			case s.Identity != tc.identity || s.URL != tc.url:
				t.Errorf("identity %q, URL %q; want %q, %q", s.Identity, s.URL, tc.identity, tc.url)
			case s.Commit.Revision != tc.revision:
				t.Errorf("revision %q, want %q", s.Commit.Revision, tc.revision)
			case p.SourcePrefix != tc.prefix:
				t.Errorf("source prefix %q, want %q", p.SourcePrefix, tc.prefix)
			case !tc.git && (s.Workspace == nil || s.WorkspaceErr != nil):
				t.Errorf("workspace %v, %v: want it read", s.Workspace, s.WorkspaceErr)
			case tc.git && s.Workspace != nil:
				t.Error("a git URL's workspace was read")
			}
			if p.Image != "ghcr.io/o/hello:1" || !slices.Equal(p.Tags, []string{"ghcr.io/o/hello:1"}) || p.TmpImage != "rust-musl-hello-tmp" {
				t.Errorf("names %q %q %q", p.Image, p.Tags, p.TmpImage)
			}
			if !p.PullAlways || !p.BuildBuilder || len(p.CargoEnv) != 5 {
				t.Errorf("pull always %v, build builder %v, cargo env %q", p.PullAlways, p.BuildBuilder, p.CargoEnv)
			}
			if got := p.UserLabels(); got["a"] != "1" || got["b"] != "2" {
				t.Errorf("user labels %v", got)
			}
			labels, created := p.ImageLabels(nil)
			want := tc.created
			if want.IsZero() {
				want = time.Unix(0, 0).UTC()
			}
			if !created.Equal(want) || labels[image.LabelRevision] != tc.revision || labels[image.LabelSource] != tc.url {
				t.Errorf("image labels %v at %s; want revision %q, source %q at %s", labels, created, tc.revision, tc.url, want)
			}
		})
	}
}

// A git URL's commit comes from the labels S2I put on the -tmp image once it
// cloned it; SOURCE_DATE_EPOCH still wins for the time.
func TestImageLabelsOfClone(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults()
	cfg.Binary, cfg.Source = "hello", "https://github.com/o/r.git"
	s2iLabels := map[string]string{labelCommitID: "feed", labelCommitDate: "Tue Nov 14 22:13:20 2023 +0000"}
	for _, tc := range []struct {
		epoch string
		want  time.Time
	}{
		{"", time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)},
		{"5", time.Unix(5, 0).UTC()},
	} {
		p, err := New(t.Context(), cfg, Options{Getenv: func(k string) string {
			return map[string]string{"SOURCE_DATE_EPOCH": tc.epoch, "GITHUB_SHA": "ci"}[k]
		}})
		if err != nil {
			t.Fatal(err)
		}
		labels, created := p.ImageLabels(s2iLabels)
		if labels[image.LabelRevision] != "feed" || !created.Equal(tc.want) {
			t.Errorf("epoch %q: labels %v at %s, want revision feed at %s", tc.epoch, labels, created, tc.want)
		}
	}
}

func TestNewRefusesBadSourceDateEpoch(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults()
	cfg.Binary, cfg.Source = "hello", t.TempDir()
	_, err := New(t.Context(), cfg, Options{Getenv: func(k string) string {
		return map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}[k]
	}})
	if err == nil || err.Error() != `SOURCE_DATE_EPOCH "yesterday" is not a number of seconds` {
		t.Errorf("New = %v, want the SOURCE_DATE_EPOCH error", err)
	}
}

// Platforms come from the settings in their order, with their targets, the
// first being the primary one; none is the single-platform build, which names no
// targets of its own (the prepare stage finds its one).
func TestNewPlatforms(t *testing.T) {
	t.Parallel()
	arm64, err := platform.Lookup("linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	amd64, err := platform.Lookup("linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Binary, cfg.Source = "hello", crateDir(t)
	single, err := New(t.Context(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if single.MultiPlatform() || single.Targets() != nil || single.OCIOutput != "" {
		t.Errorf("no platforms: multi %v, targets %q, oci-output %q; want the single-platform build",
			single.MultiPlatform(), single.Targets(), single.OCIOutput)
	}

	cfg.Platforms, cfg.OCIOutput = []platform.Platform{arm64, amd64}, "out/oci"
	multi, err := New(t.Context(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"aarch64-unknown-linux-musl", "x86_64-unknown-linux-musl"}
	if !multi.MultiPlatform() || !slices.Equal(multi.Targets(), want) || multi.OCIOutput != "out/oci" {
		t.Errorf("platforms %v: multi %v, targets %q, oci-output %q; want targets %q in their order",
			cfg.Platforms, multi.MultiPlatform(), multi.Targets(), multi.OCIOutput, want)
	}
	cfg.Platforms[0] = amd64 // the plan keeps its own copy
	if multi.Platforms[0] != arm64 {
		t.Errorf("the plan's platforms changed with the config's: %v", multi.Platforms)
	}
}
