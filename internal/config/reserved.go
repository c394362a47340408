package config

import (
	"fmt"
	"slices"
	"strings"
)

// The builder's S2I scripts (s2i/bin/assemble, save-artifacts) and its image own
// some variable names. A user's env or secret-env entry of the same name would
// clobber them: BINARY=other builds another binary than the one checked, a
// CARGO_TARGET_DIR moves the binary away from where assemble takes it and the
// build state away from what the cache saves. So these names are refused, with
// exit 2, before anything runs. A test holds the lists to the scripts.

// reservedPrefix is the scripts' own namespace: the cargo options, the
// annotations and whatever the scripts read next arrive as RUST_S2I_* variables.
const reservedPrefix = "RUST_S2I_"

// userKnob is the one RUST_S2I_* variable meant for users (assemble's
// RUST_S2I_LINKER=default keeps the toolchain's linker), and only in env: it is
// no secret.
const userKnob = "RUST_S2I_LINKER"

// reservedEverywhere are the names the build sets for the scripts (BINARY,
// RUST_TARGET) or the image's layout the scripts and the cache rely on.
var reservedEverywhere = []string{"BINARY", "RUST_TARGET", "HOME", "PATH", "CARGO_HOME", "CARGO_TARGET_DIR"}

// reserved reports whether name is the scripts' own: in secret-env when secret,
// else in env. The RUST_S2I_* namespace is reserved in env only: assemble loads
// secret-env in the subshell that runs cargo, where the scripts' variables are
// already read, so a secret reaches cargo's environment and nothing of the scripts'.
func reserved(name string, secret bool) bool {
	switch {
	case slices.Contains(reservedEverywhere, name):
		return true
	case strings.HasPrefix(name, reservedPrefix):
		return !secret && name != userKnob
	}
	return false
}

// reservedProblem is the error for the entries of env (or, when secret,
// secret-env) whose names are reserved, listing what is; nil when none is. Names
// are shown: a reserved one is one of a fixed list, never a secret's value.
func reservedProblem(name Naming, entries []string, secret bool) error {
	var found []string
	for _, kv := range entries {
		if k, _, _ := strings.Cut(kv, "="); reserved(k, secret) && !slices.Contains(found, k) {
			found = append(found, k)
		}
	}
	if len(found) == 0 {
		return nil
	}
	verb, field := "is", "env"
	if len(found) > 1 {
		verb = "are"
	}
	rule := strings.Join(reservedEverywhere, ", ") + " and " + reservedPrefix + "* but " + userKnob
	if secret {
		field = "secret-env"
		rule = strings.Join(reservedEverywhere, ", ")
	}
	return &InputError{Name: name(field), Problem: fmt.Sprintf(
		"%s %s the builder scripts' own, which the build sets or relies on; %s may not set %s",
		strings.Join(found, ", "), verb, name(field), rule)}
}
