package config

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/.

// checkInputErrors fails unless err is nil or joins only *InputErrors that name
// their setting: what the CLI prints and turns into exit code 2.
func checkInputErrors(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	if len(errs) == 0 {
		t.Fatalf("empty joined error %v", err)
	}
	for _, e := range errs {
		var ie *InputError
		if !errors.As(e, &ie) {
			t.Fatalf("%v (%T) is not an *InputError", e, e)
		}
		if ie.Name == "" {
			t.Fatalf("%v names no setting", e)
		}
	}
}

// fuzzEnv spreads the fuzzed values over the settings: the ones that parse get their
// own, every other setting gets rest.
func fuzzEnv(name func(string) string, binary, list, push, clean, rest string) env {
	e := env{}
	for _, s := range settings {
		e[name(s.name)] = rest
	}
	e[name("binary")], e[name("env")], e[name("push")], e[name("clean")] = binary, list, push, clean
	return e
}

func FuzzFromInputs(f *testing.F) {
	f.Fuzz(func(t *testing.T, binary, list, push, clean, rest string) {
		e := fuzzEnv(inputEnv, binary, list, push, clean, rest)
		e["GITHUB_ACTIONS"] = "true"
		c, err := FromInputs(e.get)
		checkInputErrors(t, err)
		checkInputErrors(t, c.Validate(InputNaming))
		_, _, _, err = FromEnvironment(e.get)
		checkInputErrors(t, err)
	})
}

func FuzzFromPlugin(f *testing.F) {
	f.Fuzz(func(t *testing.T, binary, list, push, clean, rest string) {
		e := fuzzEnv(pluginEnv, binary, list, push, clean, rest)
		c, err := FromPlugin(e.get)
		checkInputErrors(t, err)
		checkInputErrors(t, c.Validate(PluginNaming))
		_, _, _, err = FromEnvironment(e.get)
		checkInputErrors(t, err)
	})
}

// FuzzParseBuildFlags takes the arguments NUL-separated, as they reach a process.
func FuzzParseBuildFlags(f *testing.F) {
	f.Fuzz(func(t *testing.T, args string) {
		c, err := ParseBuildFlags(strings.Split(args, "\x00"), io.Discard)
		checkInputErrors(t, err)
		checkInputErrors(t, c.Validate(FlagNaming))
	})
}

// FuzzEnvList checks the list forms of env: the line/comma splitter never yields an
// empty, untrimmed or multi-line entry and gives the same entries when its own
// output is fed back one per line; the plugin's JSON forms never fail otherwise than
// with an error.
func FuzzEnvList(f *testing.F) {
	f.Fuzz(func(t *testing.T, v string) {
		got := splitEnvList(v)
		for _, e := range got {
			if e == "" || e != strings.TrimSpace(e) || strings.Contains(e, "\n") {
				t.Fatalf("splitEnvList(%q) gave entry %q", v, e)
			}
		}
		if again := splitEnvList(strings.Join(got, "\n")); !slices.Equal(again, got) {
			t.Fatalf("splitEnvList(%q) = %q, but one per line it is %q", v, got, again)
		}
		if strings.TrimSpace(v) == "" {
			return
		}
		list, err := parsePluginList(strings.TrimSpace(v))
		if err != nil && list != nil {
			t.Fatalf("parsePluginList(%q) gave both %q and %v", v, list, err)
		}
	})
}
