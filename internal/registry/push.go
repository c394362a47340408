package registry

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
)

// Engine is the part of the Docker client that Push uses.
type Engine interface {
	ImagePush(ctx context.Context, image string, options client.ImagePushOptions) (client.ImagePushResponse, error)
}

// ErrUnauthorized is matched (errors.Is) by a push error where the registry
// refused the credentials, wanted some and got none, or denied the push: the
// fix is in the user's secrets or rights, not in the build.
var ErrUnauthorized = errors.New("registry authentication failed")

// Push has the daemon push ref (a local image, NAME[:TAG]; the tag defaults to
// latest) to its registry with auth, and returns the pushed manifest's digest.
//
// progress gets one short line per finished step (a layer pushed or already
// there, the final digest); nil discards them. Neither those lines nor the error
// ever contain the password or the identity token.
func Push(ctx context.Context, e Engine, ref string, auth Auth, progress io.Writer) (string, error) {
	if progress == nil {
		progress = io.Discard
	}
	encoded, err := encodeAuth(ref, auth)
	if err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	r := newRedactor(auth, encoded)
	resp, err := e.ImagePush(ctx, ref, client.ImagePushOptions{RegistryAuth: encoded})
	if err != nil {
		return "", r.wrap(err, "pushing %s: %s", ref, err)
	}
	defer resp.Close()

	var digest string
	for m, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return "", r.wrap(err, "pushing %s: reading the daemon's progress: %s", ref, err)
		}
		if m.Error != nil {
			return "", pushFailure(ref, auth, m.Error, r)
		}
		if m.Aux != nil {
			var aux struct {
				Tag    string
				Digest string
				Size   int64
			}
			if json.Unmarshal(*m.Aux, &aux) == nil && aux.Digest != "" {
				digest = aux.Digest
			}
			continue
		}
		if line := progressLine(m); line != "" {
			fmt.Fprintln(progress, r.redact(line))
		}
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	if digest == "" {
		return "", fmt.Errorf("pushing %s: the daemon finished without reporting the pushed digest", ref)
	}
	return digest, nil
}

// progressLine is the line worth logging for m, or "" for the noise: the
// per-layer "Preparing", "Waiting" and byte-count "Pushing" updates.
func progressLine(m jsonstream.Message) string {
	status := strings.TrimSpace(m.Status)
	if status == "" {
		status = strings.TrimSpace(m.Stream)
	}
	if status == "" {
		return ""
	}
	if m.ID == "" {
		return status
	}
	switch status {
	case "Preparing", "Waiting", "Pushing":
		return ""
	}
	return m.ID + ": " + status
}

// pushFailure turns the daemon's in-band error into one that says whose fault it
// is. Registries and daemons word these differently (distribution:
// "unauthorized: authentication required", Docker Hub: "denied: requested access
// to the resource is denied", the daemon: "no basic auth credentials"); the
// daemon seldom sets a code, so the text decides.
func pushFailure(ref string, auth Auth, e *jsonstream.Error, r redactor) error {
	msg := r.redact(strings.TrimSpace(e.Message))
	lower := strings.ToLower(msg)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(lower, w) {
				return true
			}
		}
		return false
	}
	refused := e.Code == 401 || has("unauthorized", "authentication required", "no basic auth credentials", "incorrect username or password", "invalid username/password")
	denied := e.Code == 403 || has("denied", "forbidden")
	var text string
	switch {
	case refused && !auth.IsZero():
		text = fmt.Sprintf("pushing %s: the registry refused the credentials for %s: %s", ref, auth.who(), msg)
	case refused:
		text = fmt.Sprintf("pushing %s: the registry wants credentials and none were given (%s): %s", ref, Hint, msg)
	case denied && !auth.IsZero():
		text = fmt.Sprintf("pushing %s: the registry denied %s the push (no write access to this repository, or it does not exist): %s", ref, auth.who(), msg)
	case denied:
		text = fmt.Sprintf("pushing %s: the registry denied an anonymous push (%s): %s", ref, Hint, msg)
	default:
		return &pushError{text: fmt.Sprintf("pushing %s: %s", ref, msg)}
	}
	return &pushError{text: text, kind: ErrUnauthorized}
}

// pushError carries text that has been redacted; kind is a sentinel it matches.
type pushError struct {
	text  string
	kind  error
	cause error
}

func (e *pushError) Error() string        { return e.text }
func (e *pushError) Unwrap() error        { return e.cause }
func (e *pushError) Is(target error) bool { return e.kind != nil && target == e.kind }

// redactor replaces the password and the identity token, and the encodings
// they travel in, with ***. The daemon and registries are not known to echo
// them; this makes sure.
type redactor struct{ secrets []string }

func newRedactor(a Auth, encoded string) redactor {
	if a.Password == "" && a.IdentityToken == "" {
		return redactor{}
	}
	s := []string{encoded, a.IdentityToken}
	if a.Password != "" {
		basic := a.Username + ":" + a.Password
		s = append(s, base64.StdEncoding.EncodeToString([]byte(basic)), basic, a.Password)
	}
	return redactor{sortSecrets(s)}
}

// sortSecrets drops empty and duplicate secrets and puts the longest first, so
// that a secret that contains another is replaced whole.
func sortSecrets(s []string) []string {
	s = slices.DeleteFunc(s, func(x string) bool { return x == "" })
	slices.SortFunc(s, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	return slices.Compact(s)
}

func (r redactor) redact(s string) string {
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}

// wrap is fmt.Errorf(format, args...) with the text redacted and cause kept for
// errors.Is/As (the cause's own text is not redacted; callers print the wrapper).
func (r redactor) wrap(cause error, format string, args ...any) error {
	return &pushError{text: r.redact(fmt.Sprintf(format, args...)), cause: cause}
}
