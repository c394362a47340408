package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestFromPlugin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   env
		want func(*Config)
	}{
		{"nothing set gives the defaults, no cache", env{}, func(*Config) {}},
		{"every setting", env{
			"PLUGIN_BINARY":           "app",
			"PLUGIN_SOURCE":           "crates/app",
			"PLUGIN_BUILDER":          "b:1",
			"PLUGIN_RUNTIME_IMAGE":    "r:1",
			"PLUGIN_IMAGE":            "reg/app:1",
			"PLUGIN_TMP_IMAGE":        "app-tmp",
			"PLUGIN_TARGET":           "aarch64-unknown-linux-musl",
			"PLUGIN_ENV":              "A=1,B=2",
			"PLUGIN_NETWORK":          "none",
			"PLUGIN_CACHE":            "gha",
			"PLUGIN_CACHE_DIR":        "/cache",
			"PLUGIN_CACHE_KEY_PREFIX": "p",
			"PLUGIN_CACHE_PROTOCOL":   "v1",
			"PLUGIN_PUSH":             "true",
			"PLUGIN_USERNAME":         "bot",
			"PLUGIN_PASSWORD":         "s3cret",
			"PLUGIN_CLEAN":            "true",
			"PLUGIN_OUTPUT_FILE":      "out.env",

			// the cargo options
			"PLUGIN_FEATURES":            "a, b",
			"PLUGIN_ALL_FEATURES":        "true",
			"PLUGIN_NO_DEFAULT_FEATURES": "true",
			"PLUGIN_PROFILE":             "small",
			"PLUGIN_LOCKED":              "false",
			"PLUGIN_AUDITABLE":           "false",
			"PLUGIN_SBOM":                "false",
			"PLUGIN_PROVENANCE":          "false",

			// the engine
			"PLUGIN_ENGINE":                   "buildkit",
			"PLUGIN_BUILDKIT_HOST":            "tcp://buildkitd:1234",
			"PLUGIN_BUILDKIT_TLS_CA_CERT":     "/certs/ca.pem",
			"PLUGIN_BUILDKIT_TLS_CERT":        "/certs/cert.pem",
			"PLUGIN_BUILDKIT_TLS_KEY":         "/certs/key.pem",
			"PLUGIN_BUILDKIT_TLS_SERVER_NAME": "buildkitd",
		}, func(c *Config) {
			*c = Config{
				Binary: "app", Source: "crates/app", Builder: "b:1", RuntimeImage: "r:1",
				Image: "reg/app:1", TmpImage: "app-tmp", Target: "aarch64-unknown-linux-musl",
				Env: []string{"A=1", "B=2"}, Network: "none",
				Cache: Cache{Backend: "gha", Local: LocalCache{Dir: "/cache"}, KeyPrefix: "p", GHA: GHACache{Protocol: "v1"}, Save: true},
				Pull:  "missing", Push: true,
				Registry: Registry{Username: "bot", Password: "s3cret"},
				Clean:    true, OutputFile: "out.env",
				Features: []string{"a, b"}, AllFeatures: true, NoDefaultFeatures: true, Profile: "small",
				Engine: "buildkit", BuildKit: BuildKit{Host: "tcp://buildkitd:1234", TLS: BuildKitTLS{
					CACert: "/certs/ca.pem", Cert: "/certs/cert.pem", Key: "/certs/key.pem", ServerName: "buildkitd",
				}},
			}
		}},
		{"cache_dir makes the cache local", env{"PLUGIN_CACHE_DIR": "/cache"}, func(c *Config) { c.Cache.Backend, c.Cache.Local.Dir = "local", "/cache" }},
		{"an explicit cache wins over cache_dir", env{"PLUGIN_CACHE_DIR": "/cache", "PLUGIN_CACHE": "none"}, func(c *Config) { c.Cache.Local.Dir = "/cache" }},
		{"a blank cache_dir is unset", env{"PLUGIN_CACHE_DIR": "  "}, func(*Config) {}},
		{"kebab names are not read", env{"PLUGIN_RUNTIME-IMAGE": "r:1"}, func(*Config) {}},
		{"env as lines", env{"PLUGIN_ENV": "A=1\nB=2\n"}, func(c *Config) { c.Env = []string{"A=1", "B=2"} }},
		{"env as a JSON map, sorted", env{"PLUGIN_ENV": `{"B":"2","A":"1"}`}, func(c *Config) { c.Env = []string{"A=1", "B=2"} }},
		{"env map with unquoted scalars", env{"PLUGIN_ENV": `{"N":2,"F":1.5,"T":true,"Z":null}`}, func(c *Config) {
			c.Env = []string{"F=1.5", "N=2", "T=true", "Z="}
		}},
		{"env map values keep commas and =", env{"PLUGIN_ENV": `{"RUSTFLAGS":"-C link-arg=-Wl,--as-needed"}`}, func(c *Config) {
			c.Env = []string{"RUSTFLAGS=-C link-arg=-Wl,--as-needed"}
		}},
		{"empty env map", env{"PLUGIN_ENV": `{}`}, func(*Config) {}},
		{"env as a JSON list", env{"PLUGIN_ENV": `["A=1", "B=x,y"]`}, func(c *Config) { c.Env = []string{"A=1", "B=x,y"} }},
		{"booleans", env{"PLUGIN_PUSH": "TRUE", "PLUGIN_CLEAN": "false"}, func(c *Config) { c.Push = true }},
		{"cache_save false restores only", env{"PLUGIN_CACHE_SAVE": "false"}, func(c *Config) { c.Cache.Save = false }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := FromPlugin(tc.in.get)
			if err != nil {
				t.Fatal(err)
			}
			want := Defaults()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestFromPluginErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   env
		want []string // names of the bad settings, in settings order
		text []string
	}{
		{"bad boolean", env{"PLUGIN_PUSH": "yes"}, []string{"push"}, []string{`push: "yes" is not a boolean`}},
		{"bad JSON map", env{"PLUGIN_ENV": `{"A":1`}, []string{"env"}, []string{"env: is not a JSON object"}},
		{"bad JSON list", env{"PLUGIN_ENV": `[A=1]`}, []string{"env"}, []string{"env: is not a JSON list"}},
		{"nested map value", env{"PLUGIN_ENV": `{"A":{"B":1},"C":"2"}`}, []string{"env"}, []string{`"A"`}},
		{"key with =", env{"PLUGIN_ENV": `{"A=B":"c"}`}, []string{"env"}, []string{`"A=B"`}},
		{"empty key", env{"PLUGIN_ENV": `{"":"c"}`}, []string{"env"}, nil},
		{"list of maps", env{"PLUGIN_ENV": `[{"A":"1"}]`}, []string{"env"}, []string{"item 1"}},
		{"map where a list belongs", env{"PLUGIN_ENV": `["A", 1, {"x":1}]`}, []string{"env"}, []string{"item 3"}},
		{"every problem at once", env{"PLUGIN_ENV": "{", "PLUGIN_PUSH": "1", "PLUGIN_CLEAN": "no", "PLUGIN_BINARY": "ok"},
			[]string{"env", "push", "clean"}, []string{"env:", "push:", "clean:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := FromPlugin(tc.in.get)
			if err == nil {
				t.Fatal("want an error")
			}
			if got := inputErrors(t, err); !slices.Equal(got, tc.want) {
				t.Errorf("bad settings %q, want %q:\n%v", got, tc.want, err)
			}
			for _, w := range tc.text {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// The plugin reads one PLUGIN_ variable per setting, snake_case.
func TestPluginReadsEverySetting(t *testing.T) {
	t.Parallel()
	var r recorder
	if _, err := FromPlugin(r.get); err != nil {
		t.Fatal(err)
	}
	read := slices.Compact(slices.Sorted(slices.Values(r.read)))
	var want []string
	for _, s := range settings {
		want = append(want, "PLUGIN_"+strings.ToUpper(strings.ReplaceAll(s.name, "-", "_")))
	}
	slices.Sort(want)
	if !slices.Equal(read, want) {
		t.Errorf("read %q\nwant %q", read, want)
	}
	for _, v := range read {
		if strings.Contains(v, "-") {
			t.Errorf("%s cannot be set from a Woodpecker/Drone setting", v)
		}
	}
}
