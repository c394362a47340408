// Package gha is a cache.Store over the GitHub Actions cache service, through
// github.com/tonistiigi/go-actions-cache.
//
// It speaks both protocols: v2 (Twirp at $ACTIONS_RESULTS_URL, data in Azure blobs
// behind signed URLs), which github.com serves, and v1 (REST at $ACTIONS_CACHE_URL),
// which GitHub Enterprise Server, Gitea, Forgejo and act serve. The runner does not
// tell a container action which one to use, so New decides from the environment;
// chooseEndpoint documents the rules.
//
// # Scope
//
// Keys here name no repository and no ref (cache.KeyParts.Scopes is empty for
// this store): the service keeps each repository's cache apart, and within it lets
// a run restore only its own ref's entries, its pull request's base branch's and
// the default branch's, which is the rule the local and s3 stores get from scoped
// keys (see plan.Ref.Scopes).
//
// # Time bounds
//
// A cache that hangs must cost a warning, not a stuck build, so every call has a
// bound, Config.Timeout, by default:
//
//   - Save: 2 minutes (defaultSaveTimeout) for reserve, upload and commit together.
//   - Load: 1 minute (defaultLoadTimeout) for the lookup and the first answer of the
//     download. The content stream that Load returns has no overall limit (a large
//     entry may take long), but a Read fails when no data comes for that long.
//
// The bounds are context deadlines, so they hold whatever the server does: refuse
// connections, accept and never answer, or answer 429 forever. Within them,
// go-actions-cache retries only 429 (after Retry-After, or a backoff from 1 s that
// doubles); this package keeps at least a second between a 429 and the next try, and
// limits the Azure SDK to 4 retries from 0.5 s instead of go-actions-cache's 10 with
// delays up to 2 minutes. A 5xx from the control plane is not retried.
//
// # Errors
//
// A failed call's error names the step (lookup, download, reserve, upload,
// commit) and the HTTP status; its text never holds the token or a URL signature. A
// key that is taken (409, or the service's "already exists") is also
// cache.ErrExists, and a miss is cache.ErrNotFound.
package gha
