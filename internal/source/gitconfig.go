package source

import (
	"bytes"
	"regexp"
	"strings"
)

// droppedSections are the git config sections left out of the copy of a source
// whole: credential helpers (a helper line can hold a token, and a store helper
// names a file on the host), url.<base>.insteadOf rewrites (a base can be
// https://x-access-token:TOKEN@github.com/), and include/includeIf, whose paths
// name files on the host (actions/checkout can keep its credential in one).
var droppedSections = map[string]bool{"credential": true, "url": true, "include": true, "includeif": true}

// droppedKeys are section.key names left out: http.<url>.extraHeader is where
// actions/checkout persists its token (AUTHORIZATION: basic ...).
var droppedKeys = map[string]bool{"http.extraheader": true}

// userinfo matches the user (and password) of a URL: what Redact drops.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s"]*@`)

// ScrubGitConfig returns a git config file's text without the credentials a CI
// checkout or a clone leaves in it: droppedSections and droppedKeys go, and every
// URL kept (a remote's url and pushurl, a proxy, a section's subsection) loses its
// user and password. Everything else stays as it was, comments and layout
// included, so git in the build container still knows the repository's remotes
// and settings.
func ScrubGitConfig(data []byte) []byte {
	var out bytes.Buffer
	section := ""
	dropping := false // in a dropped key's continuation lines
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if dropping {
			dropping = continues(line)
			continue
		}
		rest := line
		if name, header, after, ok := sectionHeader(line); ok {
			section = name
			if droppedSections[section] {
				continue
			}
			out.WriteString(userinfo.ReplaceAllString(header, "$1"))
			rest = after
		} else if droppedSections[section] {
			continue
		}
		if key := keyOf(rest); key != "" && droppedKeys[section+"."+key] {
			dropping = continues(rest)
			if strings.HasSuffix(rest, "\n") && rest != line {
				out.WriteString("\n") // the header's line ends as it did
			}
			continue
		}
		out.WriteString(userinfo.ReplaceAllString(rest, "$1"))
	}
	return out.Bytes()
}

// sectionHeader splits a line that starts a section: the section's name in lower
// case (without its subsection: [http "https://x/"] and [http.https://x/] are
// both "http"), the header itself, and what follows it on the line (git allows a
// key there).
func sectionHeader(line string) (name, header, after string, ok bool) {
	trimmed := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(trimmed, "[") {
		return "", "", "", false
	}
	end, quoted := -1, false
	for i := 1; i < len(trimmed) && end < 0; i++ {
		switch c := trimmed[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == ']' && !quoted:
			end = i
		}
	}
	if end < 0 {
		return "", "", "", false
	}
	inner := trimmed[1:end]
	name = strings.ToLower(strings.TrimSpace(inner))
	if i := strings.IndexAny(name, " \t\"."); i >= 0 {
		name = name[:i]
	}
	indent := len(line) - len(trimmed)
	return name, line[:indent+end+1], trimmed[end+1:], true
}

// keyOf is the lower-case name of the variable a line sets, "" for none (a blank
// line, a comment, a continuation).
func keyOf(line string) string {
	s := strings.TrimLeft(line, " \t")
	n := 0
	for n < len(s) && (s[n] == '-' || 'a' <= s[n]|0x20 && s[n]|0x20 <= 'z' || n > 0 && '0' <= s[n] && s[n] <= '9') {
		n++
	}
	if n == 0 {
		return ""
	}
	if after := strings.TrimLeft(s[n:], " \t"); after != "" && after[0] != '=' && after[0] != '\n' && after[0] != '\r' && after[0] != '#' && after[0] != ';' {
		return ""
	}
	return strings.ToLower(s[:n])
}

// continues reports whether a value goes on to the next line (a trailing
// backslash).
func continues(line string) bool {
	return strings.HasSuffix(strings.TrimRight(line, "\r\n"), `\`)
}
