package s2i

import (
	"strconv"
	"strings"
	"sync"
)

// Annotation is a compile error on a source line, for the CI to show on that line
// (a GitHub Actions ::error annotation). assemble writes one workflow command per
// error, as "TOKEN annotate ::error file=F,line=L,col=C::MESSAGE", escaped as the
// Actions toolkit escapes; the build's token keeps them apart from lines a build
// script prints, and the line never reaches the log as it is: the runner does not
// take commands while the build's output streams (the pipeline stops them), and the
// pipeline writes the annotations once it takes them again.
type Annotation struct {
	File      string
	Line, Col int
	Message   string
}

// parseAnnotation reads the workflow command assemble writes, "::error
// file=F,line=L,col=C::MESSAGE"; ok is false for anything else.
func parseAnnotation(cmd string) (a Annotation, ok bool) {
	rest, ok := strings.CutPrefix(cmd, "::error ")
	if !ok {
		return a, false
	}
	props, msg, ok := strings.Cut(rest, "::")
	if !ok {
		return a, false
	}
	seen := 0
	for _, p := range strings.Split(props, ",") {
		k, v, _ := strings.Cut(p, "=")
		v = unescapeProperty(v)
		var err error
		switch k {
		case "file":
			a.File = v
		case "line":
			a.Line, err = strconv.Atoi(v)
		case "col":
			a.Col, err = strconv.Atoi(v)
		default:
			return a, false
		}
		if err != nil {
			return a, false
		}
		seen++
	}
	a.Message = unescapeData(msg)
	return a, seen == 3 && a.File != ""
}

// unescapeData undoes the toolkit's escaping of a command's message: %25 last, so
// that an escaped "%0A" stays what it was.
func unescapeData(s string) string {
	s = strings.ReplaceAll(s, "%0D", "\r")
	s = strings.ReplaceAll(s, "%0A", "\n")
	return strings.ReplaceAll(s, "%25", "%")
}

// unescapeProperty undoes the toolkit's escaping of a command's property value.
func unescapeProperty(s string) string {
	s = strings.ReplaceAll(s, "%3A", ":")
	s = strings.ReplaceAll(s, "%2C", ",")
	return unescapeData(s)
}

// annotations collects a build's annotations from the attach stream's goroutine.
type annotations struct {
	mu  sync.Mutex
	all []Annotation
}

// add keeps the annotation in line; a line that is not one is dropped, as the
// runner would drop a malformed command.
func (as *annotations) add(line string) {
	a, ok := parseAnnotation(line)
	if !ok {
		return
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	as.all = append(as.all, a)
}

func (as *annotations) list() []Annotation {
	as.mu.Lock()
	defer as.mu.Unlock()
	return append([]Annotation(nil), as.all...)
}
