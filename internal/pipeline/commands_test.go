package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/ci"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// In Actions, what the build prints (here a build script's ::set-output,
// ::add-mask:: and forged ::error:: lines, as cargo passes them on) lies between
// the stop-commands line and the line that resumes them, so the runner takes it as
// text; the annotations of a failed build, which assemble marked with the token,
// come after, and only those. Outside Actions the log is the build's output alone.
func TestBuildOutputInsideStopCommands(t *testing.T) {
	t.Parallel()
	forged := []string{"::set-output name=x::y", "::add-mask::leak", "::error file=fake.rs,line=1,col=1::forged"}
	tests := []struct {
		name    string
		report  func(log io.Writer) *ci.Reporter
		actions bool
	}{
		{"actions", func(log io.Writer) *ci.Reporter {
			return ci.NewActions(ci.Options{Log: log, Out: io.Discard, Now: time.Now}, func(string) string { return "" })
		}, true},
		{"plain", func(log io.Writer) *ci.Reporter {
			return ci.NewPlain(ci.Options{Log: log, Out: io.Discard, Now: time.Now})
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			build := func(context.Context, s2i.Request) (s2i.Result, error) {
				for _, l := range forged {
					fmt.Fprintf(&log, "     Running build script\n%s\n", l)
				}
				return s2i.Result{}, &s2i.FailedError{ExitCode: 1, Annotations: []s2i.Annotation{{File: "svc/src/main.rs", Line: 2, Col: 5, Message: "mismatched types"}}}
			}
			s := &buildStage{logs: logs{Report: tc.report(&log), Log: &log}, s2i: build}
			cfg := config.Defaults()
			cfg.Binary, cfg.Source = "hello", filepath.Join(testenv.RepoRoot(), "examples", "hello")
			_, err := s.Build(t.Context(), testPlan(t, cfg), State{Target: testenv.MuslTarget}, nil)
			if err == nil {
				t.Fatal("the failed build succeeded")
			}
			checkStopped(t, log.String(), forged, tc.actions)
		})
	}
}

// checkStopped checks that each of lines is in the log once, between a stop and
// its resume when stopped, and that the annotation comes after the resume.
func checkStopped(t *testing.T, log string, lines []string, stopped bool) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^::stop-commands::([0-9a-f]+)$`).FindStringSubmatchIndex(log)
	if !stopped {
		if m != nil || strings.Contains(log, "::error file=svc") {
			t.Errorf("the plain log stops commands or annotates:\n%s", log)
		}
		return
	}
	if m == nil {
		t.Fatalf("no stop-commands line:\n%s", log)
	}
	resume := strings.Index(log, "\n::"+log[m[2]:m[3]]+"::\n")
	annotation := strings.Index(log, "::error file=svc/src/main.rs,line=2,col=5::mismatched types\n")
	for _, l := range lines {
		i := strings.Index(log, "\n"+l+"\n")
		if i < m[0] || i > resume || strings.Count(log, l) != 1 {
			t.Errorf("%q is not inside the stop-commands window once:\n%s", l, log)
		}
	}
	if resume < 0 || annotation < resume {
		t.Errorf("the annotation is not written after the resume:\n%s", log)
	}
}
