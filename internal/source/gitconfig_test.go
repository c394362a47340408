package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScrubGitConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"actions/checkout's persisted token",
			"[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://github.com/o/r\n[http \"https://github.com/\"]\n\textraheader = AUTHORIZATION: basic SECRETTOKEN\n",
			"[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://github.com/o/r\n[http \"https://github.com/\"]\n"},
		{"key case and old subsection syntax",
			"[HTTP.https://github.com/]\n\tExtraHeader=AUTHORIZATION: basic SECRETTOKEN\n\tsslVerify = true\n",
			"[HTTP.https://github.com/]\n\tsslVerify = true\n"},
		{"a key on the header's line",
			"[http] extraheader = SECRETTOKEN\n[core]\n\tx = 1\n",
			"[http]\n[core]\n\tx = 1\n"},
		{"a continued value",
			"[http]\n\textraheader = AUTHORIZATION: \\\n   SECRETTOKEN\n\tpostBuffer = 1\n",
			"[http]\n\tpostBuffer = 1\n"},
		{"a remote URL with a token",
			"[remote \"origin\"]\n\turl = https://x-access-token:SECRETTOKEN@github.com/o/r.git\n\tpushurl = https://user@example.com/r\n",
			"[remote \"origin\"]\n\turl = https://github.com/o/r.git\n\tpushurl = https://example.com/r\n"},
		{"insteadOf, credential helpers and includes",
			"[url \"https://x:SECRETTOKEN@github.com/\"]\n\tinsteadOf = https://github.com/\n[credential]\n\thelper = \"!f() { echo password=SECRETTOKEN; }; f\"\n[includeIf \"gitdir:/w/\"]\n\tpath = /runner/temp/git-credentials-SECRETTOKEN.config\n[include]\n\tpath = x\n[core]\n\tautocrlf = false\n",
			"[core]\n\tautocrlf = false\n"},
		{"a proxy and a submodule with userinfo",
			"[http]\n\tproxy = http://me:SECRETTOKEN@proxy:3128\n[submodule \"lib\"]\n\turl = https://me:SECRETTOKEN@example.com/lib.git\n",
			"[http]\n\tproxy = http://proxy:3128\n[submodule \"lib\"]\n\turl = https://example.com/lib.git\n"},
		{"a section header with userinfo",
			"[http \"https://me:SECRETTOKEN@example.com/\"]\n\tsslVerify = false\n",
			"[http \"https://example.com/\"]\n\tsslVerify = false\n"},
		{"nothing to scrub", "[core]\n\t# a comment\n\tbare = false\n", "[core]\n\t# a comment\n\tbare = false\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := string(ScrubGitConfig([]byte(tc.in)))
			if got != tc.want {
				t.Errorf("scrubbed\n%s\nwant\n%s", got, tc.want)
			}
			if strings.Contains(got, "SECRETTOKEN") {
				t.Error("the token is still there")
			}
		})
	}
}

// Sanitize scrubs the copy's git configs, submodules' included, by replacing
// them: the user's file, hard-linked into the copy, keeps its text.
func TestSanitizeScrubsCopyOnly(t *testing.T) {
	t.Parallel()
	user, cp := t.TempDir(), t.TempDir()
	secret := "[http \"https://github.com/\"]\n\textraheader = AUTHORIZATION: basic SECRETTOKEN\n"
	for _, rel := range []string{".git/config", ".git/modules/objects/config"} {
		for _, root := range []string{user, cp} {
			if err := os.MkdirAll(filepath.Join(root, filepath.Dir(rel)), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(user, rel), []byte(secret), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(filepath.Join(user, rel), filepath.Join(cp, rel)); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(user, filepath.Dir(rel), "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
		os.WriteFile(filepath.Join(cp, filepath.Dir(rel), "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
	}
	if err := Sanitize(cp); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{".git/config", ".git/modules/objects/config"} {
		if got, _ := os.ReadFile(filepath.Join(cp, rel)); strings.Contains(string(got), "SECRETTOKEN") {
			t.Errorf("the copy's %s keeps the token", rel)
		}
		if got, _ := os.ReadFile(filepath.Join(user, rel)); string(got) != secret {
			t.Errorf("the user's %s changed: %q", rel, got)
		}
	}
}
