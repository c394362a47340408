package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The engine and buildkit-* settings, checked with the rest by Validate and
// Preflight: each bad one named in the front end's words.
func TestValidateBuildKit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pem := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca, cert, key := pem("ca.pem"), pem("cert.pem"), pem("key.pem")
	mtls := func(c *Config) {
		c.BuildKit.TLS = BuildKitTLS{CACert: ca, Cert: cert, Key: key, ServerName: "buildkitd"}
	}
	tests := []struct {
		name   string
		in     func(*Config)
		naming Naming
		want   []string // the settings named, in order; nil means valid
		says   []string // and what the errors say
	}{
		{"auto with nothing set", func(*Config) {}, FlagNaming, nil, nil},
		{"docker", func(c *Config) { c.Engine = EngineDocker }, FlagNaming, nil, nil},
		{"buildkit on a unix socket", func(c *Config) {
			c.Engine, c.BuildKit.Host = EngineBuildKit, "unix:///run/buildkit/buildkitd.sock"
		}, FlagNaming, nil, nil},
		{"buildkit over tcp with mutual TLS", func(c *Config) {
			c.Engine, c.BuildKit.Host = EngineBuildKit, "tcp://buildkitd.ci.svc:1234"
			mtls(c)
		}, FlagNaming, nil, nil},
		{"buildkit from BUILDKIT_HOST", func(c *Config) {
			c.Engine, c.BuildKit.EnvHost = EngineBuildKit, "tcp://10.0.0.7:1234"
			mtls(c)
		}, InputNaming, nil, nil},
		{"the setting wins over BUILDKIT_HOST", func(c *Config) {
			c.Engine, c.BuildKit.Host, c.BuildKit.EnvHost = EngineBuildKit, "tcp://buildkitd:1234", "docker-container://buildx"
		}, FlagNaming, nil, nil},
		// buildctl's own addresses in BUILDKIT_HOST do not fail a build the Docker
		// Engine does.
		{"auto with an address we do not take in BUILDKIT_HOST", func(c *Config) {
			c.BuildKit.EnvHost = "docker-container://buildx_buildkit_default"
		}, FlagNaming, nil, nil},
		{"docker ignores a unix BUILDKIT_HOST beside TLS settings", func(c *Config) {
			c.Engine, c.BuildKit.EnvHost = EngineDocker, "unix:///run/buildkit/buildkitd.sock"
			mtls(c)
		}, FlagNaming, nil, nil},

		{"unknown engine", func(c *Config) { c.Engine = "kubernetes" }, InputNaming,
			[]string{"engine"}, []string{`engine: "kubernetes" is not one of auto, docker, buildkit`}},
		{"buildkit with no address", func(c *Config) { c.Engine = EngineBuildKit }, PluginNaming,
			[]string{"buildkit_host"}, []string{"buildkit_host: is required with engine buildkit", "BUILDKIT_HOST", "unix:///PATH or tcp://HOST:PORT"}},
		{"an address of another kind", func(c *Config) { c.BuildKit.Host = "ssh://user@builder" }, FlagNaming,
			[]string{"--buildkit-host"}, []string{`"ssh://user@builder" is not a buildkitd address, unix:///PATH or tcp://HOST:PORT (another scheme)`}},
		{"a bare host", func(c *Config) { c.BuildKit.Host = "buildkitd:1234" }, FlagNaming,
			[]string{"--buildkit-host"}, nil},
		{"tcp without a port", func(c *Config) { c.BuildKit.Host = "tcp://buildkitd" }, FlagNaming,
			[]string{"--buildkit-host"}, []string{"no host and port"}},
		{"tcp with a path", func(c *Config) { c.BuildKit.Host = "tcp://buildkitd:1234/x" }, FlagNaming,
			[]string{"--buildkit-host"}, []string{"(a path after the port)"}},
		{"unix without a socket", func(c *Config) { c.BuildKit.Host = "unix://" }, FlagNaming,
			[]string{"--buildkit-host"}, []string{"(no socket path)"}},
		{"buildkit with a bad BUILDKIT_HOST", func(c *Config) {
			c.Engine, c.BuildKit.EnvHost = EngineBuildKit, "docker-container://buildx"
		}, InputNaming, []string{"buildkit-host"}, []string{`buildkit-host: is not set, and BUILDKIT_HOST="docker-container://buildx" is not`}},
		{"certificate without key", func(c *Config) {
			c.BuildKit.Host, c.BuildKit.TLS.Cert = "tcp://buildkitd:1234", cert
		}, PluginNaming, []string{"buildkit_tls_key"}, []string{"buildkit_tls_key: is required with buildkit_tls_cert"}},
		{"key without certificate", func(c *Config) {
			c.BuildKit.Host, c.BuildKit.TLS.Key = "tcp://buildkitd:1234", key
		}, FlagNaming, []string{"--buildkit-tls-cert"}, []string{"--buildkit-tls-cert: is required with --buildkit-tls-key"}},
		{"TLS with a unix socket", func(c *Config) {
			c.BuildKit.Host = "unix:///run/buildkit/buildkitd.sock"
			mtls(c)
		}, InputNaming, []string{"buildkit-tls-ca-cert", "buildkit-tls-cert", "buildkit-tls-key", "buildkit-tls-server-name"},
			[]string{"is for a tcp:// buildkitd, and unix:///run/buildkit/buildkitd.sock is a unix socket"}},
		{"TLS with a unix BUILDKIT_HOST", func(c *Config) {
			c.BuildKit.EnvHost, c.BuildKit.TLS.CACert = "unix:///run/user/1000/buildkit/buildkitd.sock", ca
		}, FlagNaming, []string{"--buildkit-tls-ca-cert"}, nil},
		{"TLS files that are not there", func(c *Config) {
			c.BuildKit.Host = "tcp://buildkitd:1234"
			c.BuildKit.TLS = BuildKitTLS{CACert: filepath.Join(dir, "nope.pem"), Cert: dir, Key: key}
		}, FlagNaming, []string{"--buildkit-tls-ca-cert", "--buildkit-tls-cert"},
			[]string{"nope.pem\" does not exist", "is a directory, not a file"}},
		{"every bad BuildKit input at once", func(c *Config) {
			c.Engine, c.BuildKit.Host = "k8s", "http://buildkitd:1234"
			c.BuildKit.TLS = BuildKitTLS{Cert: filepath.Join(dir, "nope.pem")}
			c.Binary = ""
		}, PluginNaming, []string{"binary", "engine", "buildkit_host", "buildkit_tls_key", "buildkit_tls_cert"},
			[]string{`engine: "k8s"`, `buildkit_host: "http://buildkitd:1234"`, "buildkit_tls_key: is required", "nope.pem\" does not exist"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tc.in(&c)
			err := joinFlat(c.Validate(tc.naming), c.Preflight(tc.naming))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if got := inputErrors(t, err); !slices.Equal(got, tc.want) {
				t.Errorf("bad %q, want %q:\n%v", got, tc.want, err)
			}
			for _, w := range tc.says {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// The TLS files are Preflight's, as every check of the disk is; Validate
// stays a function of the settings.
func TestBuildKitFilesArePreflights(t *testing.T) {
	t.Parallel()
	c := valid()
	c.Engine, c.BuildKit.Host = EngineBuildKit, "tcp://buildkitd:1234"
	c.BuildKit.TLS = BuildKitTLS{CACert: "/does/not/exist/ca.pem", Cert: "/does/not/exist/cert.pem", Key: "/does/not/exist/key.pem"}
	if err := c.Validate(FlagNaming); err != nil {
		t.Errorf("Validate: %v, want nil (the disk is Preflight's)", err)
	}
	if got := inputErrors(t, c.Preflight(FlagNaming)); !slices.Equal(got, []string{"--buildkit-tls-ca-cert", "--buildkit-tls-cert", "--buildkit-tls-key"}) {
		t.Errorf("Preflight named %q", got)
	}
}

// buildkit-host falls back to BUILDKIT_HOST in every front end; the action and
// the plugin read it in FromEnvironment, never as an input.
func TestBuildKitHostFromEnvironment(t *testing.T) {
	t.Parallel()
	for _, e := range []env{
		{"GITHUB_ACTIONS": "true", "INPUT_BINARY": "a", "INPUT_ENGINE": "buildkit", "BUILDKIT_HOST": " tcp://buildkitd:1234\n"},
		{"CI": "woodpecker", "PLUGIN_BINARY": "a", "PLUGIN_ENGINE": "buildkit", "BUILDKIT_HOST": "tcp://buildkitd:1234"},
	} {
		c, naming, source, err := FromEnvironment(e.get)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.BuildKit.Addr(); got != "tcp://buildkitd:1234" {
			t.Errorf("%s: address %q, want BUILDKIT_HOST's", source, got)
		}
		if err := c.Validate(naming); err != nil {
			t.Errorf("%s: %v", source, err)
		}
		e["INPUT_BUILDKIT-HOST"], e["PLUGIN_BUILDKIT_HOST"] = "unix:///run/buildkit/buildkitd.sock", "unix:///run/buildkit/buildkitd.sock"
		if c, _, _, _ := FromEnvironment(e.get); c.BuildKit.Addr() != "unix:///run/buildkit/buildkitd.sock" {
			t.Errorf("%s: address %q, want the setting's over BUILDKIT_HOST", source, c.BuildKit.Addr())
		}
	}
	var b BuildKit
	b.ReadEnvironment(env{}.get)
	if b.Addr() != "" {
		t.Errorf("no setting and no BUILDKIT_HOST give %q", b.Addr())
	}
}
