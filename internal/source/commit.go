package source

import (
	"context"
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
