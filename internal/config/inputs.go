package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"
)

// The front ends FromEnvironment can pick.
const (
	FrontEndActions = "actions" // GitHub Actions inputs, INPUT_*
	FrontEndPlugin  = "plugin"  // Woodpecker/Drone settings, PLUGIN_*
)

// FromInputs fills a Config from the inputs of the GitHub Action. The runner hands a
// container action each input as INPUT_<NAME> with the name upper-cased and spaces
// turned into _ but - kept: runtime-image arrives as INPUT_RUNTIME-IMAGE.
// go-githubactions reads them that way and trims the value, as the toolkit does.
//
// The runner also sets every input it was not given to its action.yml default, so an
// empty input means the default here; a test keeps action.yml's defaults and
// Defaults in step. The one difference from the CLI: cache defaults to gha.
//
// Booleans are the YAML 1.2 core schema words the toolkit's getBooleanInput takes:
// true, True, TRUE, false, False, FALSE. env is one NAME=VALUE per line, or several
// on a line separated by commas (see splitEnvList); secret-env is one a line (see
// secretEnvList). Every unparsable input is an
// *InputError; all of them come back at once, joined. FromInputs does not validate:
// call Validate(InputNaming) on the result.
func FromInputs(getenv func(string) string) (Config, error) {
	action := githubactions.New(githubactions.WithGetenv(getenv))
	c := Defaults()
	c.Cache.Backend = CacheGHA
	err := load(&c, InputNaming, action.GetInput, func(v string, s setting) ([]string, error) {
		return s.splitText(v)
	})
	return c, err
}

// FromEnvironment picks the front end for a `build` run without flags, the way the
// action/plugin image runs it (Dockerfile: CMD ["build"]):
//
//   - GitHub Actions inputs when GITHUB_ACTIONS=true, unless no INPUT_* setting is set
//     and a PLUGIN_* one is (a plugin image run by a Forgejo/Gitea runner, say);
//   - Woodpecker/Drone settings when any PLUGIN_* setting is set, or when
//     CI=woodpecker or DRONE=true (the plugin run without settings, whose missing
//     binary is then reported as the plugin setting);
//   - otherwise an *InputError: flags are needed.
//
// It also fills in what the CI's environment gives rather than a setting (Repository,
// BuildKit.EnvHost), and returns the Naming to pass to Validate and the front end,
// FrontEndActions or FrontEndPlugin. getenv cannot tell an empty variable from an unset one, so only
// non-empty settings count.
func FromEnvironment(getenv func(string) string) (cfg Config, naming Naming, source string, err error) {
	actions := getenv("GITHUB_ACTIONS") == "true"
	plugin := anySet(getenv, pluginEnv)
	switch {
	case actions && (anySet(getenv, inputEnv) || !plugin):
		cfg, err = FromInputs(getenv)
		cfg.Repository = repository(getenv)
		cfg.BuildKit.ReadEnvironment(getenv)
		return cfg, InputNaming, FrontEndActions, err
	case plugin || getenv("CI") == "woodpecker" || getenv("DRONE") == "true":
		cfg, err = FromPlugin(getenv)
		cfg.Repository = repository(getenv)
		cfg.BuildKit.ReadEnvironment(getenv)
		return cfg, PluginNaming, FrontEndPlugin, err
	}
	return Defaults(), FlagNaming, "", &InputError{
		Name: "build",
		Problem: "no settings: pass flags (at least --binary NAME), or run it as the GitHub Action " +
			"(GITHUB_ACTIONS=true, INPUT_* inputs) or as a Woodpecker/Drone plugin (PLUGIN_* settings)",
	}
}

// repository is the CI's repository as owner/name: GitHub's, Woodpecker's or Drone's.
func repository(getenv func(string) string) string {
	for _, k := range []string{"GITHUB_REPOSITORY", "CI_REPO", "DRONE_REPO"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return ""
}

func anySet(getenv func(string) string, env func(string) string) bool {
	for _, s := range settings {
		if strings.TrimSpace(getenv(env(s.name))) != "" {
			return true
		}
	}
	return false
}

// load sets every setting that get returns a non-empty value for, leaving the others
// at what c holds. Values are parsed by the type of their field (see setting.set);
// list parses lists, which is where the front ends differ. All parse errors are
// returned, joined.
func load(c *Config, name Naming, get func(string) string, list func(string, setting) ([]string, error)) error {
	var errs []error
	for _, s := range settings {
		if v := get(s.name); v != "" {
			errs = append(errs, s.set(c, v, name, list))
		}
	}
	return errors.Join(errs...)
}

// parseBool takes the YAML 1.2 core schema booleans, as @actions/core's
// getBooleanInput does; yes, on, 1 and the like are mistakes worth reporting.
func parseBool(v string) (bool, error) {
	switch v {
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean: use true or false (True, TRUE, False, FALSE also work)", v)
}

// parseDuration takes a positive Go duration such as 30s or 2m. Zero is refused
// rather than taken: an unset duration setting is empty, and 0 would read as "no
// time at all" to the user but mean the defaults here.
func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a duration such as 30s or 2m: %w", v, err)
	case d <= 0:
		return 0, fmt.Errorf("%q is not a positive duration such as 30s or 2m", v)
	}
	return d, nil
}

// envStart matches where a NAME=VALUE entry begins.
var envStart = regexp.MustCompile(`^\s*[A-Za-z_][A-Za-z0-9_]*=`)

// labelStart matches where a KEY=VALUE entry with a label's or a registry's key
// begins (org.opencontainers.image.title=, ghcr.io=, 127.0.0.1:5000=).
var labelStart = regexp.MustCompile(`^\s*[A-Za-z0-9][A-Za-z0-9._:/-]*=`)

// anyStart matches anywhere: every comma separates entries (image references hold
// none).
var anyStart = regexp.MustCompile(``)

// splitEnvList splits NAME=VALUE entries written one per line, several on a line
// separated by commas, or both. A comma starts a new entry only when NAME= follows
// it, so values that contain commas survive:
//
//	RUSTFLAGS=-C link-arg=-Wl,--as-needed,CARGO_INCREMENTAL=0
//
// is two entries. Entries are trimmed and empty ones dropped; an entry without = is
// kept for Validate to report. One entry per line is never ambiguous.
func splitEnvList(v string) []string { return splitList(v, envStart) }

// splitList splits a list setting's entries: one per line, or several on a line
// separated by commas where start matches what follows the comma.
func splitList(v string, entry *regexp.Regexp) []string {
	var out []string
	add := func(e string) {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	for _, line := range strings.Split(v, "\n") {
		start := 0
		for i := 0; i < len(line); i++ {
			if line[i] == ',' && entry.MatchString(line[i+1:]) {
				add(line[start:i])
				start = i + 1
			}
		}
		add(line[start:])
	}
	return out
}
