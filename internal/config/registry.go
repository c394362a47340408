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

// validate checks the credentials. A bad entry of Auth is named by its place,
// never quoted, not even its registry: a line without its = is all password.
func (r Registry) validate(name Naming) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &InputError{Name: name(field), Problem: fmt.Sprintf(format, args...)})
	}
	if err := registryAuthList.check(r.Auth); err != nil {
		errs = append(errs, &InputError{Name: name("registry-auth"), Problem: err.Error(), Err: err})
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
