package tmpimage

import (
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"

	builderimage "github.com/rust-s2i/rust-s2i-musl/s2i"
)

// dockerfileEnv reads the ENV instructions of the builder's Dockerfile, with their
// continuation lines, as NAME=VALUE pairs (quotes removed).
func dockerfileEnv(t *testing.T, dockerfile string) map[string]string {
	t.Helper()
	env := map[string]string{}
	var inEnv bool
	pair := regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)`)
	for _, line := range strings.Split(dockerfile, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "ENV ") {
			inEnv = true
		}
		if !inEnv {
			continue
		}
		for _, m := range pair.FindAllStringSubmatch(strings.TrimPrefix(trimmed, "ENV "), -1) {
			v := m[2]
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
			env[m[1]] = v
		}
		inEnv = strings.HasSuffix(trimmed, `\`)
	}
	return env
}

// The builder's Dockerfile gives the scripts every path of ScriptEnv, with the
// value the Go side uses, and the layout's other facts: the S2I destination and
// the build user.
func TestDockerfileSetsScriptEnv(t *testing.T) {
	t.Parallel()
	raw, err := fs.ReadFile(builderimage.Files, "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := string(raw)
	env := dockerfileEnv(t, dockerfile)
	for k, want := range ScriptEnv() {
		if got, ok := env[k]; !ok {
			t.Errorf("s2i/Dockerfile sets no ENV %s; want %s=%q (tmpimage.ScriptEnv)", k, k, want)
		} else if got != want {
			t.Errorf("s2i/Dockerfile sets ENV %s=%q; tmpimage.ScriptEnv has %q", k, got, want)
		}
	}
	for _, want := range []string{
		`io.openshift.s2i.destination="` + Destination + `"`,
		LabelTarget + `="${TARGET}"`,
		LabelTargets + `="${TARGETS}"`,
		LabelBuilderToolchain + `="${TOOLCHAIN}"`,
		"USER " + strconv.Itoa(BuildUser.UID),
		"--uid " + strconv.Itoa(BuildUser.UID) + " --gid " + strconv.Itoa(BuildUser.GID),
	} {
		if !strings.Contains(dockerfile, want) {
			t.Errorf("s2i/Dockerfile lacks %q", want)
		}
	}
}

// ownedPaths are the paths and names the Go side owns, which a script must take
// from its environment rather than spell out.
func ownedPaths() []string {
	return []string{AppRoot, SecretsDir, CollectTokenFile, CargoTimeFile, TimesFile, MetadataFile, LockFile, RustcFile, Destination + "/src", Destination + "/artifacts", "cargo/registry"}
}

// No script spells out a path that ScriptEnv owns (comments aside), and no line of
// the Dockerfile does outside the ENV that sets them.
func TestScriptsTakePathsFromEnv(t *testing.T) {
	t.Parallel()
	scripts, err := fs.ReadDir(builderimage.Files, "bin")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scripts {
		raw, err := fs.ReadFile(builderimage.Files, "bin/"+s.Name())
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			for _, p := range ownedPaths() {
				if strings.Contains(line, p) {
					t.Errorf("s2i/bin/%s:%d spells out %q, which the builder's environment holds (tmpimage.ScriptEnv): %s", s.Name(), i+1, p, line)
				}
			}
		}
	}
	raw, err := fs.ReadFile(builderimage.Files, "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	inEnv := false
	for i, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		wasEnv := inEnv || strings.HasPrefix(trimmed, "ENV ")
		inEnv = wasEnv && strings.HasSuffix(trimmed, `\`)
		if wasEnv || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.Contains(line, AppRoot) {
			t.Errorf("s2i/Dockerfile:%d spells out %s outside its ENV: %s", i+1, AppRoot, line)
		}
	}
}

// The builder's Dockerfile labels the image with the scripts protocol the client
// requires (ScriptsProtocol): a bump of one without the other fails here, not in
// every build with the default builder.
func TestDockerfileLabelsScriptsProtocol(t *testing.T) {
	t.Parallel()
	raw, err := fs.ReadFile(builderimage.Files, "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	label := regexp.MustCompile(`(?m)^[^#]*\b` + regexp.QuoteMeta(LabelScriptsProtocol) + `=("[^"]*"|\S*)`)
	found := label.FindAllStringSubmatch(string(raw), -1)
	if len(found) != 1 {
		t.Fatalf("s2i/Dockerfile sets the %s label %d times, want once", LabelScriptsProtocol, len(found))
	}
	got := found[0][1]
	if u, err := strconv.Unquote(got); err == nil {
		got = u
	}
	if want := strconv.Itoa(ScriptsProtocol); got != want {
		t.Errorf("s2i/Dockerfile labels %s=%q; tmpimage.ScriptsProtocol is %s: bump both together", LabelScriptsProtocol, got, want)
	}
	if err := CheckProtocol(map[string]string{LabelScriptsProtocol: got}); err != nil {
		t.Errorf("a builder from s2i/Dockerfile would be refused: %v", err)
	}
}
