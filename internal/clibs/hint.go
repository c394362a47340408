package clibs

import (
	"fmt"
	"strings"
)

// DocsAnchor is where the documentation says what the builder brings and what to
// do about a library it does not.
const DocsAnchor = "docs/builder.md#c-libraries"

// IsSys reports whether crate is a -sys crate, by the naming convention of the
// crates that link a native library: the ones the hint is about.
func IsSys(crate string) bool {
	return strings.HasSuffix(crate, "-sys") || strings.HasSuffix(crate, "_sys")
}

// Hint is the line to print after a build whose build scripts of crates failed:
// which -sys crates' failed and what builder brings, by its label (have). ""
// when no -sys crate is among them: the failure is then no C library's.
func Hint(crates []string, builder string, have Set) string {
	var sys []string
	for _, c := range crates {
		if IsSys(c) {
			sys = append(sys, c)
		}
	}
	if len(sys) == 0 {
		return ""
	}
	what := sys[0] + "'s build script failed"
	if len(sys) > 1 {
		what = "the build scripts of " + strings.Join(sys[:len(sys)-1], ", ") + " and " + sys[len(sys)-1] + " failed"
	}
	brings := "brings no static musl C libraries (its " + Label + " label names none)"
	if len(have) > 0 {
		brings = "brings static musl C libraries: " + have.Describe()
	}
	return fmt.Sprintf("hint: %s; builder %s %s (%s). A library it does not bring needs a custom builder "+
		"(rust-s2i-musl builder --base ...) or the crate's vendored/bundled feature.", what, builder, brings, DocsAnchor)
}
