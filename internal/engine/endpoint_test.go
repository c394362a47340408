package engine

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"

	"github.com/rust-s2i/rust-s2i-musl/test/testpki"
)

// fixture is a Docker config directory as `docker context create` leaves it: the
// contexts "plain" (tcp, no TLS), "tlsctx" (tcp with the CA and a client
// certificate) and "sshctx", and a DOCKER_CERT_PATH directory "certs".
type fixture struct {
	root, config, certs string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	root := t.TempDir()
	f := fixture{root: root, config: filepath.Join(root, ".docker"), certs: filepath.Join(root, "certs")}
	ca, err := testpki.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := ca.Client()
	if err != nil {
		t.Fatal(err)
	}
	if err := testpki.WriteCertPath(f.certs, ca.PEM, cl); err != nil {
		t.Fatal(err)
	}
	// Written with the docker CLI's own store, as `docker context create` writes them.
	s := store.New(filepath.Join(f.config, "contexts"), store.NewConfig(nil,
		store.EndpointTypeGetter(docker.DockerEndpoint, func() any { return &docker.EndpointMeta{} })))
	for name, host := range map[string]string{"plain": "tcp://10.9.9.9:2375", "tlsctx": "tcp://10.9.9.9:2376", "sshctx": "ssh://me@example.test:2222"} {
		meta := store.Metadata{Name: name, Endpoints: map[string]any{docker.DockerEndpoint: docker.EndpointMeta{Host: host}}}
		if err := s.CreateOrUpdate(meta); err != nil {
			t.Fatal(err)
		}
	}
	err = s.ResetEndpointTLSMaterial("tlsctx", docker.DockerEndpoint, &store.EndpointTLSData{
		Files: map[string][]byte{"ca.pem": ca.PEM, "cert.pem": cl.Cert, "key.pem": cl.Key},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fixture) setCurrent(t *testing.T, name string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.config, "config.json"), []byte(`{"currentContext":"`+name+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// tlsFiles names the TLS material an endpoint carries, as `docker context inspect`
// lists it under TLSMaterial.
func (e Endpoint) tlsFiles() []string {
	d := e.ep.TLSData
	if d == nil {
		return nil
	}
	var files []string
	for name, b := range map[string][]byte{"ca.pem": d.CA, "cert.pem": d.Cert, "key.pem": d.Key} {
		if b != nil {
			files = append(files, name)
		}
	}
	slices.Sort(files)
	return files
}

func TestResolve(t *testing.T) {
	t.Parallel()
	all := []string{"ca.pem", "cert.pem", "key.pem"}
	tests := []struct {
		name    string
		env     map[string]string // DOCKER_CONFIG is the fixture's unless set; {certs} and {root} are the fixture's
		current string            // config.json's currentContext
		host    string
		context string
		skip    bool // SkipTLSVerify
		files   []string
	}{
		{name: "nothing set: the local socket", host: "unix:///var/run/docker.sock", context: "default"},
		{name: "tcp without a port gets 2375", env: map[string]string{"DOCKER_HOST": "tcp://docker"}, host: "tcp://docker:2375", context: "default"},
		{name: "docker:dind with TLS", env: map[string]string{"DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "{certs}"},
			host: "tcp://docker:2376", context: "default", files: all},
		{name: "DOCKER_TLS_VERIFY=0 still verifies, as in the docker CLI", env: map[string]string{"DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS_VERIFY": "0", "DOCKER_CERT_PATH": "{certs}"},
			host: "tcp://docker:2376", context: "default", files: all},
		{name: "TLS without a host is localhost:2376", env: map[string]string{"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "{certs}"},
			host: "tcp://localhost:2376", context: "default", files: all},
		{name: "DOCKER_TLS alone does not verify", env: map[string]string{"DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS": "1", "DOCKER_CERT_PATH": "{certs}"},
			host: "tcp://docker:2376", context: "default", skip: true, files: all},
		{name: "TLS over a socket is not used", env: map[string]string{"DOCKER_HOST": "unix:///run/x.sock", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "{certs}"},
			host: "unix:///run/x.sock", context: "default", files: all},
		{name: "ssh", env: map[string]string{"DOCKER_HOST": "ssh://me@build-host:2222"}, host: "ssh://me@build-host:2222", context: "default"},
		{name: "DOCKER_CONTEXT", env: map[string]string{"DOCKER_CONTEXT": "plain"}, host: "tcp://10.9.9.9:2375", context: "plain"},
		{name: "a context's TLS material", env: map[string]string{"DOCKER_CONTEXT": "tlsctx"}, host: "tcp://10.9.9.9:2376", context: "tlsctx", files: all},
		{name: "the TLS variables do not apply to a context", env: map[string]string{"DOCKER_CONTEXT": "plain", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/nonexistent"},
			host: "tcp://10.9.9.9:2375", context: "plain"},
		{name: "an ssh context", env: map[string]string{"DOCKER_CONTEXT": "sshctx"}, host: "ssh://me@example.test:2222", context: "sshctx"},
		{name: "DOCKER_HOST beats DOCKER_CONTEXT", env: map[string]string{"DOCKER_HOST": "tcp://h:1", "DOCKER_CONTEXT": "plain"}, host: "tcp://h:1", context: "default"},
		{name: "DOCKER_HOST beats currentContext", env: map[string]string{"DOCKER_HOST": "tcp://h:1"}, current: "plain", host: "tcp://h:1", context: "default"},
		{name: "currentContext", current: "sshctx", host: "ssh://me@example.test:2222", context: "sshctx"},
		{name: "DOCKER_CONTEXT beats currentContext", env: map[string]string{"DOCKER_CONTEXT": "plain"}, current: "sshctx", host: "tcp://10.9.9.9:2375", context: "plain"},
		{name: "DOCKER_CONTEXT=default beats currentContext", env: map[string]string{"DOCKER_CONTEXT": "default"}, current: "sshctx", host: "unix:///var/run/docker.sock", context: "default"},
		{name: "the cert path defaults to the config directory", env: map[string]string{"DOCKER_CONFIG": "{certs}", "DOCKER_TLS_VERIFY": "1", "DOCKER_HOST": "tcp://docker:2376"},
			host: "tcp://docker:2376", context: "default", files: all},
		{name: "HOME/.docker is the config directory", env: map[string]string{"DOCKER_CONFIG": "", "HOME": "{root}"}, current: "plain", host: "tcp://10.9.9.9:2375", context: "plain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if tc.current != "" {
				f.setCurrent(t, tc.current)
			}
			env := map[string]string{"DOCKER_CONFIG": f.config}
			for k, v := range tc.env {
				env[k] = strings.NewReplacer("{certs}", f.certs, "{root}", f.root).Replace(v)
			}
			e, err := Resolve(mapEnv(env))
			if err != nil {
				t.Fatal(err)
			}
			if e.Host != tc.host || e.Context != tc.context {
				t.Errorf("host %q in context %q, want %q in %q", e.Host, e.Context, tc.host, tc.context)
			}
			if e.ep.SkipTLSVerify != tc.skip {
				t.Errorf("SkipTLSVerify %v, want %v", e.ep.SkipTLSVerify, tc.skip)
			}
			if got := e.tlsFiles(); !slices.Equal(got, tc.files) {
				t.Errorf("TLS material %v, want %v", got, tc.files)
			}
		})
	}
}

// A client certificate is optional: without cert.pem and key.pem only the daemon is
// verified, as with the docker CLI.
func TestResolveCAOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca, err := testpki.NewCA("ca")
	if err != nil {
		t.Fatal(err)
	}
	if err := testpki.WriteCertPath(dir, ca.PEM, testpki.Pair{}); err != nil {
		t.Fatal(err)
	}
	e, err := Resolve(mapEnv(map[string]string{"DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.tlsFiles(); !slices.Equal(got, []string{"ca.pem"}) {
		t.Errorf("TLS material %v, want only ca.pem", got)
	}
}

// Every way the endpoint cannot be resolved is one line that names what to fix.
func TestResolveErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		current string
		prepare func(t *testing.T, f fixture)
		want    string
	}{
		{name: "unknown DOCKER_CONTEXT", env: map[string]string{"DOCKER_CONTEXT": "nope"},
			want: `the Docker context "nope" (from DOCKER_CONTEXT) does not exist in {config}/contexts: check ` + "`docker context ls`" + ` with DOCKER_CONFIG={config}`},
		{name: "unknown currentContext", current: "gone",
			want: `the Docker context "gone" (from currentContext in {config}/config.json) does not exist in {config}/contexts`},
		{name: "no ca.pem in DOCKER_CERT_PATH", env: map[string]string{"DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "{root}/empty"},
			want: "DOCKER_TLS_VERIFY asks for TLS, but there is no ca.pem in DOCKER_CERT_PATH={root}/empty: point DOCKER_CERT_PATH at the directory with the daemon's ca.pem, and cert.pem and key.pem for a daemon with --tlsverify"},
		{name: "no ca.pem in the config directory", env: map[string]string{"DOCKER_TLS": "1"},
			want: "DOCKER_TLS asks for TLS, but there is no ca.pem in the Docker config directory {config} (DOCKER_CERT_PATH is unset)"},
		{name: "TLS and nowhere to look", env: map[string]string{"DOCKER_CONFIG": "", "DOCKER_TLS_VERIFY": "1"},
			want: "DOCKER_TLS_VERIFY asks for TLS but neither DOCKER_CERT_PATH nor HOME is set"},
		{name: "a bad DOCKER_HOST", env: map[string]string{"DOCKER_HOST": "http://docker:2375"},
			want: "DOCKER_HOST=http://docker:2375 is not a Docker daemon address (unix:///path, tcp://host:port or ssh://user@host)"},
		{name: "a broken config.json", prepare: func(t *testing.T, f fixture) {
			os.WriteFile(filepath.Join(f.config, "config.json"), []byte("{not json"), 0o600)
		}, want: "reading the Docker config in {config} to find the current Docker context (fix the file, or set DOCKER_HOST or DOCKER_CONTEXT)"},
		{name: "a garbage ca.pem", env: map[string]string{"DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "{certs}"},
			prepare: func(t *testing.T, f fixture) {
				os.WriteFile(filepath.Join(f.certs, "ca.pem"), []byte("garbage"), 0o600)
			},
			want: "the TLS certificates for the Docker daemon at tcp://docker:2376 in DOCKER_CERT_PATH={certs} are not usable (ca.pem seems invalid): check that ca.pem, cert.pem and key.pem are PEM files and that cert.pem belongs to key.pem"},
		{name: "a key of another certificate", env: map[string]string{"DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "{certs}"},
			prepare: func(t *testing.T, f fixture) {
				ca, _ := testpki.NewCA("other")
				other, _ := ca.Client()
				os.WriteFile(filepath.Join(f.certs, "key.pem"), other.Key, 0o600)
			},
			want: "the TLS certificates for the Docker daemon at tcp://docker:2376 in DOCKER_CERT_PATH={certs} are not usable (private key does not match public key)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if tc.current != "" {
				f.setCurrent(t, tc.current)
			}
			if tc.prepare != nil {
				tc.prepare(t, f)
			}
			r := strings.NewReplacer("{certs}", f.certs, "{root}", f.root, "{config}", f.config)
			env := map[string]string{"DOCKER_CONFIG": f.config}
			for k, v := range tc.env {
				env[k] = r.Replace(v)
			}
			_, err := Resolve(mapEnv(env))
			if err == nil {
				t.Fatal("resolved")
			}
			msg := err.Error()
			if want := r.Replace(tc.want); !strings.HasPrefix(msg, want) {
				t.Errorf("error\n  %s\nwant it to start with\n  %s", msg, want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error has more than one line:\n%s", msg)
			}
		})
	}
}

// The S2I child resolves what its parent resolved from ChildEnv alone, even when the
// current context changes in between and the child inherits other variables.
func TestChildEnvPinsTheEndpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.setCurrent(t, "sshctx")
	parent, err := Resolve(mapEnv(map[string]string{"DOCKER_CONFIG": f.config}))
	if err != nil {
		t.Fatal(err)
	}
	f.setCurrent(t, "plain") // `docker context use plain` while the build runs
	inherited := map[string]string{"DOCKER_HOST": "tcp://elsewhere:2375", "DOCKER_CONFIG": "/nonexistent"}
	for _, kv := range parent.ChildEnv() {
		k, v, _ := strings.Cut(kv, "=")
		inherited[k] = v
	}
	child, err := Resolve(mapEnv(inherited))
	if err != nil {
		t.Fatal(err)
	}
	if child.Host != parent.Host || child.Context != parent.Context {
		t.Errorf("child resolved %s (%s), parent %s (%s)", child.Host, child.Context, parent.Host, parent.Context)
	}
}

// The config directory is found as the docker CLI finds it.
func TestConfigDir(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"DOCKER_CONFIG": "/cfg", "HOME": "/home/u"}, "/cfg"},
		{map[string]string{"HOME": "/home/u"}, "/home/u/.docker"},
		{map[string]string{}, ""},
	} {
		if got := ConfigDir(env(tc.env)); got != tc.want {
			t.Errorf("ConfigDir(%v) = %q, want %q", tc.env, got, tc.want)
		}
	}
}
