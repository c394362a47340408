package config

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/internal/platform"
)

var (
	amd64 = mustPlatform("linux/amd64")
	arm64 = mustPlatform("linux/arm64")
)

func mustPlatform(name string) platform.Platform {
	p, err := platform.Lookup(name)
	if err != nil {
		panic(err)
	}
	return p
}

// Each front end reads platforms its own way, and all give the same typed list:
// in order, each platform once.
func TestPlatformsSetting(t *testing.T) {
	t.Parallel()
	both := []platform.Platform{amd64, arm64}
	tests := []struct {
		name string
		load func() (Config, error)
		want []platform.Platform
	}{
		{"action, build-push-action's spelling", inputs(env{"INPUT_PLATFORMS": "linux/amd64,linux/arm64"}), both},
		{"action, one a line", inputs(env{"INPUT_PLATFORMS": "linux/arm64\nlinux/amd64\n"}), []platform.Platform{arm64, amd64}},
		{"action, repeats dropped", inputs(env{"INPUT_PLATFORMS": "linux/amd64, linux/arm64/v8,\nlinux/arm64"}), both},
		{"action, unset", inputs(env{}), nil},
		{"plugin, a YAML list as Woodpecker passes it", plugin(env{"PLUGIN_PLATFORMS": "linux/amd64,linux/arm64"}), both},
		{"plugin, a JSON list", plugin(env{"PLUGIN_PLATFORMS": `["linux/amd64","linux/arm64"]`}), both},
		{"flags, repeated", flags("--platform", "linux/amd64", "--platform", "linux/arm64"), both},
		{"flags, a list", flags("--platforms", "linux/amd64,linux/arm64"), both},
		{"flags, repeats dropped across uses", flags("--platform", "linux/arm64", "--platform", "linux/amd64,linux/arm64"), []platform.Platform{arm64, amd64}},
		{"flags, unset", flags("--binary", "x"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := tc.load()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Platforms, tc.want) {
				t.Errorf("platforms %v, want %v", c.Platforms, tc.want)
			}
		})
	}
}

func inputs(e env) func() (Config, error) { return func() (Config, error) { return FromInputs(e.get) } }
func plugin(e env) func() (Config, error) { return func() (Config, error) { return FromPlugin(e.get) } }
func flags(args ...string) func() (Config, error) {
	return func() (Config, error) { return ParseBuildFlags(args, io.Discard) }
}

// An unknown platform is bad input named in the front end's words, listing what is
// supported, and it comes with every other bad input of the run (the CLI joins
// the load's errors with Validate's, as here).
func TestPlatformsUnknown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		load   func() (Config, error)
		naming Naming
		want   []string
	}{
		{"action", inputs(env{"INPUT_PLATFORMS": "linux/amd64,linux/s390x", "INPUT_PUSH": "yes", "INPUT_BINARY": "a b"}),
			InputNaming, []string{"platforms", "push", "binary"}},
		{"plugin", plugin(env{"PLUGIN_PLATFORMS": `["linux/riscv64"]`, "PLUGIN_NETWORK": "wifi", "PLUGIN_BINARY": "ok"}),
			PluginNaming, []string{"platforms", "network"}},
		{"flags", flags("--binary", "ok", "--platform", "windows/amd64"), FlagNaming, []string{"build"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := tc.load()
			if err == nil {
				t.Fatal("an unknown platform was taken")
			}
			if c.Platforms != nil {
				t.Errorf("a bad list was kept in part: %v", c.Platforms)
			}
			if tc.naming != nil {
				c.Source = hello()
				err = joinFlat(err, c.Validate(tc.naming))
			}
			if got := inputErrors(t, err); !slices.Equal(got, tc.want) {
				t.Errorf("bad inputs %q, want %q:\n%v", got, tc.want, err)
			}
			if !strings.Contains(err.Error(), "the supported platforms are linux/amd64, linux/arm64") {
				t.Errorf("the error does not list the supported platforms:\n%v", err)
			}
		})
	}
}

func TestValidatePlatforms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   func(*Config)
		want []string // bad inputs; nil is valid
		text string
	}{
		{"platforms alone", func(c *Config) { c.Platforms = []platform.Platform{amd64, arm64} }, nil, ""},
		{"target alone", func(c *Config) { c.Target = "aarch64-unknown-linux-gnu" }, nil, ""},
		{"target agreeing with the one platform", func(c *Config) {
			c.Platforms, c.Target = []platform.Platform{arm64}, "aarch64-unknown-linux-musl"
		}, nil, ""},
		{"target contradicting the one platform", func(c *Config) {
			c.Platforms, c.Target = []platform.Platform{arm64}, "x86_64-unknown-linux-musl"
		}, []string{"target"}, "x86_64-unknown-linux-musl contradicts platforms linux/arm64, which is built for aarch64-unknown-linux-musl"},
		{"a gnu target for the one platform", func(c *Config) {
			c.Platforms, c.Target = []platform.Platform{amd64}, "x86_64-unknown-linux-gnu"
		}, []string{"target"}, "set it to x86_64-unknown-linux-musl"},
		{"one target for two platforms", func(c *Config) {
			c.Platforms, c.Target = []platform.Platform{amd64, arm64}, "x86_64-unknown-linux-musl"
		}, []string{"target"}, "linux/amd64: x86_64-unknown-linux-musl, linux/arm64: aarch64-unknown-linux-musl"},
		{"oci-output", func(c *Config) { c.OCIOutput = "out/oci" }, nil, ""},
		{"blank oci-output", func(c *Config) { c.OCIOutput = "  " }, []string{"oci-output"}, "is blank"},
		{"oci-output with a line break", func(c *Config) { c.OCIOutput = "a\nb" }, []string{"oci-output"}, "line break"},
		{"with every other bad input", func(c *Config) {
			c.Binary, c.Platforms, c.Target, c.OCIOutput = "", []platform.Platform{amd64, arm64}, "x86_64-unknown-linux-musl", " "
		}, []string{"binary", "target", "oci-output"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tc.in(&c)
			err := c.Validate(InputNaming)
			switch {
			case err == nil && tc.want != nil:
				t.Errorf("valid, want bad %q", tc.want)
			case err != nil && !slices.Equal(inputErrors(t, err), tc.want):
				t.Errorf("bad inputs %q, want %q:\n%v", inputErrors(t, err), tc.want, err)
			}
			if tc.text != "" && (err == nil || !strings.Contains(err.Error(), tc.text)) {
				t.Errorf("error lacks %q:\n%v", tc.text, err)
			}
		})
	}
}

func TestPreflightOCIOutput(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(name string) string {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	layout := filepath.Dir(write("layout/" + ociLayoutFile))
	foreign := filepath.Dir(write("foreign/notes.txt"))
	file := write("a-file")
	tests := []struct {
		dir  string
		text string // "" is fine
	}{
		{filepath.Join(root, "new", "oci"), ""},
		{empty, ""},
		{layout, ""},
		{foreign, "no OCI image layout"},
		{file, "is a file"},
	}
	for _, tc := range tests {
		c := valid()
		c.OCIOutput = tc.dir
		err := c.Preflight(InputNaming)
		switch {
		case tc.text == "" && err != nil:
			t.Errorf("%s: %v", tc.dir, err)
		case tc.text != "" && (err == nil || !strings.Contains(err.Error(), tc.text)):
			t.Errorf("%s: %v, want %q", tc.dir, err, tc.text)
		case tc.text != "" && !slices.Equal(inputErrors(t, err), []string{"oci-output"}):
			t.Errorf("%s: %v, want oci-output named", tc.dir, err)
		}
	}
}
