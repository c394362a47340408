package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// env is an injected getenv.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// recorder is a getenv that remembers which variables were asked for.
type recorder struct {
	mu   sync.Mutex
	read []string
}

func (r *recorder) get(k string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.read = append(r.read, k)
	return ""
}

// inputErrors checks that err joins only *InputErrors and returns their names.
func inputErrors(t *testing.T, err error) []string {
	t.Helper()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var names []string
	for _, e := range errs {
		var ie *InputError
		if !errors.As(e, &ie) {
			t.Errorf("%v (%T) is not an *InputError", e, e)
			continue
		}
		names = append(names, ie.Name)
	}
	return names
}

func actionDefaults() Config {
	c := Defaults()
	c.Cache.Backend = "gha"
	return c
}

func TestFromInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   env
		want func(*Config)
	}{
		{"nothing set gives the action defaults", env{}, func(*Config) {}},
		{"every setting", env{
			"INPUT_BINARY":           "app",
			"INPUT_SOURCE":           "crates/app",
			"INPUT_BUILDER":          "b:1",
			"INPUT_RUNTIME-IMAGE":    "r:1",
			"INPUT_IMAGE":            "ghcr.io/o/app:1",
			"INPUT_TMP-IMAGE":        "app-tmp",
			"INPUT_TARGET":           "aarch64-unknown-linux-musl",
			"INPUT_ENV":              "A=1\nB=2",
			"INPUT_NETWORK":          "host",
			"INPUT_CACHE":            "local",
			"INPUT_CACHE-DIR":        "/c",
			"INPUT_CACHE-KEY-PREFIX": "p",
			"INPUT_CACHE-PROTOCOL":   "v1",
			"INPUT_PUSH":             "true",
			"INPUT_USERNAME":         "octocat",
			"INPUT_PASSWORD":         "s3cret",
			"INPUT_CLEAN":            "TRUE",
			"INPUT_OUTPUT-FILE":      "out.env",

			// the cargo options
			"INPUT_FEATURES":            "a, b",
			"INPUT_ALL-FEATURES":        "true",
			"INPUT_NO-DEFAULT-FEATURES": "true",
			"INPUT_PROFILE":             "small",
			"INPUT_LOCKED":              "false",
			"INPUT_AUDITABLE":           "false",
			"INPUT_SBOM":                "false",
			"INPUT_PROVENANCE":          "false",

			// the engine
			"INPUT_ENGINE":                   "buildkit",
			"INPUT_BUILDKIT-HOST":            "tcp://buildkitd:1234",
			"INPUT_BUILDKIT-TLS-CA-CERT":     "/certs/ca.pem",
			"INPUT_BUILDKIT-TLS-CERT":        "/certs/cert.pem",
			"INPUT_BUILDKIT-TLS-KEY":         "/certs/key.pem",
			"INPUT_BUILDKIT-TLS-SERVER-NAME": "buildkitd",
		}, func(c *Config) {
			*c = Config{
				Binary: "app", Source: "crates/app", Builder: "b:1", RuntimeImage: "r:1",
				Image: "ghcr.io/o/app:1", TmpImage: "app-tmp", Target: "aarch64-unknown-linux-musl",
				Env: []string{"A=1", "B=2"}, Network: "host",
				Cache: Cache{Backend: "local", Local: LocalCache{Dir: "/c"}, KeyPrefix: "p", GHA: GHACache{Protocol: "v1"}, Save: true},
				Pull:  "missing", Push: true,
				Registry: Registry{Username: "octocat", Password: "s3cret"},
				Clean:    true, OutputFile: "out.env",
				Features: []string{"a, b"}, AllFeatures: true, NoDefaultFeatures: true, Profile: "small",
				Engine: "buildkit", BuildKit: BuildKit{Host: "tcp://buildkitd:1234", TLS: BuildKitTLS{
					CACert: "/certs/ca.pem", Cert: "/certs/cert.pem", Key: "/certs/key.pem", ServerName: "buildkitd",
				}},
			}
		}},
		{"values are trimmed like the toolkit's getInput", env{"INPUT_BINARY": "  app\n", "INPUT_PUSH": " true "}, func(c *Config) {
			c.Binary, c.Push = "app", true
		}},
		{"underscored names are not read", env{"INPUT_RUNTIME_IMAGE": "r:1"}, func(*Config) {}},
		{"empty means the default", env{"INPUT_CACHE": "", "INPUT_SOURCE": "", "INPUT_PUSH": ""}, func(*Config) {}},
		{"false words", env{"INPUT_PUSH": "False", "INPUT_CLEAN": "FALSE"}, func(*Config) {}},
		{"true words", env{"INPUT_PUSH": "True", "INPUT_CLEAN": "true"}, func(c *Config) { c.Push, c.Clean = true, true }},
		{"env with commas", env{"INPUT_ENV": "A=1,B=2, C=3"}, func(c *Config) { c.Env = []string{"A=1", "B=2", "C=3"} }},
		{"env value with a comma", env{"INPUT_ENV": "RUSTFLAGS=-C link-arg=-Wl,--as-needed,X=1"}, func(c *Config) {
			c.Env = []string{"RUSTFLAGS=-C link-arg=-Wl,--as-needed", "X=1"}
		}},
		{"env lines with CRLF and blanks", env{"INPUT_ENV": "A=1\r\n\r\n  B=x y\r\n"}, func(c *Config) { c.Env = []string{"A=1", "B=x y"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := FromInputs(tc.in.get)
			if err != nil {
				t.Fatal(err)
			}
			want := actionDefaults()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestFromInputsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   env
		want []string // the names of the bad inputs, in settings order
		text []string // each must appear in the message
	}{
		{"yes is not a boolean", env{"INPUT_PUSH": "yes"}, []string{"push"}, []string{`push: "yes" is not a boolean`, "true or false"}},
		{"1 is not a boolean", env{"INPUT_CLEAN": "1"}, []string{"clean"}, []string{`clean: "1"`}},
		{"tRUE is not a boolean", env{"INPUT_PUSH": "tRUE"}, []string{"push"}, nil},
		{"every problem at once", env{"INPUT_PUSH": "on", "INPUT_CLEAN": "0", "INPUT_BINARY": "ok"},
			[]string{"push", "clean"}, []string{"push:", "clean:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := FromInputs(tc.in.get)
			if err == nil {
				t.Fatal("want an error")
			}
			if got := inputErrors(t, err); !slices.Equal(got, tc.want) {
				t.Errorf("bad inputs %q, want %q", got, tc.want)
			}
			for _, w := range tc.text {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestSplitEnvList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"blank lines", "\n \n\t\n", nil},
		{"one", "A=1", []string{"A=1"}},
		{"lines", "A=1\nB=2\n", []string{"A=1", "B=2"}},
		{"commas", "A=1,B=2", []string{"A=1", "B=2"}},
		{"commas and lines", "A=1,B=2\nC=3", []string{"A=1", "B=2", "C=3"}},
		{"comma inside a value", "FEATURES=a,b", []string{"FEATURES=a,b"}},
		{"comma then a name with =", "FEATURES=a,b=c", []string{"FEATURES=a", "b=c"}},
		{"value with =", "RUSTFLAGS=-C target-cpu=native", []string{"RUSTFLAGS=-C target-cpu=native"}},
		{"empty value", "A=,B=", []string{"A=", "B="}},
		{"no = is kept for Validate", "NOEQUALS,A=1", []string{"NOEQUALS", "A=1"}},
		{"trailing comma", "A=1,", []string{"A=1,"}},
		{"space before the next name", "A=1 , B=2", []string{"A=1", "B=2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := splitEnvList(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("splitEnvList(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// actionFile is the part of action.yml the tests hold to the Go side.
type actionFile struct {
	Name        string
	Description string
	Author      string
	Branding    struct{ Icon, Color string }
	Inputs      map[string]struct {
		Description string
		Required    bool
		Default     *string
	}
	Outputs map[string]struct{ Description string }
	Runs    struct {
		Using string
		Image string
		Args  []string
	}
}

func readAction(t *testing.T) actionFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

// specOutputs are the outputs SPEC.md promises.
var specOutputs = []string{"image", "image-id", "digest", "tmp-image", "cache-hit", "cache-matched-key", "binary-size", "image-size"}

func TestActionYAML(t *testing.T) {
	t.Parallel()
	a := readAction(t)

	// The inputs FromInputs reads, seen from the outside: the INPUT_ variables it asks for.
	var r recorder
	if _, err := FromInputs(r.get); err != nil {
		t.Fatal(err)
	}
	var read []string
	for _, k := range r.read {
		read = append(read, strings.ToLower(strings.TrimPrefix(k, "INPUT_")))
	}
	read = slices.Compact(slices.Sorted(slices.Values(read)))
	declared := slices.Sorted(func(yield func(string) bool) {
		for k := range a.Inputs {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(read, declared) {
		t.Errorf("action.yml inputs and FromInputs differ:\n action.yml: %q\n FromInputs: %q", declared, read)
	}

	for name, in := range a.Inputs {
		if strings.TrimSpace(in.Description) == "" {
			t.Errorf("input %s has no description", name)
		}
		if name == "binary" {
			if !in.Required || in.Default != nil {
				t.Errorf("input binary must be required, without a default")
			}
			continue
		}
		if in.Required {
			t.Errorf("input %s is required; only binary is", name)
		}
		if in.Default == nil {
			t.Errorf("input %s has no default", name)
		}
	}
	for _, o := range specOutputs {
		out, ok := a.Outputs[o]
		switch {
		case !ok:
			t.Errorf("output %s is not declared", o)
		case strings.TrimSpace(out.Description) == "":
			t.Errorf("output %s has no description", o)
		}
	}
	if a.Name == "" || a.Description == "" || a.Author == "" || a.Branding.Icon == "" || a.Branding.Color == "" {
		t.Errorf("name, description, author and branding are needed for the Marketplace: %+v", a)
	}
	// runs (the prebuilt, pinned image running build) is TestActionRunsPinnedImage's.
}

// The runner passes every input it was not given as its action.yml default, so those
// defaults must be the ones the Go code applies to empty inputs.
func TestActionDefaultsMatchGo(t *testing.T) {
	t.Parallel()
	a := readAction(t)
	defaults := env{}
	for name, in := range a.Inputs {
		if in.Default != nil {
			defaults[inputEnv(name)] = *in.Default
		}
	}
	got, err := FromInputs(defaults.get)
	if err != nil {
		t.Fatal(err)
	}
	if want := actionDefaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("action.yml defaults give\n %#v\nGo defaults are\n %#v", got, want)
	}
}

// Every setting but the secret ones is a flag, and the flags are nothing else.
func TestFlagsAreSettings(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	var c Config
	BuildFlags(fs, &c)
	var flags, want []string
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f.Name) })
	for _, s := range settings {
		if !s.noFlag {
			want = append(want, s.name)
		}
		if s.alias != "" {
			want = append(want, s.alias)
		}
	}
	slices.Sort(want)
	if !slices.Equal(flags, want) {
		t.Errorf("flags %q, want %q", flags, want)
	}
	if fs.Lookup("password") != nil {
		t.Error("a password flag would show in ps output")
	}
	if _, err := ParseBuildFlags([]string{"--cache-protocol", "v1"}, io.Discard); err != nil {
		t.Error(err)
	}
}

func TestFromEnvironment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     env
		source string
		naming string // what the Naming makes of runtime-image
		binary string
	}{
		{"github actions", env{"GITHUB_ACTIONS": "true", "INPUT_BINARY": "a"}, FrontEndActions, "runtime-image", "a"},
		{"github actions without inputs is still the action", env{"GITHUB_ACTIONS": "true"}, FrontEndActions, "runtime-image", ""},
		{"woodpecker plugin", env{"CI": "woodpecker", "PLUGIN_BINARY": "p"}, FrontEndPlugin, "runtime_image", "p"},
		{"drone plugin", env{"DRONE": "true", "PLUGIN_BINARY": "p"}, FrontEndPlugin, "runtime_image", "p"},
		{"any plugin setting", env{"PLUGIN_CACHE_DIR": "/c"}, FrontEndPlugin, "runtime_image", ""},
		{"woodpecker without settings", env{"CI": "woodpecker"}, FrontEndPlugin, "runtime_image", ""},
		{"plugin image on an actions runner", env{"GITHUB_ACTIONS": "true", "PLUGIN_BINARY": "p"}, FrontEndPlugin, "runtime_image", "p"},
		{"inputs win when both are set", env{"GITHUB_ACTIONS": "true", "INPUT_BINARY": "a", "PLUGIN_BINARY": "p"}, FrontEndActions, "runtime-image", "a"},
		{"inputs outside actions are ignored", env{"INPUT_BINARY": "a", "DRONE": "true"}, FrontEndPlugin, "runtime_image", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, naming, source, err := FromEnvironment(tc.in.get)
			if err != nil {
				t.Fatal(err)
			}
			if source != tc.source || naming("runtime-image") != tc.naming || c.Binary != tc.binary {
				t.Errorf("source %q, naming %q, binary %q; want %q, %q, %q",
					source, naming("runtime-image"), c.Binary, tc.source, tc.naming, tc.binary)
			}
		})
	}

	t.Run("nothing to go on", func(t *testing.T) {
		t.Parallel()
		_, naming, source, err := FromEnvironment(env{"GITHUB_ACTIONS": "false", "CI": "true", "HOME": "/root"}.get)
		if source != "" || naming("binary") != "--binary" {
			t.Errorf("source %q, naming %q", source, naming("binary"))
		}
		if got := inputErrors(t, err); !slices.Equal(got, []string{"build"}) || !strings.Contains(err.Error(), "--binary") {
			t.Errorf("want one error asking for flags, got %v", err)
		}
	})
	t.Run("parse errors come through", func(t *testing.T) {
		t.Parallel()
		_, _, _, err := FromEnvironment(env{"GITHUB_ACTIONS": "true", "INPUT_PUSH": "yes"}.get)
		if got := inputErrors(t, err); !slices.Equal(got, []string{"push"}) {
			t.Errorf("got %v", err)
		}
	})
}

// Validate names the new settings in each front end's words and still reports
// everything at once.
func TestValidateNewSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     func(*Config)
		naming Naming
		want   []string
	}{
		{"protocol v2", func(c *Config) { c.Cache.GHA.Protocol = "v2" }, InputNaming, nil},
		{"bad protocol", func(c *Config) { c.Cache.GHA.Protocol = "v3" }, InputNaming, []string{"cache-protocol"}},
		{"bad protocol as a plugin setting", func(c *Config) { c.Cache.GHA.Protocol = "2" }, PluginNaming, []string{"cache_protocol"}},
		{"credentials", func(c *Config) { c.Registry.Username, c.Registry.Password = "u", "p" }, InputNaming, nil},
		{"username alone", func(c *Config) { c.Registry.Username = "u" }, InputNaming, []string{"password"}},
		{"password alone", func(c *Config) { c.Registry.Password = "p" }, PluginNaming, []string{"username"}},
		{"all at once", func(c *Config) {
			c.Binary, c.RuntimeImage, c.Cache.Backend, c.Cache.GHA.Protocol, c.Registry.Password = "", "A B", "local", "x", "p"
		}, PluginNaming, []string{"binary", "runtime_image", "cache_dir", "cache_protocol", "username"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tc.in(&c)
			err := c.Validate(tc.naming)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if got := inputErrors(t, err); !slices.Equal(got, tc.want) {
				t.Errorf("bad %q, want %q:\n%v", got, tc.want, err)
			}
			if strings.Contains(err.Error(), `"p"`) {
				t.Errorf("the password is in the error: %v", err)
			}
		})
	}
}

func TestSecretDoesNotPrint(t *testing.T) {
	t.Parallel()
	c := Config{Registry: Registry{Username: "u", Password: "hunter2"}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if s := fmt.Sprintf(verb, c); strings.Contains(s, "hunter2") {
			t.Errorf("%s shows the password: %s", verb, s)
		}
		if s := fmt.Sprintf(verb, c.Registry.Password); strings.Contains(s, "hunter2") {
			t.Errorf("%s of the Secret shows it: %s", verb, s)
		}
	}
	if string(c.Registry.Password) != "hunter2" {
		t.Error("string() must give the value")
	}
	if Secret("").String() != "" {
		t.Error("an empty secret prints as empty, so that unset is visible")
	}
}
