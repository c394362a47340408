package source

import (
	"context"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Commit is what the image labels say about the source's commit.
type Commit struct {
	Revision string
	Time     time.Time
}

// LocalCommit reads HEAD of a local source directory with git. S2I copies a local
// directory instead of cloning it (so that uncommitted files count) and then records
// no commit, so it is read here. safe.directory=* because CI mounts the workspace
// owned by another user, which git otherwise refuses as "dubious ownership". No git
// or no repository gives the zero commit: a build never fails for want of labels.
func LocalCommit(ctx context.Context, dir string) Commit {
	out, err := exec.CommandContext(ctx, "git", "-c", "safe.directory=*", "-C", dir,
		"log", "-1", "--format=%H %ct").Output()
	if err != nil {
		return Commit{}
	}
	rev, ts, ok := strings.Cut(strings.TrimSpace(string(out)), " ")
	n, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		return Commit{}
	}
	return Commit{Revision: rev, Time: time.Unix(n, 0).UTC()}
}

// Remote is the URL of a local source directory's origin remote, or "" when it has
// none (or no git): with the commit, it says which repository a checkout is of.
func Remote(ctx context.Context, dir string) string {
	out, err := exec.CommandContext(ctx, "git", "-c", "safe.directory=*", "-C", dir, "remote", "get-url", "origin").Output()
	if err != nil {
		return ""
	}
	return Redact(strings.TrimSpace(string(out)))
}

// Redact drops the user and password from a URL: a git URL may carry a token
// (https://x-access-token:TOKEN@github.com/...), which must not reach a label.
// Anything that is not such a URL comes back as it is.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || u.Host == "" {
		return raw
	}
	u.User = nil
	return u.String()
}
