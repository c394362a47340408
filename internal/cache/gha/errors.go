package gha

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	actionscache "github.com/tonistiigi/go-actions-cache"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
)

// The steps of a cache call, named in errors so a warning says what went wrong.
const (
	stepLookup   = "lookup"
	stepDownload = "download"
	stepReserve  = "reserve"
	stepUpload   = "upload"
	stepCommit   = "commit"
)

// callError is a failed Load or Save. Its text names the step and the HTTP status and has
// the token and URL signatures removed; Unwrap gives the library's error (whose text
// is not cleaned) and, for a key that is taken, cache.ErrExists.
type callError struct {
	Op     string // "load" or "save"
	Step   string // lookup, download, reserve, upload, commit
	Status int    // the last HTTP status of the step; 0 when there was none
	Err    error

	kind error // cache.ErrExists or nil
	msg  string
}

func (e *callError) Error() string { return e.msg }

// Unwrap lets errors.Is find cache.ErrExists, context errors and the library's errors.
func (e *callError) Unwrap() []error {
	if e.kind != nil {
		return []error{e.kind, e.Err}
	}
	return []error{e.Err}
}

// newError builds a callError. stop is why the call's context ended, if it did (our
// time bound or the caller's cancellation); it replaces the library's bare
// "context deadline exceeded" with something a user can act on.
func newError(op, step string, status int, err, stop error, secrets ...string) *callError {
	if status == 0 {
		var re *azcore.ResponseError
		var he actionscache.HTTPError
		switch {
		case errors.As(err, &re):
			status = re.StatusCode
		case errors.As(err, &he):
			status = he.StatusCode
		}
	}
	e := &callError{Op: op, Step: step, Status: status, Err: err}
	if (step == stepReserve || step == stepCommit) && isExists(err, status) {
		e.kind = cache.ErrExists
	}

	var b strings.Builder
	fmt.Fprintf(&b, "gha cache %s: %s", op, step)
	if status != 0 && status/100 != 2 {
		fmt.Fprintf(&b, ": HTTP %d %s", status, http.StatusText(status))
	}
	text := describe(err)
	if stop != nil && !strings.Contains(text, stop.Error()) {
		// net/http often puts the cause into its own error already.
		fmt.Fprintf(&b, ": %v", stop)
	}
	fmt.Fprintf(&b, ": %s", text)
	e.msg = redact(b.String(), secrets...)
	return e
}

// describe is err's text, but an Azure error is one line instead of a page.
func describe(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			return "blob service: " + re.ErrorCode
		}
		return "blob service error"
	}
	return err.Error()
}

// isExists says whether a reserve or commit failed because the key is taken: a 409,
// GitHub's ArtifactCacheItemAlreadyExistsException or Twirp's already_exists (both
// answer os.ErrExist in go-actions-cache), or a v2 refusal that says so.
func isExists(err error, status int) bool {
	return status == http.StatusConflict ||
		errors.Is(err, os.ErrExist) ||
		strings.Contains(strings.ToLower(err.Error()), "already exists")
}

// sigRE matches the signature of a SAS URL (v2 upload and download URLs).
var sigRE = regexp.MustCompile(`(?i)([?&]sig=)[^&\s"']+`)

func redact(s string, secrets ...string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return sigRE.ReplaceAllString(s, "${1}***")
}

// stopCause is why ctx ended, or nil while it runs.
func stopCause(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return context.Cause(ctx)
}
