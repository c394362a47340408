package cratedeps

import (
	"cmp"
	"strconv"
	"strings"
)

// compareVersions orders semantic versions by precedence (1.2.10 after 1.2.9, a
// pre-release before its release) and falls back to the strings for what does not
// parse. It only has to be a total, machine-independent order for sorting.
func compareVersions(a, b string) int {
	if a == b {
		return 0
	}
	ca, pa := splitVersion(a)
	cb, pb := splitVersion(b)
	for i := 0; i < 3; i++ {
		if c := compareIdent(ca[i], cb[i]); c != 0 {
			return c
		}
	}
	switch {
	case pa == "" && pb != "":
		return 1
	case pa != "" && pb == "":
		return -1
	}
	as, bs := strings.Split(pa, "."), strings.Split(pb, ".")
	for i := 0; i < min(len(as), len(bs)); i++ {
		if c := compareIdent(as[i], bs[i]); c != 0 {
			return c
		}
	}
	return cmp.Or(cmp.Compare(len(as), len(bs)), strings.Compare(a, b))
}

// splitVersion returns major, minor and patch and the pre-release, dropping build
// metadata.
func splitVersion(v string) ([3]string, string) {
	v, _, _ = strings.Cut(v, "+")
	core, pre, _ := strings.Cut(v, "-")
	var out [3]string
	copy(out[:], strings.SplitN(core, ".", 3))
	return out, pre
}

// compareIdent compares numerically when both are numbers (numbers sort before
// words, as semver says), else as strings.
func compareIdent(a, b string) int {
	na, errA := strconv.ParseUint(a, 10, 64)
	nb, errB := strconv.ParseUint(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		return cmp.Compare(na, nb)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}
