package plan

import (
	"encoding/json"
	"io"
	"os"
	"regexp"
	"strings"
)

// Ref is the git ref a CI build is of, as the CI's environment says. It decides
// what of the build state the build may use and leave (see Scopes): a pull
// request must neither build on nor replace the default branch's state, as the
// Actions cache keeps a pull request's entries from its base branch.
type Ref struct {
	// Name is the ref: refs/heads/B, refs/tags/T, or refs/pull/N for a pull
	// request; "" when no CI says (a build on a laptop).
	Name string
	// PR is set for a pull request. Its Name is refs/pull/N, or pr:HEAD when the CI
	// gives no number (pull_request_target).
	PR bool
	// Base is a pull request's target branch, refs/heads/B; "" when not known.
	Base string
	// Default is the repository's default branch, refs/heads/B; "" when the CI
	// does not say.
	Default string
}

// IsDefault reports whether the build is of the default branch, or is one the
// rule cannot tell from it and trusts like it: a build with no ref, and a push
// whose CI does not name the default branch. A pull request never is. Such builds
// keep the -tmp image names and the cache scope that builds had before refs
// counted, so nothing moves for them.
func (r Ref) IsDefault() bool {
	switch {
	case r.PR:
		return false
	case r.Name == "" || r.Default == "":
		return true
	}
	return r.Name == r.Default
}

// Own is the ref whose state the build keeps: "" stands for the default branch
// (see IsDefault), else Name.
func (r Ref) Own() string {
	if r.IsDefault() {
		return ""
	}
	return r.Name
}

// Scopes are the refs whose state the build may use, its own first and the only
// one it may write to ("" is the default branch): a pull request falls back to its
// base branch and then the default branch; any other ref to the default branch.
// The default branch uses its own state only, so it never restores a pull
// request's or a feature branch's. This is the Actions cache's rule.
func (r Ref) Scopes() []string {
	scopes := []string{r.Own()}
	if r.PR && r.Base != "" && r.Default != "" && r.Base != r.Default {
		scopes = append(scopes, r.Base)
	}
	if scopes[0] != "" {
		scopes = append(scopes, "")
	}
	return scopes
}

// TmpSuffix is what the default -tmp image name of the build has before its
// "-tmp": "" for the default branch, so its name stays what it was; "-pr-N" for a
// pull request; "-" and the branch or tag, made a valid name, for another ref.
func (r Ref) TmpSuffix() string {
	if r.IsDefault() {
		return ""
	}
	name := r.Name
	if n, ok := strings.CutPrefix(name, "refs/pull/"); ok {
		name = "pr-" + n
	} else if h, ok := strings.CutPrefix(name, "pr:"); ok {
		name = "pr-" + h
	}
	name = strings.TrimPrefix(strings.TrimPrefix(name, "refs/heads/"), "refs/tags/")
	slug := strings.Trim(nonAlnum.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(slug) > maxRefSlug {
		slug = strings.TrimRight(slug[:maxRefSlug], "-")
	}
	if slug == "" {
		slug = "ref"
	}
	return "-" + slug
}

// maxRefSlug bounds a ref's part of a -tmp image name; two refs that the cut (or
// the slug) makes alike still never share an image, since the owner check compares
// the whole ref (tmpimage.LabelRef).
const maxRefSlug = 40

var nonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// tmpName is the -tmp image of a build of ref: name, the default one, with the
// ref's suffix before its "-tmp". A name the user chose is theirs and stays.
func tmpName(name string, chosen bool, ref Ref) string {
	if chosen || ref.TmpSuffix() == "" {
		return name
	}
	return strings.TrimSuffix(name, "-tmp") + ref.TmpSuffix() + "-tmp"
}

// ciRef reads the build's ref from GitHub Actions', Woodpecker's or Drone's
// variables, in that order; the zero Ref when none says.
func ciRef(getenv func(string) string) Ref {
	if getenv("GITHUB_REF") != "" || getenv("GITHUB_HEAD_REF") != "" {
		r := Ref{Name: getenv("GITHUB_REF"), Default: branchRef(eventDefaultBranch(getenv("GITHUB_EVENT_PATH")))}
		if head := getenv("GITHUB_HEAD_REF"); head != "" { // pull_request(_target) events only
			r.PR, r.Base, r.Name = true, branchRef(getenv("GITHUB_BASE_REF")), pullRef(r.Name, "pr:"+head)
		}
		return r
	}
	for _, v := range []struct{ pr, base, ref, tag, branch, def string }{
		{"CI_COMMIT_PULL_REQUEST", "CI_COMMIT_TARGET_BRANCH", "CI_COMMIT_REF", "CI_COMMIT_TAG", "CI_COMMIT_BRANCH", "CI_REPO_DEFAULT_BRANCH"},
		{"DRONE_PULL_REQUEST", "DRONE_TARGET_BRANCH", "DRONE_COMMIT_REF", "DRONE_TAG", "DRONE_BRANCH", "DRONE_REPO_BRANCH"},
	} {
		r := Ref{Name: getenv(v.ref), Default: branchRef(getenv(v.def))}
		if n := getenv(v.pr); n != "" {
			r.PR, r.Base, r.Name = true, branchRef(getenv(v.base)), pullRef("refs/pull/"+n, "pr:"+n)
			return r
		}
		switch {
		case r.Name != "":
		case getenv(v.tag) != "":
			r.Name = "refs/tags/" + getenv(v.tag)
		case getenv(v.branch) != "":
			r.Name = branchRef(getenv(v.branch))
		default:
			continue // not this CI
		}
		return r
	}
	return Ref{}
}

var pullNumber = regexp.MustCompile(`^refs/pull/([0-9]+)(/|$)`)

// pullRef is refs/pull/N from a ref that names the pull request's number, else
// fallback.
func pullRef(ref, fallback string) string {
	if m := pullNumber.FindStringSubmatch(ref); m != nil {
		return "refs/pull/" + m[1]
	}
	return fallback
}

// branchRef is the ref of branch b, "" for "".
func branchRef(b string) string {
	if b == "" || strings.HasPrefix(b, "refs/") {
		return b
	}
	return "refs/heads/" + b
}

// maxEventBytes bounds the read of the Actions event payload, which holds the
// default branch: a payload is a few hundred kilobytes at most.
const maxEventBytes = 16 << 20

// eventDefaultBranch is the repository's default branch from the Actions event
// payload at path, "" when it cannot be read: then the rule trusts every push like
// the default branch (see Ref.IsDefault).
func eventDefaultBranch(path string) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var ev struct {
		Repository struct {
			DefaultBranch string `json:"default_branch"`
		} `json:"repository"`
	}
	if json.NewDecoder(io.LimitReader(f, maxEventBytes)).Decode(&ev) != nil {
		return ""
	}
	return ev.Repository.DefaultBranch
}
