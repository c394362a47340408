package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/client"
)

// Puller is the part of the Docker client that Pull uses.
type Puller interface {
	ImagePull(ctx context.Context, ref string, options client.ImagePullOptions) (client.ImagePullResponse, error)
}

// Pull has the daemon pull ref from its registry with auth, waits for the pull
// to end, and returns what its progress messages say was downloaded. The error
// keeps the daemon's text, redacted like Push's, and matches ErrUnauthorized
// (errors.Is) when the registry refused: PullError and the caller's own words
// build on it.
func Pull(ctx context.Context, e Puller, ref string, auth Auth) (Download, error) {
	encoded, err := encodeAuth(ref, auth)
	if err != nil {
		return Download{}, fmt.Errorf("pulling %s: %w", ref, err)
	}
	r := newRedactor(auth, encoded)
	var got downloads
	resp, err := e.ImagePull(ctx, ref, client.ImagePullOptions{RegistryAuth: encoded})
	if err == nil {
		defer resp.Close()
		err = got.read(ctx, resp)
	}
	if err == nil {
		return got.result(), nil
	}
	text := r.redact(err.Error())
	var kind error
	if refused(firstLine(text)) {
		kind = ErrUnauthorized
	}
	return Download{}, &pushError{text: text, kind: kind, cause: err}
}

// refused reports whether a registry's or the daemon's message says the
// credentials were refused or missing.
func refused(msg string) bool {
	lower := strings.ToLower(msg)
	for _, w := range []string{"unauthorized", "authentication required", "denied", "no basic auth credentials", "forbidden"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}
