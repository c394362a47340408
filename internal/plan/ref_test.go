package plan

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
)

// The ref each CI's variables give, and what follows from it: the scopes a build
// restores from (its own first, the only one it saves to) and its -tmp name. A
// pull request falls back to its base branch and the default branch; the default
// branch only ever reads its own.
func TestCIRef(t *testing.T) {
	t.Parallel()
	event := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(event, []byte(`{"repository":{"default_branch":"main","name":"r"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		env    map[string]string
		want   Ref
		scopes []string
		tmp    string // the default -tmp image name for binary app
	}{
		{"no CI", nil, Ref{}, []string{""}, "rust-musl-app-tmp"},
		{"Actions push to the default branch",
			map[string]string{"GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_PATH": event},
			Ref{Name: "refs/heads/main", Default: "refs/heads/main"}, []string{""}, "rust-musl-app-tmp"},
		{"Actions pull request",
			map[string]string{"GITHUB_REF": "refs/pull/12/merge", "GITHUB_HEAD_REF": "fix", "GITHUB_BASE_REF": "main", "GITHUB_EVENT_PATH": event},
			Ref{Name: "refs/pull/12", PR: true, Base: "refs/heads/main", Default: "refs/heads/main"},
			[]string{"refs/pull/12", ""}, "rust-musl-app-pr-12-tmp"},
		{"Actions pull request into a release branch falls back to it, then to main",
			map[string]string{"GITHUB_REF": "refs/pull/3/merge", "GITHUB_HEAD_REF": "fix", "GITHUB_BASE_REF": "release/1", "GITHUB_EVENT_PATH": event},
			Ref{Name: "refs/pull/3", PR: true, Base: "refs/heads/release/1", Default: "refs/heads/main"},
			[]string{"refs/pull/3", "refs/heads/release/1", ""}, "rust-musl-app-pr-3-tmp"},
		{"Actions pull_request_target has no number in GITHUB_REF",
			map[string]string{"GITHUB_REF": "refs/heads/main", "GITHUB_HEAD_REF": "fix", "GITHUB_BASE_REF": "main"},
			Ref{Name: "pr:fix", PR: true, Base: "refs/heads/main"}, []string{"pr:fix", ""}, "rust-musl-app-pr-fix-tmp"},
		{"Actions push to a feature branch",
			map[string]string{"GITHUB_REF": "refs/heads/Feature/X", "GITHUB_EVENT_PATH": event},
			Ref{Name: "refs/heads/Feature/X", Default: "refs/heads/main"},
			[]string{"refs/heads/Feature/X", ""}, "rust-musl-app-feature-x-tmp"},
		{"Actions push, default branch unknown: trusted like it",
			map[string]string{"GITHUB_REF": "refs/heads/feature", "GITHUB_EVENT_PATH": "/nonexistent"},
			Ref{Name: "refs/heads/feature"}, []string{""}, "rust-musl-app-tmp"},
		{"Woodpecker pull request",
			map[string]string{"CI_COMMIT_PULL_REQUEST": "7", "CI_COMMIT_REF": "refs/pull/7/head", "CI_COMMIT_TARGET_BRANCH": "main", "CI_REPO_DEFAULT_BRANCH": "main"},
			Ref{Name: "refs/pull/7", PR: true, Base: "refs/heads/main", Default: "refs/heads/main"},
			[]string{"refs/pull/7", ""}, "rust-musl-app-pr-7-tmp"},
		{"Woodpecker push to the default branch",
			map[string]string{"CI_COMMIT_REF": "refs/heads/main", "CI_COMMIT_BRANCH": "main", "CI_REPO_DEFAULT_BRANCH": "main"},
			Ref{Name: "refs/heads/main", Default: "refs/heads/main"}, []string{""}, "rust-musl-app-tmp"},
		{"Woodpecker tag",
			map[string]string{"CI_COMMIT_TAG": "v1.0", "CI_REPO_DEFAULT_BRANCH": "main"},
			Ref{Name: "refs/tags/v1.0", Default: "refs/heads/main"}, []string{"refs/tags/v1.0", ""}, "rust-musl-app-v1-0-tmp"},
		{"Drone pull request",
			map[string]string{"DRONE_PULL_REQUEST": "9", "DRONE_COMMIT_REF": "refs/pull/9/head", "DRONE_TARGET_BRANCH": "main", "DRONE_REPO_BRANCH": "main"},
			Ref{Name: "refs/pull/9", PR: true, Base: "refs/heads/main", Default: "refs/heads/main"},
			[]string{"refs/pull/9", ""}, "rust-musl-app-pr-9-tmp"},
		{"Drone push to another branch",
			map[string]string{"DRONE_BRANCH": "dev", "DRONE_REPO_BRANCH": "main"},
			Ref{Name: "refs/heads/dev", Default: "refs/heads/main"}, []string{"refs/heads/dev", ""}, "rust-musl-app-dev-tmp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := ciRef(func(k string) string { return tc.env[k] })
			if got != tc.want {
				t.Fatalf("ciRef = %+v, want %+v", got, tc.want)
			}
			if s := got.Scopes(); !slices.Equal(s, tc.scopes) {
				t.Errorf("Scopes = %q, want %q", s, tc.scopes)
			}
			if name := tmpName("rust-musl-app-tmp", false, got); name != tc.tmp {
				t.Errorf("-tmp image %q, want %q", name, tc.tmp)
			}
			if name := tmpName("mine", true, got); name != "mine" {
				t.Errorf("a chosen -tmp image name became %q", name)
			}
		})
	}
}

// The plan carries the ref, the -tmp name made from it, and whether the cache
// service scopes entries itself.
func TestNewRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		backend    string
		selfScoped bool
	}{{config.CacheLocal, false}, {config.CacheS3, false}, {config.CacheGHA, true}}
	for _, tc := range tests {
		cfg := config.Defaults()
		cfg.Binary, cfg.Source, cfg.Cache.Backend = "app", crateDir(t), tc.backend
		env := map[string]string{"CI_COMMIT_PULL_REQUEST": "5", "CI_COMMIT_TARGET_BRANCH": "main", "CI_REPO_DEFAULT_BRANCH": "main"}
		p, err := New(t.Context(), cfg, Options{Getenv: func(k string) string { return env[k] }})
		if err != nil {
			t.Fatal(err)
		}
		if p.Ref.Name != "refs/pull/5" || p.TmpImage != "rust-musl-app-pr-5-tmp" || p.CacheSelfScoped != tc.selfScoped {
			t.Errorf("%s: ref %+v, -tmp %q, self-scoped %v", tc.backend, p.Ref, p.TmpImage, p.CacheSelfScoped)
		}
	}
}
