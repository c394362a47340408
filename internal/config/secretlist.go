package config

import (
	"fmt"
	"strconv"
	"strings"
)

// This file is the list settings whose entries hold secrets: secret-env and
// registry-auth. An entry of them that does not parse may be a bare token (a line
// whose NAME= was forgotten), so their errors say where the entry is, the line of
// the input or setting or the entry of the flags and JSON lists, and never show
// any part of it.

// secretList is how a secret list setting's entries are written and checked.
type secretList struct {
	form  string            // an entry's form, for errors: NAME=VALUE or NAME
	valid func(string) bool // whether an entry has that form
	// split cuts one line of the setting into its entries.
	split func(line string) []string
}

// secretEnvList is secret-env's: one entry a line, since a value may hold commas
// (DB_URL=postgres://h/db?a=1,b=2). Only a line of bare names separated by commas
// is a list: that is how Woodpecker and Drone pass a YAML list such as
// [NPM_TOKEN, CARGO_TOKEN], and no name holds a comma or an =, so it cannot be one
// entry. A line of NAME=VALUE entries separated by commas is one entry whose value
// holds the rest: it was split on commas before, but so was a URL's query, and
// which one the user meant cannot be told.
var secretEnvList = secretList{form: "NAME=VALUE or NAME", valid: validSecretEnv, split: splitBareNames}

// registryAuthList is registry-auth's: entries one a line or several on a line
// where REGISTRY= follows the comma (a Woodpecker YAML list arrives so). A
// password holding ",HOST=" would be cut there, and its second half is then an
// entry without USER: and reported, not used.
var registryAuthList = secretList{form: "REGISTRY=USER:PASSWORD", valid: validAuth, split: func(line string) []string {
	return splitList(line, labelStart)
}}

// validSecretEnv reports whether kv is NAME=VALUE or NAME with a variable's name.
func validSecretEnv(kv string) bool {
	k, _, _ := strings.Cut(kv, "=")
	return envKeyRe.MatchString(k)
}

// validAuth reports whether a is REGISTRY=USER:PASSWORD with a registry and a user.
func validAuth(a string) bool {
	reg, cred, _ := strings.Cut(a, "=")
	user, _, ok := strings.Cut(cred, ":")
	return reg != "" && user != "" && ok
}

// splitBareNames splits a line of bare names separated by commas (see
// secretEnvList); any other line is one entry.
func splitBareNames(line string) []string {
	parts := []string{line}
	if !strings.Contains(line, "=") {
		parts = strings.Split(line, ",")
	}
	var entries []string
	for _, e := range parts {
		if e = strings.TrimSpace(e); e != "" {
			entries = append(entries, e)
		}
	}
	return entries
}

// parse splits a setting's text into entries and checks each; a bad one is
// reported by its line number, counted from 1 in the value as it arrived (the
// runner and the plugin trim its leading blank lines).
func (l secretList) parse(v string) ([]string, error) {
	var out []string
	var bad []string
	for i, line := range strings.Split(v, "\n") {
		for _, e := range l.split(line) {
			if !l.valid(e) {
				bad = append(bad, strconv.Itoa(i+1))
				continue
			}
			out = append(out, e)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s not %s (not shown, as it may hold a secret)", where("line", bad), l.form)
	}
	return out, nil
}

// check checks entries that were already split (the flags, a plugin's JSON list,
// a Config built in code): a bad one is reported by its place, counted from 1.
func (l secretList) check(entries []string) error {
	var bad []string
	for i, e := range entries {
		if !l.valid(e) {
			bad = append(bad, strconv.Itoa(i+1))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s not %s (not shown, as it may hold a secret)", where("entry", bad), l.form)
	}
	return nil
}

// where says which lines or entries: "line 2 is", "lines 2, 5 are".
func where(what string, numbers []string) string {
	if len(numbers) == 1 {
		return what + " " + numbers[0] + " is"
	}
	return what + "s " + strings.Join(numbers, ", ") + " are"
}
