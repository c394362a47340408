package registry

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/authconfig"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// fakeHelper writes a docker-credential-NAME script into dir that knows the logins
// in creds (server URL -> {user, secret}) and answers like the real helpers.
func fakeHelper(t *testing.T, dir, name string, creds map[string][2]string) {
	t.Helper()
	var cases strings.Builder
	for url, c := range creds {
		fmt.Fprintf(&cases, "  %q) printf '%%s' '{\"ServerURL\":\"%s\",\"Username\":\"%s\",\"Secret\":\"%s\"}' ;;\n", url, url, c[0], c[1])
	}
	script := "#!/bin/sh\n" +
		"[ \"$1\" = get ] || { echo 'only get' >&2; exit 2; }\n" +
		"read -r url\n" +
		"case \"$url\" in\n" + cases.String() +
		"  *) echo 'credentials not found in native keychain'; exit 1 ;;\n" +
		"esac\n"
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// writeScript writes an executable shell script named name into dir.
func writeScript(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	const (
		local = "127.0.0.1:5000/team/app:v1"
		hub   = "alice/app:latest"
	)
	tests := []struct {
		name     string
		ref      string
		explicit Auth
		config   string // config.json; "" means no file
		noDir    bool   // pass "" as the config directory
		want     Auth
		wantErr  string   // substring of the error; "" means no error
		notInErr []string // must not appear in the error
	}{
		{
			name:     "explicit wins over the config",
			ref:      local,
			explicit: Auth{Username: "ci", Password: "from-input"},
			config:   `{"auths":{"127.0.0.1:5000":{"auth":"` + b64("other:from-config") + `"}}}`,
			want:     Auth{Username: "ci", Password: "from-input"},
		},
		{
			name:     "explicit username without password",
			ref:      local,
			explicit: Auth{Username: "ci"},
			wantErr:  `username "ci" is set but the password is empty`,
		},
		{
			name:     "explicit password without username",
			ref:      local,
			explicit: Auth{Password: "s3cr3t-value"},
			wantErr:  "username is empty",
			notInErr: []string{"s3cr3t-value"},
		},
		{
			name:   "auth field",
			ref:    local,
			config: `{"auths":{"127.0.0.1:5000":{"auth":"` + b64("u:p:with:colons") + `"}}}`,
			want:   Auth{Username: "u", Password: "p:with:colons"},
		},
		{
			// The docker CLI refuses it too.
			name:     "auth field without padding",
			ref:      local,
			config:   `{"auths":{"127.0.0.1:5000":{"auth":"` + strings.TrimRight(b64("u:pw-s3cr3t"), "=") + `"}}}`,
			wantErr:  `"auth" value in "auths" is not base64 of USER:PASSWORD`,
			notInErr: []string{"pw-s3cr3t", strings.TrimRight(b64("u:pw-s3cr3t"), "=")},
		},
		{
			name:   "username and password fields",
			ref:    local,
			config: `{"auths":{"127.0.0.1:5000":{"username":"u","password":"p"}}}`,
			want:   Auth{Username: "u", Password: "p"},
		},
		{
			name:   "key with scheme and path",
			ref:    "ghcr.io/org/app",
			config: `{"auths":{"https://ghcr.io/v2/":{"auth":"` + b64("gh:tok") + `"}}}`,
			want:   Auth{Username: "gh", Password: "tok"},
		},
		{
			name:   "key with scheme and port",
			ref:    local,
			config: `{"auths":{"http://127.0.0.1:5000/v2/":{"auth":"` + b64("u:p") + `"}}}`,
			want:   Auth{Username: "u", Password: "p"},
		},
		{
			name:   "exact key wins over a key with a scheme",
			ref:    local,
			config: `{"auths":{"http://127.0.0.1:5000":{"auth":"` + b64("old:p1") + `"},"127.0.0.1:5000":{"auth":"` + b64("new:p2") + `"}}}`,
			want:   Auth{Username: "new", Password: "p2"},
		},
		{
			name:   "port is part of the host",
			ref:    local,
			config: `{"auths":{"127.0.0.1":{"auth":"` + b64("u:p") + `"}}}`,
			want:   Auth{},
		},
		{
			name:   "docker hub under the CLI key",
			ref:    hub,
			config: `{"auths":{"https://index.docker.io/v1/":{"auth":"` + b64("alice:hub") + `"}}}`,
			want:   Auth{Username: "alice", Password: "hub"},
		},
		{
			name:   "docker hub under docker.io",
			ref:    "docker.io/library/busybox",
			config: `{"auths":{"docker.io":{"auth":"` + b64("alice:hub") + `"}}}`,
			want:   Auth{Username: "alice", Password: "hub"},
		},
		{
			name:   "docker hub under index.docker.io",
			ref:    "busybox",
			config: `{"auths":{"index.docker.io":{"username":"alice","password":"hub"}}}`,
			want:   Auth{Username: "alice", Password: "hub"},
		},
		{
			name:   "docker hub login is not used for another registry",
			ref:    local,
			config: `{"auths":{"https://index.docker.io/v1/":{"auth":"` + b64("alice:hub") + `"}}}`,
			want:   Auth{},
		},
		{
			name:   "missing registry is anonymous",
			ref:    local,
			config: `{"auths":{"ghcr.io":{"auth":"` + b64("gh:tok") + `"}}}`,
			want:   Auth{},
		},
		{
			name:   "empty entry is anonymous",
			ref:    local,
			config: `{"auths":{"127.0.0.1:5000":{}}}`,
			want:   Auth{},
		},
		{
			name: "no config file is anonymous",
			ref:  local,
			want: Auth{},
		},
		{
			name:  "no config dir is anonymous",
			ref:   local,
			noDir: true,
			want:  Auth{},
		},
		{
			name:    "corrupt config names the file",
			ref:     local,
			config:  `{"auths": {"127.0.0.1:5000": {"auth": `,
			wantErr: "config.json",
		},
		{
			name:     "corrupt auth field names the field, not the value",
			ref:      local,
			config:   `{"auths":{"127.0.0.1:5000":{"auth":"%%not-base64-s3cr3t%%"}}}`,
			wantErr:  `config.json: an "auth" value in "auths" is not base64 of USER:PASSWORD`,
			notInErr: []string{"s3cr3t"},
		},
		{
			name:     "auth field without a colon",
			ref:      local,
			config:   `{"auths":{"127.0.0.1:5000":{"auth":"` + b64("justatoken") + `"}}}`,
			wantErr:  "not base64 of USER:PASSWORD",
			notInErr: []string{"justatoken", b64("justatoken")},
		},
		{
			// As for the docker CLI, a broken file is broken for every registry.
			name:     "corrupt entry of another registry",
			ref:      local,
			config:   `{"auths":{"127.0.0.1:5000":{"auth":"` + b64("u:p") + `"},"ghcr.io":{"auth":"` + b64("nocolon-s3cr3t") + `"}}}`,
			wantErr:  `not base64 of USER:PASSWORD`,
			notInErr: []string{"nocolon-s3cr3t", b64("nocolon-s3cr3t")},
		},
		{
			name:     "string where an object belongs",
			ref:      local,
			config:   `{"auths":{"127.0.0.1:5000":"` + b64("u:s3cr3t") + `"}}`,
			wantErr:  "config.json): json: cannot unmarshal string",
			notInErr: []string{"s3cr3t", b64("u:s3cr3t")},
		},
		{
			// What `docker login` writes when the registry answers with an
			// identity token: the user, no password, the token.
			name:   "identity token entry",
			ref:    hub,
			config: `{"auths":{"https://index.docker.io/v1/":{"auth":"` + b64("alice:") + `","identitytoken":"refresh-xyz"}}}`,
			want:   Auth{Username: "alice", IdentityToken: "refresh-xyz"},
		},
		{
			name:   "identity token entry without a user",
			ref:    "ghcr.io/org/app",
			config: `{"auths":{"ghcr.io":{"identitytoken":"refresh-xyz"}}}`,
			want:   Auth{IdentityToken: "refresh-xyz"},
		},
		{
			name:   "identity token from a credential helper",
			ref:    "registry.example.com/org/app",
			config: `{"credHelpers":{"registry.example.com":"fake"}}`,
			want:   Auth{IdentityToken: "helper-refresh-token"},
		},
		{
			name:     "registry token entry is refused clearly",
			ref:      local,
			config:   `{"auths":{"127.0.0.1:5000":{"registrytoken":"bearer-s3cr3t"}}}`,
			wantErr:  "registry token, which is not supported",
			notInErr: []string{"bearer-s3cr3t"},
		},
		{
			name:    "invalid reference",
			ref:     "Not A Ref",
			wantErr: `image reference "Not A Ref"`,
		},
		{
			name:   "credHelpers wins over auths",
			ref:    local,
			config: `{"credHelpers":{"127.0.0.1:5000":"fake"},"auths":{"127.0.0.1:5000":{"auth":"` + b64("file:pw") + `"}}}`,
			want:   Auth{Username: "helper-user", Password: "helper-secret"},
		},
		{
			name:   "credsStore for docker hub gets the CLI key",
			ref:    hub,
			config: `{"credsStore":"fake"}`,
			want:   Auth{Username: "hub-user", Password: "hub-secret"},
		},
		{
			name:   "helper without a login falls back to auths",
			ref:    "ghcr.io/org/app",
			config: `{"credsStore":"fake","auths":{"ghcr.io":{"auth":"` + b64("gh:tok") + `"}}}`,
			want:   Auth{Username: "gh", Password: "tok"},
		},
		{
			name:   "helper without a login is anonymous",
			ref:    "ghcr.io/org/app",
			config: `{"credsStore":"fake"}`,
			want:   Auth{},
		},
		{
			name:    "missing helper is an error",
			ref:     local,
			config:  `{"credsStore":"desktop","auths":{"127.0.0.1:5000":{}}}`,
			wantErr: "credsStore names the credential helper docker-credential-desktop, which is not on PATH",
		},
		{
			name:   "credHelpers for another registry is not used",
			ref:    "ghcr.io/org/app",
			config: `{"credHelpers":{"127.0.0.1:5000":"fake"},"auths":{"ghcr.io":{"auth":"` + b64("gh:tok") + `"}}}`,
			want:   Auth{Username: "gh", Password: "tok"},
		},
		{
			name:     "failing helper: wrapped, and redacted",
			ref:      local,
			config:   `{"credsStore":"broken","auths":{"ghcr.io":{"auth":"` + b64("ci:leaked-pw") + `"},"quay.io":{"identitytoken":"leaked-token"}}}`,
			wantErr:  `docker-credential-broken get 127.0.0.1:5000: error getting credentials - err: exit status 3 (stderr: keychain locked, tried ***, ***)`,
			notInErr: []string{"leaked-pw", "leaked-token", b64("ci:leaked-pw")},
		},
		{
			name:    "slow helper times out",
			ref:     local,
			config:  `{"credsStore":"slow"}`,
			wantErr: "docker-credential-slow get 127.0.0.1:5000: no answer within",
		},
		{
			name:   "missing helper but an auths login",
			ref:    local,
			config: `{"credsStore":"desktop","auths":{"127.0.0.1:5000":{"auth":"` + b64("u:p") + `"}}}`,
			want:   Auth{Username: "u", Password: "p"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			bin := t.TempDir()
			fakeHelper(t, bin, "fake", map[string][2]string{
				"127.0.0.1:5000":              {"helper-user", "helper-secret"},
				"https://index.docker.io/v1/": {"hub-user", "hub-secret"},
				"registry.example.com":        {"<token>", "helper-refresh-token"},
			})
			// A helper that fails, quoting secrets of the config on both streams.
			writeScript(t, bin, "docker-credential-broken",
				"echo 'keychain locked, tried leaked-pw, leaked-token' >&2\n"+
					"echo 'cannot read "+b64("ci:leaked-pw")+"'\nexit 3\n")
			writeScript(t, bin, "docker-credential-slow", "sleep 30\n")
			if tc.config != "" {
				if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tc.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tc.noDir {
				dir = ""
			}
			r := resolver{
				// Only helpers in bin exist: the machine's own PATH is never searched.
				lookPath: func(file string) (string, error) {
					p := filepath.Join(bin, file)
					if _, err := os.Stat(p); err != nil {
						return "", exec.ErrNotFound
					}
					return p, nil
				},
				timeout: 10 * time.Second,
			}
			if strings.Contains(tc.name, "times out") {
				r.timeout = 200 * time.Millisecond
			}
			got, err := r.credentials(tc.ref, tc.explicit, dir)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("credentials = %+v, want an error containing %q", got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tc.wantErr)
				}
				if tc.name == "corrupt config names the file" && !strings.Contains(err.Error(), filepath.Join(dir, "config.json")) {
					t.Errorf("error %q does not name %s", err, filepath.Join(dir, "config.json"))
				}
				for _, s := range tc.notInErr {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q contains %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("credentials: %v", err)
			}
			if got != tc.want {
				t.Errorf("credentials = %#v (user %q), want user %q with the expected secrets", got, got.Username, tc.want.Username)
				if got.Password != tc.want.Password {
					t.Errorf("password differs from the expected one")
				}
				if got.IdentityToken != tc.want.IdentityToken {
					t.Errorf("identity token differs from the expected one")
				}
			}
		})
	}
}

func TestAuthDoesNotPrintPassword(t *testing.T) {
	t.Parallel()
	a := Auth{Username: "bob", Password: "hunter2-very-secret"}
	wrapped := struct{ Auth Auth }{a}
	outputs := map[string]string{
		"%v":         fmt.Sprintf("%v", a),
		"%+v":        fmt.Sprintf("%+v", a),
		"%#v":        fmt.Sprintf("%#v", a),
		"%s":         fmt.Sprintf("%s", a),
		"%q":         fmt.Sprintf("%q", a),
		"%+v nested": fmt.Sprintf("%+v", wrapped),
		"%#v nested": fmt.Sprintf("%#v", wrapped),
		"%v pointer": fmt.Sprintf("%v", &a),
		"String":     a.String(),
	}
	js, err := json.Marshal(wrapped)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(js)
	for verb, out := range outputs {
		if strings.Contains(out, a.Password) {
			t.Errorf("%s prints the password: %s", verb, out)
		}
		if !strings.Contains(out, "***") || !strings.Contains(out, "bob") {
			t.Errorf("%s = %s, want the username and ***", verb, out)
		}
	}
	if got := fmt.Sprintf("%+v", a); got != "{Username:bob Password:***}" {
		t.Errorf("%%+v = %s", got)
	}
	if got := fmt.Sprintf("%v", Auth{}); got != "{ }" {
		t.Errorf("anonymous %%v = %q, want no *** for an empty password", got)
	}
}

func TestAuthDoesNotPrintIdentityToken(t *testing.T) {
	t.Parallel()
	const token = "refresh-tok-0f9e8d7c"
	for _, a := range []Auth{
		{Username: "alice", IdentityToken: token},
		{IdentityToken: token},
		{Username: "alice", Password: "pw-2b3c4d", IdentityToken: token},
	} {
		wrapped := struct{ Auth Auth }{a}
		outputs := map[string]string{
			"%v":         fmt.Sprintf("%v", a),
			"%+v":        fmt.Sprintf("%+v", a),
			"%#v":        fmt.Sprintf("%#v", a),
			"%s":         fmt.Sprintf("%s", a),
			"%q":         fmt.Sprintf("%q", a),
			"%x":         fmt.Sprintf("%x", a),
			"%+v nested": fmt.Sprintf("%+v", wrapped),
			"%#v nested": fmt.Sprintf("%#v", wrapped),
			"%v pointer": fmt.Sprintf("%v", &a),
			"error":      fmt.Errorf("pushing: %v", a).Error(),
		}
		js, err := json.Marshal(wrapped)
		if err != nil {
			t.Fatal(err)
		}
		outputs["json"] = string(js)
		for verb, out := range outputs {
			if strings.Contains(out, token) || a.Password != "" && strings.Contains(out, a.Password) {
				t.Errorf("%s prints a secret: %s", verb, out)
			}
			if !strings.Contains(out, "***") || !strings.Contains(out, a.Username) {
				t.Errorf("%s = %s, want the username and ***", verb, out)
			}
		}
		if got, want := fmt.Sprintf("%+v", a), "IdentityToken:***}"; !strings.HasSuffix(got, want) {
			t.Errorf("%%+v = %s, want it to end with %s", got, want)
		}
		var back struct{ Auth map[string]string }
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		if back.Auth["identitytoken"] != "***" {
			t.Errorf("json = %s, want identitytoken ***", js)
		}
	}
}

// The resolver reads only the directory it is given: not $DOCKER_CONFIG, $HOME
// or $DOCKER_AUTH_CONFIG, which the docker CLI's config package would otherwise
// consult.
func TestCredentialsIgnoreTheEnvironment(t *testing.T) {
	home := t.TempDir()
	login := `{"auths":{"127.0.0.1:5000":{"auth":"` + b64("env-user:env-pw") + `"}}}`
	if err := os.MkdirAll(filepath.Join(home, ".docker"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".docker", "config.json"), []byte(login), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, ".docker"))
	t.Setenv("DOCKER_AUTH_CONFIG", login)
	for _, dir := range []string{"", t.TempDir()} {
		got, err := credentialsFor("127.0.0.1:5000/app", Auth{}, dir)
		if err != nil {
			t.Fatalf("credentialsFor(dir %q): %v", dir, err)
		}
		if !got.IsZero() {
			t.Errorf("credentialsFor(dir %q) = %v, want anonymous: the environment is not the given directory", dir, got)
		}
	}
	// The same file in the given directory is read.
	got, err := credentialsFor("127.0.0.1:5000/app", Auth{}, filepath.Join(home, ".docker"))
	if err != nil || got.Username != "env-user" || got.Password != "env-pw" {
		t.Errorf("credentialsFor(the directory) = %v, %v; want env-user's login", got, err)
	}
}

func TestEncodeAuth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ref, addr string
		auth      Auth
	}{
		{"127.0.0.1:5000/x:t", "127.0.0.1:5000", Auth{Username: "u", Password: "p"}},
		{"alice/app", "https://index.docker.io/v1/", Auth{Username: "alice", Password: "pw"}},
		{"127.0.0.1:5000/x", "", Auth{}},
		{"ghcr.io/org/x", "ghcr.io", Auth{IdentityToken: "refresh-tok"}},
		{"alice/app", "https://index.docker.io/v1/", Auth{Username: "alice", IdentityToken: "refresh-tok"}},
	} {
		enc, err := encodeAuth(tc.ref, tc.auth)
		if err != nil {
			t.Fatalf("encodeAuth(%s): %v", tc.ref, err)
		}
		// The daemon decodes it with this function.
		got, err := authconfig.Decode(enc)
		if err != nil {
			t.Fatalf("daemon-side decode of %s: %v", tc.ref, err)
		}
		if got.Username != tc.auth.Username || got.Password != tc.auth.Password || got.IdentityToken != tc.auth.IdentityToken || got.ServerAddress != tc.addr {
			t.Errorf("%s: decoded user %q server %q, want %q %q (password equal: %v, identity token equal: %v)",
				tc.ref, got.Username, got.ServerAddress, tc.auth.Username, tc.addr,
				got.Password == tc.auth.Password, got.IdentityToken == tc.auth.IdentityToken)
		}
	}
	if _, err := encodeAuth("Bad Ref", Auth{Username: "u", Password: "p"}); err == nil {
		t.Errorf("encodeAuth of a bad reference: got no error")
	}
}
