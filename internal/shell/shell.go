// Package shell writes values for POSIX sh to read back unchanged: the secrets file
// that assemble sources and the plugin's output file are sh variable assignments.
package shell

import "strings"

// Quote is s as one sh word in single quotes, which take everything literally but
// a single quote: that one ends the quoting, is escaped, and the quoting resumes.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
