package config

import (
	"fmt"
	"strings"
)

// Registry is the registry credentials of a Config, for push and pulls. It never
// prints a password (see Format): logging a Config cannot leak one.
type Registry struct {
	// Username and Password are the login for push; both empty means the Docker
	// config's.
	Username string
	Password Secret
	// Auth is REGISTRY=USER:PASSWORD logins, one per registry, for push and pulls.
	Auth []string
}

// validate checks the credentials; an entry of Auth is never quoted, only its
// registry, since it holds a password.
func (r Registry) validate(name Naming) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &InputError{Name: name(field), Problem: fmt.Sprintf(format, args...)})
	}
	for _, a := range r.Auth {
		reg, cred, _ := strings.Cut(a, "=")
		if user, _, ok := strings.Cut(cred, ":"); reg == "" || user == "" || !ok {
			bad("registry-auth", "an entry for %q is not REGISTRY=USER:PASSWORD", firstRunes(reg, 40))
		}
	}
	switch {
	case r.Username != "" && r.Password == "":
		bad("password", "is required with username")
	case r.Username == "" && r.Password != "":
		bad("username", "is required with password")
	}
	return errs
}

// secrets are the passwords in r, for a CI log to mask. An Auth entry without
// USER: is masked whole after the =: it is likely a token written alone.
func (r Registry) secrets() []string {
	out := []string{string(r.Password)}
	for _, a := range r.Auth {
		_, cred, _ := strings.Cut(a, "=")
		if _, pass, ok := strings.Cut(cred, ":"); ok {
			cred = pass
		}
		out = append(out, cred)
	}
	return out
}

// Format prints r with every password shown as *** (Auth entries as
// REGISTRY=USER:***), in every verb: %v, %+v, %#v, %s and %q.
func (r Registry) Format(f fmt.State, verb rune) {
	type fields Registry // the same fields without the methods, so fmt prints them
	m := fields{Username: r.Username, Password: r.Password}
	for _, a := range r.Auth {
		reg, cred, _ := strings.Cut(a, "=")
		shown := reg + "=***"
		if user, _, ok := strings.Cut(cred, ":"); ok {
			shown = reg + "=" + user + ":***"
		}
		m.Auth = append(m.Auth, shown)
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), m)
}
