package config

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func hello() string { return filepath.Join("..", "..", "examples", "hello") }

func valid() Config {
	c := Defaults()
	c.Binary = "hello"
	c.Source = hello()
	return c
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   func(*Config)
		want []string // each must appear; nil means valid
	}{
		{"defaults with a binary", func(*Config) {}, nil},
		{"git url source is not checked on disk", func(c *Config) { c.Source = "https://example.com/x.git" }, nil},
		{"missing binary", func(c *Config) { c.Binary = "" }, []string{"--binary: is required"}},
		{"binary with a slash", func(c *Config) { c.Binary = "a/b" }, []string{"--binary:", `"a/b"`}},
		{"unknown binary", func(c *Config) { c.Binary = "nope" }, []string{"--binary:", `"nope"`, "hello"}},
		{"missing source dir", func(c *Config) { c.Source = "/does/not/exist" }, []string{"--source:", "does not exist"}},
		{"source without Cargo.toml", func(c *Config) { c.Source = "." }, []string{"--source:", "no Cargo.toml"}},
		{"bad image", func(c *Config) { c.Image = "Bad Image" }, []string{"--image:", "not a valid image reference"}},
		{"bad tmp image", func(c *Config) { c.TmpImage = "UPPER" }, []string{"--tmp-image:"}},
		{"empty builder", func(c *Config) { c.Builder = "" }, []string{"--builder: is required"}},
		{"bad target", func(c *Config) { c.Target = "x86 64" }, []string{"--target:"}},
		{"bad env", func(c *Config) { c.Env = []string{"NOEQUALS", "1X=2"} }, []string{`--env: "NOEQUALS"`, `--env: "1X=2"`}},
		{"bad network", func(c *Config) { c.Network = "overlay" }, []string{"--network:"}},
		{"bad cache", func(c *Config) { c.Cache.Backend = "redis" }, []string{"--cache:", "none, local, gha, s3"}},
		{"local cache without dir", func(c *Config) { c.Cache.Backend = "local" }, []string{"--cache-dir: is required"}},
		{"s3 cache", func(c *Config) { c.Cache.Backend, c.Cache.S3.Bucket = "s3", "ci-cache" }, nil},
		{"s3 cache without bucket", func(c *Config) { c.Cache.Backend = "s3" }, []string{"--cache-bucket: is required with cache s3"}},
		{"all at once", func(c *Config) {
			c.Binary, c.Source, c.Image, c.Cache.Backend = "", "/nope", "A B", "redis"
		}, []string{"--binary:", "--source:", "--image:", "--cache:"}},
		{"all at once with s3", func(c *Config) {
			c.Binary, c.Source, c.Cache.Backend = "", "/nope", "s3"
		}, []string{"--binary:", "--source:", "--cache-bucket:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tc.in(&c)
			err := errors.Join(c.Validate(FlagNaming), c.Preflight(FlagNaming))
			checkInput(t, err, tc.want)
			if err != nil && tc.name == "all at once" && len(strings.Split(err.Error(), "\n")) < len(tc.want) {
				t.Errorf("want every problem on its own line, got:\n%v", err)
			}
		})
	}
}

// checkInput checks that err is nil when want is, and otherwise an InputError that
// says each of want.
func checkInput(t *testing.T, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("want valid, got %v", err)
		}
		return
	}
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v is not an InputError", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

// Validate is a pure function of the settings: what needs the disk is Preflight's.
func TestValidateIsPure(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"/does/not/exist", ".", filepath.Join(hello(), "Cargo.toml")} {
		c := valid()
		c.Source, c.Binary = src, "nope"
		if err := c.Validate(FlagNaming); err != nil {
			t.Errorf("Validate with source %q: %v, want nil (the disk is Preflight's)", src, err)
		}
		if err := c.Preflight(FlagNaming); err == nil {
			t.Errorf("Preflight with source %q and binary nope: want an error", src)
		}
	}
}

func TestSubcommandSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		err  func() error
		want []string // each must appear; nil means valid
	}{
		{"builder defaults", func() error {
			b, err := ParseBuilderFlags(nil, io.Discard)
			return errors.Join(err, b.Validate())
		}, nil},
		{"builder, every problem", func() error {
			b, err := ParseBuilderFlags([]string{"--toolchain", "latest", "--base", "A B", "--tag", "x:y:z", "--target", "x86 64",
				"--c-libs", "openssl=3.0.17,curl=8.0,zlib", "--c-libs-source", "fedora", "--push", "reg/X"}, io.Discard)
			return errors.Join(err, b.Validate())
		}, []string{"--toolchain:", "--base:", "--tag:", "--target:",
			`--c-libs: "curl=8.0": "curl" is not a library`, `--c-libs: "zlib" has no version`, `--c-libs-source: "fedora" is not upstream or debian`,
			`--push: "reg/X" is not a valid image reference`}},
		{"builder pushed by digest", func() error {
			b, err := ParseBuilderFlags([]string{"--push", "127.0.0.1:5000/rs2i/builder@sha256:" + strings.Repeat("a", 64)}, io.Discard)
			return errors.Join(err, b.Validate())
		}, []string{"--push:", "names a digest; a tag is needed"}},
		{"builder pushed to a tag", func() error {
			b, err := ParseBuilderFlags([]string{"--push", "127.0.0.1:5000/rs2i/builder:stable"}, io.Discard)
			return errors.Join(err, b.Validate())
		}, nil},
		{"builder with C libraries", func() error {
			b, err := ParseBuilderFlags([]string{"--c-libs", "openssl=3.0.17 libpq=15.14", "--c-libs-source", "debian"}, io.Discard)
			return errors.Join(err, b.Validate())
		}, nil},
		{"builder, stray argument", func() error {
			_, err := ParseBuilderFlags([]string{"stable"}, io.Discard)
			return err
		}, []string{"builder: unexpected arguments: stable"}},
		{"bootstrap valid", func() error {
			b, err := ParseBootstrapFlags([]string{"--cargo-home", dir, "--binary", "x"}, io.Discard)
			return errors.Join(err, b.Validate(), b.Preflight())
		}, nil},
		{"bootstrap, every problem", func() error {
			b, err := ParseBootstrapFlags([]string{"--cargo-home", filepath.Join(dir, "nope"), "--builder", "", "--tmp-image", "A"}, io.Discard)
			return errors.Join(err, b.Validate(), b.Preflight())
		}, []string{"--cargo-home:", "is not a directory", "--binary: is required", "--builder: is required", "--tmp-image:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkInput(t, tc.err(), tc.want)
		})
	}
	if got := (Builder{Toolchain: "1.85.0"}).ImageTag(); got != "ghcr.io/rust-s2i/rust-s2i-musl-builder:1.85.0" {
		t.Errorf("default builder tag for 1.85.0 = %q", got)
	}
	if got := (Bootstrap{Binary: "Api"}).IncrementalImage(); got != "rust-musl-api-tmp" {
		t.Errorf("bootstrap -tmp image = %q", got)
	}
}

func TestParseBuildFlags(t *testing.T) {
	t.Parallel()
	c, err := ParseBuildFlags([]string{"--binary", "x", "--env", "A=1", "--env", "B=2", "--push", "--image", "reg/x:1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Binary != "x" || !c.Push || c.Image != "reg/x:1" || strings.Join(c.Env, ",") != "A=1,B=2" {
		t.Errorf("parsed %+v", c)
	}
	if c.Builder != DefaultBuilder || c.Source != "." || c.Cache.Backend != "none" {
		t.Errorf("defaults lost: %+v", c)
	}
	if _, err := ParseBuildFlags([]string{"--nope"}, io.Discard); err == nil {
		t.Error("unknown flag accepted")
	}
	if _, err := ParseBuildFlags([]string{"--binary", "x", "stray"}, io.Discard); err == nil {
		t.Error("stray argument accepted")
	}
}

func TestImageNames(t *testing.T) {
	t.Parallel()
	c := Config{Binary: "My_App"}
	if got := c.FinalImage(); got != "rust-musl-my_app" {
		t.Errorf("FinalImage = %q", got)
	}
	if got := c.IncrementalImage(); got != "rust-musl-my_app-tmp" {
		t.Errorf("IncrementalImage = %q", got)
	}
	c.Image, c.TmpImage = "a:1", "b"
	if c.FinalImage() != "a:1" || c.IncrementalImage() != "b" {
		t.Errorf("explicit names ignored: %q %q", c.FinalImage(), c.IncrementalImage())
	}
	// In CI, the default -tmp name carries the repository: two repositories with a
	// binary called server keep apart on one daemon.
	for repo, want := range map[string]string{
		"Octo-Org/My.Service": "rust-musl-octo-org-my-service-server-tmp",
		"team/api":            "rust-musl-team-api-server-tmp",
		"":                    "rust-musl-server-tmp",
	} {
		if got := (Config{Binary: "server", Repository: repo}).IncrementalImage(); got != want {
			t.Errorf("IncrementalImage in %q = %q, want %q", repo, got, want)
		}
	}
	got, _, _, err := FromEnvironment(env{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "team/api", "INPUT_BINARY": "server"}.get)
	if err != nil || got.IncrementalImage() != "rust-musl-team-api-server-tmp" {
		t.Errorf("in Actions the -tmp image is %q (%v), want the repository in it", got.IncrementalImage(), err)
	}
}

// A bare NAME in secret-env takes its value from the environment, so the command
// line never holds the secret; a NAME that is not set is bad input, named by its
// place (a bare "NAME" may be a token), and stays in its place for Validate.
func TestResolveSecrets(t *testing.T) {
	t.Parallel()
	c := Config{SecretEnv: []string{"TOKEN", "INLINE=a=b", "MISSING"}}
	got, err := c.ResolveSecrets(FlagNaming, env{"TOKEN": "t0k3n"}.get)
	if want := []string{"TOKEN=t0k3n", "INLINE=a=b", "MISSING"}; !slices.Equal(got, want) {
		t.Errorf("resolved %q, want %q", got, want)
	}
	checkInput(t, err, []string{"--secret-env: entry 3 is a NAME whose variable is not set"})
	if err != nil && strings.Contains(err.Error(), "MISSING") {
		t.Errorf("the error shows the entry: %v", err)
	}
	bad := Config{SecretEnv: []string{"1BAD=hunter2"}}
	err = bad.Validate(FlagNaming)
	checkInput(t, err, []string{"--secret-env:"})
	if err != nil && strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error shows the value: %v", err)
	}
}

// The names of the final image: the repository lowercased with a notice, a tag kept;
// push refuses a name without a registry; tags and labels split as
// docker/metadata-action prints them.
func TestNamesTagsLabels(t *testing.T) {
	t.Parallel()
	c := Config{Binary: "x", Image: "ghcr.io/Octo/App:V1", Tags: []string{"ghcr.io/octo/app:sha-1", "Local@sha256:" + strings.Repeat("a", 64)}, TmpImage: "Tmp"}
	notices := c.LowercaseNames()
	if want := []string{"ghcr.io/octo/app:V1", "ghcr.io/octo/app:sha-1", "local@sha256:" + strings.Repeat("a", 64)}; !slices.Equal(c.Names(), want) {
		t.Errorf("names %q, want %q", c.Names(), want)
	}
	if len(notices) != 3 || !strings.Contains(notices[0], "ghcr.io/Octo/App:V1: the repository is lowercased to ghcr.io/octo/app:V1") {
		t.Errorf("notices %q", notices)
	}
	if c.TmpImage != "tmp" {
		t.Errorf("-tmp image %q", c.TmpImage)
	}
	if got := (Config{Binary: "api"}).Names(); !slices.Equal(got, []string{"rust-musl-api"}) {
		t.Errorf("default names %q", got)
	}

	p := valid()
	p.Push, p.Image, p.Tags = true, "app:1", []string{"docker.io/o/app:1", "localhost:5000/app", "o/app"}
	checkInput(t, p.Validate(FlagNaming), []string{"--push: app:1 names no registry", "--push: o/app names no registry"})
	p.Image, p.Tags = "ghcr.io/o/app", nil
	if err := p.Validate(FlagNaming); err != nil {
		t.Errorf("a push to ghcr.io: %v", err)
	}

	in, err := FromInputs(env{
		"INPUT_BINARY": "x",
		"INPUT_TAGS":   "ghcr.io/o/a:main,ghcr.io/o/a:sha-1\nghcr.io/o/a:v1",
		"INPUT_LABELS": "org.opencontainers.image.description=A, B and C\norg.opencontainers.image.title=t,org.opencontainers.image.version=1",
		"INPUT_PULL":   "always", "INPUT_REGISTRY-AUTH": "ghcr.io=u:p\n127.0.0.1:5000=v:q:r",
	}.get)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ghcr.io/o/a:main", "ghcr.io/o/a:sha-1", "ghcr.io/o/a:v1"}; !slices.Equal(in.Tags, want) {
		t.Errorf("tags %q, want %q", in.Tags, want)
	}
	if want := []string{"org.opencontainers.image.description=A, B and C", "org.opencontainers.image.title=t", "org.opencontainers.image.version=1"}; !slices.Equal(in.Labels, want) {
		t.Errorf("labels %q, want %q", in.Labels, want)
	}
	if err := in.Validate(InputNaming); err != nil {
		t.Errorf("valid inputs: %v", err)
	}
	in.Pull, in.Registry.Auth, in.Labels = "sometimes", []string{"ghcr.io=nocolon-s3cret"}, []string{"=v"}
	err = in.Validate(InputNaming)
	checkInput(t, err, []string{"pull:", "registry-auth: entry 1 is not REGISTRY=USER:PASSWORD", "labels:"})
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("an error shows a registry password: %v", err)
	}
}
