package config

import (
	"errors"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	builderimage "github.com/rust-s2i/rust-s2i-musl/s2i"
)

// token is a secret-looking value that no error may show.
const token = "tok-9f8e7d6c"

// An error about a secret setting names the setting and where the bad entry is
// (the line of the input or setting, the entry of the flags or of a JSON list),
// never the entry itself: a line without its = may be a bare token.
func TestSecretErrorsNameLineNotContent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		load func() error
		want []string
	}{
		{"action registry-auth without =", func() error {
			return loadAndValidate(env{"INPUT_BINARY": "x", "INPUT_REGISTRY-AUTH": "ghcr.io=u:p\n" + token}, FromInputs, InputNaming)
		}, []string{"registry-auth:", "line 2"}},
		{"action registry-auth without a user", func() error {
			return loadAndValidate(env{"INPUT_BINARY": "x", "INPUT_REGISTRY-AUTH": "ghcr.io=u:p\n\n" + token + "=x"}, FromInputs, InputNaming)
		}, []string{"registry-auth:", "line 3"}},
		{"action secret-env without =", func() error {
			return loadAndValidate(env{"INPUT_BINARY": "x", "INPUT_SECRET-ENV": "A=1\n\n" + token}, FromInputs, InputNaming)
		}, []string{"secret-env:", "line 3"}},
		{"plugin secret_env with a bad name", func() error {
			return loadAndValidate(env{"PLUGIN_BINARY": "x", "PLUGIN_SECRET_ENV": token + "=v\nB=2"}, FromPlugin, PluginNaming)
		}, []string{"secret_env:", "line 1"}},
		{"plugin secret_env JSON list", func() error {
			return loadAndValidate(env{"PLUGIN_BINARY": "x", "PLUGIN_SECRET_ENV": `["A=1", "` + token + `"]`}, FromPlugin, PluginNaming)
		}, []string{"secret_env:", "entry 2"}},
		{"flag --secret-env", func() error {
			c, err := ParseBuildFlags([]string{"--binary", "x", "--secret-env", "A=1", "--secret-env", token}, io.Discard)
			return errors.Join(err, c.Validate(FlagNaming))
		}, []string{"--secret-env:", "entry 2"}},
		{"bare name that is not set", func() error {
			_, err := Config{SecretEnv: []string{"A=1", "ghp_" + strings.ReplaceAll(token, "-", "_")}}.ResolveSecrets(FlagNaming, env{}.get)
			return err
		}, []string{"--secret-env:", "entry 2", "not set"}},
		{"registry-auth entry in a Config", func() error {
			return Config{Registry: Registry{Auth: []string{"ghcr.io=u:p", token}}}.Registry.validateErr(InputNaming)
		}, []string{"registry-auth:", "entry 2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.load()
			checkInput(t, err, tc.want)
			if err != nil && strings.Contains(strings.ReplaceAll(err.Error(), "_", "-"), token) {
				t.Errorf("the error shows the secret entry: %v", err)
			}
		})
	}
}

// loadAndValidate runs a front end and Validate, as the CLI does.
func loadAndValidate(e env, from func(func(string) string) (Config, error), name Naming) error {
	c, err := from(e.get)
	return errors.Join(err, c.Validate(name))
}

// validateErr joins what validate finds, for a test.
func (r Registry) validateErr(name Naming) error { return errors.Join(r.validate(name)...) }

// A secret-env value may hold commas (a URL's query): entries are one a line. A
// line of bare names separated by commas is still a list (a Woodpecker YAML list
// arrives so), as no name holds a comma.
func TestSecretEnvValueKeepsCommas(t *testing.T) {
	t.Parallel()
	const url = "DB_URL=postgres://x/y?a=1,b=2"
	tests := []struct {
		name string
		e    env
		from func(func(string) string) (Config, error)
		want []string
	}{
		{"action", env{"INPUT_SECRET-ENV": url}, FromInputs, []string{url}},
		{"action, two lines", env{"INPUT_SECRET-ENV": url + "\nTOKEN=a,b"}, FromInputs, []string{url, "TOKEN=a,b"}},
		{"action, bare names", env{"INPUT_SECRET-ENV": "A, B\nC"}, FromInputs, []string{"A", "B", "C"}},
		{"plugin", env{"PLUGIN_SECRET_ENV": url}, FromPlugin, []string{url}},
		{"plugin, YAML list of bare names", env{"PLUGIN_SECRET_ENV": "A,B"}, FromPlugin, []string{"A", "B"}},
		{"plugin, JSON list", env{"PLUGIN_SECRET_ENV": `["` + url + `", "B=x,y"]`}, FromPlugin, []string{url, "B=x,y"}},
		{"plugin, JSON map", env{"PLUGIN_SECRET_ENV": `{"DB_URL": "postgres://x/y?a=1,b=2"}`}, FromPlugin, []string{url}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := tc.from(tc.e.get)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.SecretEnv, tc.want) {
				t.Errorf("secret-env %q, want %q", c.SecretEnv, tc.want)
			}
		})
	}
	c, err := ParseBuildFlags([]string{"--secret-env", url, "--secret-env", "B"}, io.Discard)
	if err != nil || !slices.Equal(c.SecretEnv, []string{url, "B"}) {
		t.Errorf("flags: secret-env %q (%v)", c.SecretEnv, err)
	}
}

// Names the builder's scripts use for themselves are refused in env and
// secret-env, where they would clobber them: the scripts' inputs (BINARY,
// RUST_TARGET, RUST_S2I_* in env), the image's layout (HOME, PATH, CARGO_HOME,
// CARGO_TARGET_DIR). assemble's own variables are out of a secret's reach
// (TestAssembleSecretsCannotClobber). RUST_S2I_LINKER is the one knob for env.
func TestReservedNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		env    []string
		secret []string
		want   []string // nil: valid
	}{
		{"a user's variables", []string{"RUSTFLAGS=-C opt-level=s", "RUST_S2I_LINKER=default", "app=1"}, []string{"RUSTFLAGS=x", "CARGO_REGISTRIES_MY_TOKEN=t"}, nil},
		{"BINARY in env", []string{"BINARY=other"}, nil, []string{"--env: BINARY is the builder scripts' own", "RUST_S2I_* but RUST_S2I_LINKER"}},
		{"RUST_S2I_ in env", []string{"RUST_S2I_PROFILE=dev"}, nil, []string{"--env: RUST_S2I_PROFILE is the builder scripts' own"}},
		{"the layout in env", []string{"HOME=/x", "PATH=/bin", "CARGO_HOME=/c", "CARGO_TARGET_DIR=/t", "RUST_TARGET=x"}, nil,
			[]string{"--env: HOME, PATH, CARGO_HOME, CARGO_TARGET_DIR, RUST_TARGET are the builder scripts' own"}},
		{"assemble's shell variables in secret-env, out of their reach", nil, []string{"app=/", "target=t", "IFS=x"}, nil},
		{"the scripts' namespace in secret-env, out of their reach", nil, []string{"RUST_S2I_LINKER=default", "RUST_S2I_TEST_SECRET=s"}, nil},
		{"the layout in secret-env", nil, []string{"CARGO_HOME=/c", "PATH=/p"}, []string{"--secret-env: CARGO_HOME, PATH are the builder scripts' own"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Defaults()
			c.Binary, c.Env, c.SecretEnv = "x", tc.env, tc.secret
			checkInput(t, c.Validate(FlagNaming), tc.want)
		})
	}
}

// Every environment variable the builder's scripts set or read is reserved in
// secret-env, so that a new one in the scripts cannot be clobbered unnoticed. The
// scripts' own shell variables are lower case and out of reach: assemble loads the
// secrets in the subshell that runs cargo.
func TestReservedNamesCoverTheScripts(t *testing.T) {
	t.Parallel()
	var seen []string
	ref := regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)|(?:^|[;\s])([A-Za-z_][A-Za-z0-9_]*)=`)
	for _, script := range []string{"bin/assemble", "bin/save-artifacts"} {
		data, err := fs.ReadFile(builderimage.Files, script)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ref.FindAllStringSubmatch(string(data), -1) {
			n := m[1] + m[2]
			if n == "RUSTFLAGS" || n == "IFS" || strings.ToUpper(n) != n || strings.HasPrefix(n, reservedPrefix) {
				// the user's, which assemble appends to; the shell's; a script's own; the
				// scripts' namespace, read before the subshell that loads the secrets
				continue
			}
			if !reserved(n, true) && !slices.Contains(seen, n) {
				seen = append(seen, n)
				t.Errorf("%s uses %s, which secret-env does not reserve", script, n)
			}
		}
	}
}

// The names we tag and push, given or made from the binary, follow the reference
// grammar of github.com/distribution/reference and are names, not digests; the
// cache key prefix and the output file are checked too. All of it before anything
// runs (exit 2), not when the daemon refuses (exit 1).
func TestValidateNamesPrefixOutputFile(t *testing.T) {
	t.Parallel()
	digest := "@sha256:" + strings.Repeat("a", 64)
	tests := []struct {
		name string
		in   func(*Config)
		want []string // nil: valid
	}{
		{"good names", func(c *Config) {
			c.Image, c.Tags, c.TmpImage, c.Builder = "ghcr.io/o/app:1", []string{"ghcr.io/o/app:latest"}, "app-tmp", "ghcr.io/o/b"+digest
		}, nil},
		{"image foo_", func(c *Config) { c.Image = "foo_" }, []string{"--image:"}},
		{"image _foo", func(c *Config) { c.Image = "_foo" }, []string{"--image:"}},
		{"tag foo-", func(c *Config) { c.Tags = []string{"ghcr.io/o/app:1", "foo-"} }, []string{"--tags:"}},
		{"binary foo_ makes bad default names", func(c *Config) { c.Binary = "foo_" }, []string{
			"--image: is not set, and the name made from --binary, rust-musl-foo_,", "--tmp-image: is not set, and the name made from --binary, rust-musl-foo_-tmp,"}},
		{"binary _foo", func(c *Config) { c.Binary = "_foo" }, []string{"--image:", "--tmp-image:"}},
		{"binary foo_ with the names set", func(c *Config) { c.Binary, c.Image, c.TmpImage = "foo_", "foo", "foo-tmp" }, nil},
		{"image digest", func(c *Config) { c.Image = "ghcr.io/o/app" + digest }, []string{"--image:", "digest"}},
		{"tag and digest", func(c *Config) { c.Tags = []string{"ghcr.io/o/app:1" + digest} }, []string{"--tags:", "digest"}},
		{"tmp-image digest", func(c *Config) { c.TmpImage = "app" + digest }, []string{"--tmp-image:", "digest"}},
		{"prefix with a branch", func(c *Config) { c.Cache.KeyPrefix = "feature/x-1.2_3" }, nil},
		{"prefix with a newline", func(c *Config) { c.Cache.KeyPrefix = "p\nevil" }, []string{"--cache-key-prefix:"}},
		{"prefix with a space", func(c *Config) { c.Cache.KeyPrefix = "a b" }, []string{"--cache-key-prefix:"}},
		{"prefix with a comma", func(c *Config) { c.Cache.KeyPrefix = "a,b" }, []string{"--cache-key-prefix:"}},
		{"empty prefix", func(c *Config) { c.Cache.KeyPrefix = "" }, []string{"--cache-key-prefix:"}},
		{"long prefix", func(c *Config) { c.Cache.KeyPrefix = strings.Repeat("p", 101) }, []string{"--cache-key-prefix:", "100"}},
		{"output file", func(c *Config) { c.OutputFile = "out/rust-s2i-musl.env" }, nil},
		{"blank output file", func(c *Config) { c.OutputFile = " \t" }, []string{"--output-file:"}},
		{"output file with NUL", func(c *Config) { c.OutputFile = "a\x00b" }, []string{"--output-file:"}},
		{"output file with a newline", func(c *Config) { c.OutputFile = "a\nb" }, []string{"--output-file:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Defaults()
			c.Binary = "app"
			tc.in(&c)
			checkInput(t, c.Validate(FlagNaming), tc.want)
		})
	}
}
