package provenance

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/intoto"
)

const secret = "s3cr3t-value-never-written"

func testBuild() Build {
	return Build{
		Source: Source{URI: "https://github.com/example/app.git", Ref: "refs/heads/main", Commit: "0123456789abcdef0123456789abcdef01234567"},
		Settings: Settings{
			Binary:   "app",
			Features: []string{"tls", "compress"},
			Profile:  "release",
			Targets:  []string{"x86_64-unknown-linux-musl"},
			Builder:  Image{Ref: "ghcr.io/rust-s2i/builder:1.85", Digest: "sha256:1111"},
			Runtime:  Image{Ref: "docker.io/library/busybox:1.36@sha256:2222", Digest: "sha256:2222"},
		},
		ToolVersion: "v1.2.3",
		Rustc:       "rustc 1.85.0 (4d91de4e4 2025-02-17)\nbinary: rustc\n",
	}
}

func marshal(t *testing.T, b Build) []byte {
	t.Helper()
	sub, err := intoto.DigestSubject("registry.example/app", "sha256:abcd")
	if err != nil {
		t.Fatal(err)
	}
	st, err := Statement(b, sub)
	if err != nil {
		t.Fatal(err)
	}
	out, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStatement(t *testing.T) {
	t.Parallel()
	want := `{"_type":"https://in-toto.io/Statement/v1",` +
		`"subject":[{"name":"registry.example/app","digest":{"sha256":"abcd"}}],` +
		`"predicateType":"https://slsa.dev/provenance/v1",` +
		`"predicate":{"buildDefinition":{"buildType":"https://github.com/rust-s2i/rust-s2i-musl/buildtypes/s2i-musl/v1",` +
		`"externalParameters":{"source":{"uri":"https://github.com/example/app.git","ref":"refs/heads/main"},` +
		`"binary":"app","features":["compress","tls"],"profile":"release","targets":["x86_64-unknown-linux-musl"],` +
		`"builder":{"ref":"ghcr.io/rust-s2i/builder:1.85","digest":"sha256:1111"},` +
		`"runtime":{"ref":"docker.io/library/busybox:1.36@sha256:2222","digest":"sha256:2222"},"auditable":false},` +
		`"internalParameters":{"rustc":"rustc 1.85.0 (4d91de4e4 2025-02-17)"},` +
		`"resolvedDependencies":[` +
		`{"uri":"git+https://github.com/example/app.git@refs/heads/main","digest":{"gitCommit":"0123456789abcdef0123456789abcdef01234567"}},` +
		`{"uri":"pkg:docker/ghcr.io/rust-s2i/builder:1.85","digest":{"sha256":"1111"}},` +
		`{"uri":"pkg:docker/docker.io/library/busybox:1.36","digest":{"sha256":"2222"}}]},` +
		`"runDetails":{"builder":{"id":"https://github.com/rust-s2i/rust-s2i-musl@v1.2.3"}}}}`
	if got := string(marshal(t, testBuild())); got != want {
		t.Errorf("statement:\n got %s\nwant %s", got, want)
	}
}

func TestStatementDeterministic(t *testing.T) {
	t.Parallel()
	a := marshal(t, testBuild())
	b := testBuild()
	b.Settings.Features = []string{"compress", "tls", "tls"}
	if got := marshal(t, b); !bytes.Equal(a, got) {
		t.Errorf("feature order changed the statement:\n%s\n%s", a, got)
	}
	if !bytes.Equal(a, marshal(t, testBuild())) {
		t.Error("two statements of the same build differ")
	}
}

// TestNoSecret hands the statement everything a configuration with secrets could
// hold: env and secret entries (which Settings has no field for, so they are
// dropped when decoded), a clone URL with a token, an invocation URL with one.
func TestNoSecret(t *testing.T) {
	t.Parallel()
	config := `{"binary":"app","profile":"release","targets":["x86_64-unknown-linux-musl"],
		"env":{"API_TOKEN":"` + secret + `"},"secret-env":["` + secret + `"],"secrets":{"id":"` + secret + `"},
		"builder":{"ref":"b","digest":"sha256:1"},"runtime":{"ref":"r","digest":"sha256:2","password":"` + secret + `"}}`
	var s Settings
	if err := json.Unmarshal([]byte(config), &s); err != nil {
		t.Fatal(err)
	}
	b := Build{
		Source:       Source{URI: "https://x-access-token:" + secret + "@github.com/example/app.git?token=" + secret + "#" + secret, Commit: "abc"},
		Settings:     s,
		InvocationID: "https://ci.example/run/1?token=" + secret,
	}
	out := marshal(t, b)
	if bytes.Contains(out, []byte(secret)) {
		t.Errorf("secret in provenance: %s", out)
	}
	for _, want := range []string{`"uri":"https://github.com/example/app.git"`, `"invocationId":"https://ci.example/run/1"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("provenance lacks %s: %s", want, out)
		}
	}
}

// TestSettingsFields pins the settings written to provenance: a new field must be
// added here, by someone who checked it can never hold a secret or an env value.
func TestSettingsFields(t *testing.T) {
	t.Parallel()
	var got []string
	typ := reflect.TypeFor[Settings]()
	for i := range typ.NumField() {
		got = append(got, typ.Field(i).Name)
	}
	want := []string{"Package", "Binary", "Features", "NoDefaultFeatures", "AllFeatures", "Profile", "Targets", "Builder", "Runtime", "Auditable"}
	if !slices.Equal(got, want) {
		t.Errorf("Settings fields %q, want %q", got, want)
	}
	for _, name := range got {
		if l := strings.ToLower(name); strings.Contains(l, "env") || strings.Contains(l, "secret") || strings.Contains(l, "password") {
			t.Errorf("Settings has field %s", name)
		}
	}
}

func TestStatementRefuses(t *testing.T) {
	t.Parallel()
	sub, _ := intoto.DigestSubject("x", "sha256:1")
	tests := []struct {
		name string
		b    Build
		subs []intoto.Subject
	}{
		{"no commit", Build{Source: Source{URI: "https://x"}}, []intoto.Subject{sub}},
		{"no source", Build{Source: Source{Commit: "abc"}}, []intoto.Subject{sub}},
		{"no subject", testBuild(), nil},
	}
	for _, tt := range tests {
		if _, err := Statement(tt.b, tt.subs...); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

func TestPublicURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://github.com/o/r.git", "https://github.com/o/r.git"},
		{"https://user:pw@github.com/o/r.git", "https://github.com/o/r.git"},
		{"https://github.com/o/r?x=1#y", "https://github.com/o/r"},
		{"git@github.com:o/r.git", "github.com:o/r.git"},
		{"ssh://git@github.com/o/r.git", "ssh://github.com/o/r.git"},
	}
	for _, tt := range tests {
		if got := publicURL(tt.in); got != tt.want {
			t.Errorf("publicURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
