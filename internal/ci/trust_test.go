package ci

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// parseFileCommands reads $GITHUB_OUTPUT as the runner does (actions/runner,
// SetOutputFileCommand): a line NAME=VALUE, or NAME<<DELIMITER and the lines up to
// one that is DELIMITER exactly; empty lines between are skipped. It returns the
// outputs and the delimiters seen.
func parseFileCommands(t *testing.T, data string) (map[string]string, []string) {
	t.Helper()
	out := map[string]string{}
	var delims []string
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			continue
		}
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			out[line[:eq]] = line[eq+1:]
		case hd >= 0:
			key, delim := line[:hd], line[hd+2:]
			delims = append(delims, delim)
			var value []string
			for {
				if !sc.Scan() {
					t.Fatalf("no closing %q for %s in:\n%s", delim, key, data)
				}
				if l := strings.TrimSuffix(sc.Text(), "\r"); l != delim {
					value = append(value, l)
					continue
				}
				break
			}
			out[key] = strings.Join(value, "\n")
		default:
			t.Fatalf("the runner refuses the line %q of:\n%s", line, data)
		}
	}
	return out, delims
}

// A value cannot end its heredoc early and add outputs of its own: each value has
// a random delimiter, as the Actions toolkit writes them, not go-githubactions'
// fixed one.
func TestOutputsCannotInjectOutputs(t *testing.T) {
	t.Parallel()
	for _, evil := range []string{
		"p\n_GitHubActionsFileCommandDelimeter_\nevil=1",
		"p\nghadelimiter_00000000-0000-4000-8000-000000000000\nevil=1",
		"p\nevil<<X\nX",
	} {
		t.Run(evil, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			getenv := envOf(map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary")})
			r := NewActions(Options{Log: io.Discard, Out: io.Discard, Now: fakeClock()}, getenv)
			r.Output("cache-matched-key", evil)
			r.Output("image", "x")
			if err := r.Finish(); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(getenv("GITHUB_OUTPUT"))
			got, delims := parseFileCommands(t, string(data))
			if _, ok := got["evil"]; ok || got["cache-matched-key"] != evil || got["image"] != "x" || len(got) != 2 {
				t.Errorf("outputs %q from:\n%s", got, data)
			}
			if len(delims) != 2 || delims[0] == delims[1] || !regexp.MustCompile(`^ghadelimiter_[0-9a-f-]{36}$`).MatchString(delims[0]) {
				t.Errorf("delimiters %q: want a random ghadelimiter_<uuid> each", delims)
			}
		})
	}
}

// A value or a name that holds its delimiter is refused, as the toolkit does, and
// so is a name the runner would cut elsewhere.
func TestFileCommandRefuses(t *testing.T) {
	t.Parallel()
	const d = "ghadelimiter_x"
	tests := []struct {
		name, key, value string
		want             string // "" for none
	}{
		{"a value of lines", "tags", "a:1\nb:2", ""},
		{"the delimiter in the value", "k", "x\n" + d + "\nevil=1", "holds its delimiter"},
		{"the delimiter in the name", "k" + d, "x", "holds its delimiter"},
		{"= in the name", "a=b", "x", "not one the runner reads back"},
		{"a newline in the name", "a\nb", "x", "not one the runner reads back"},
		{"an empty name", "", "x", "not one the runner reads back"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd, err := fileCommand(tc.key, tc.value, d)
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want == "":
				if got, _ := parseFileCommands(t, cmd); len(got) != 1 || got[tc.key] != tc.value {
					t.Errorf("read back %q from %q", got, cmd)
				}
			case err == nil || !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %v, want %q (wrote %q)", err, tc.want, cmd)
			}
		})
	}
}

// A missing, unset or unwritable $GITHUB_OUTPUT or $GITHUB_STEP_SUMMARY is a
// warning that names it, not a panic (exit 2, the real error hidden): the build's
// own result stands.
func TestRunnerFilesMissing(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "no", "such", "dir")
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"in a missing directory", map[string]string{"GITHUB_OUTPUT": filepath.Join(missing, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(missing, "sum")},
			[]string{"::warning::", "GITHUB_OUTPUT", filepath.Join(missing, "out"), "GITHUB_STEP_SUMMARY"}},
		{"unset", map[string]string{}, []string{"::warning::", "GITHUB_OUTPUT is not set", "GITHUB_STEP_SUMMARY is not set"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, fail := range []bool{false, true} {
				var log bytes.Buffer
				r := NewActions(Options{Log: &log, Out: io.Discard, Now: fakeClock()}, envOf(tc.env))
				r.Output("image", "x")
				err := noPanic(t, func() error {
					if fail {
						return r.Fail(errors.New("build failed"))
					}
					return r.Finish()
				})
				if err != nil {
					t.Errorf("fail=%v: %v, want the build's own result", fail, err)
				}
				for _, w := range tc.want {
					if !strings.Contains(log.String(), w) {
						t.Errorf("fail=%v: the log lacks %q:\n%s", fail, w, log.String())
					}
				}
			}
		})
	}
}

// noPanic runs f and turns a panic into a test error.
func noPanic(t *testing.T, f func() error) (err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("panic: %v", p)
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return f()
}

// The output file is not written through a symbolic link, which a checkout may
// hold in its place: the link's target stays as it was, and the error names the
// path.
func TestOutputFileRefusesSymlink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		target func(dir string) string // what the link points to
	}{
		{"to a file", func(dir string) string {
			victim := filepath.Join(dir, "victim")
			if err := os.WriteFile(victim, []byte("keep\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return victim
		}},
		{"to no file yet", func(dir string) string { return filepath.Join(dir, "victim") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			victim := tc.target(dir)
			before, _ := os.ReadFile(victim)
			link := filepath.Join(dir, "rust-s2i-musl.env")
			if err := os.Symlink(victim, link); err != nil {
				t.Fatal(err)
			}
			r := NewPlain(Options{Log: io.Discard, Out: io.Discard, OutputFile: link, Now: fakeClock()})
			r.Output("image", "x")
			err := r.Finish()
			if err == nil || !strings.Contains(err.Error(), link) {
				t.Errorf("error %v, want one naming %s", err, link)
			}
			if after, _ := os.ReadFile(victim); !bytes.Equal(after, before) {
				t.Errorf("the link's target was written: %q, was %q", after, before)
			}
		})
	}
}

// StopCommands stops the runner's workflow commands around output that is not
// ours (cargo's, build scripts'), with a fresh random token each time, and resumes
// them once. What the Reporter says while they are stopped is held and said after.
func TestStopCommands(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	r := NewActions(Options{Log: &log, Out: io.Discard, Now: fakeClock()}, envOf(nil))
	resume := r.StopCommands()
	fmt.Fprintln(&log, "::error::forged by a build script")
	r.Warn("held")
	r.Mask("late-secret")
	resume()
	resume()
	again := r.StopCommands()
	again()
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	stop := regexp.MustCompile(`^::stop-commands::([0-9a-f]{32,})$`)
	m := stop.FindStringSubmatch(lines[0])
	if m == nil || len(lines) != 7 {
		t.Fatalf("log:\n%s", log.String())
	}
	want := []string{lines[0], "::error::forged by a build script", "::" + m[1] + "::", "::warning::held", "::add-mask::late-secret"}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d is %q, want %q", i+1, lines[i], w)
		}
	}
	if m2 := stop.FindStringSubmatch(lines[5]); m2 == nil || m2[1] == m[1] || lines[6] != "::"+m2[1]+"::" {
		t.Errorf("a second stop has no fresh token:\n%s", log.String())
	}

	var plainLog bytes.Buffer
	p := NewPlain(Options{Log: &plainLog, Out: io.Discard, Now: fakeClock()})
	p.StopCommands()()
	if plainLog.Len() != 0 {
		t.Errorf("the plain dialect wrote %q", plainLog.String())
	}
}

// envOf is a getenv over m.
func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// An annotation comes out as the ::error command assemble would have written, its
// properties in the order file, line, col and escaped as the toolkit escapes them;
// while commands are stopped it is held until they resume. The plain dialect
// writes none: the log has cargo's error.
func TestAnnotate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		file      string
		line, col int
		msg       string
		want      string
	}{
		{"plain", "svc/src/main.rs", 2, 18, "error[E0308]: mismatched types",
			"::error file=svc/src/main.rs,line=2,col=18::error[E0308]: mismatched types"},
		{"escaped", "a,b:c%.rs", 3, 7, "100% wrong\n::add-mask::x",
			"::error file=a%2Cb%3Ac%25.rs,line=3,col=7::100%25 wrong%0A::add-mask::x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			r := NewActions(Options{Log: &log, Out: io.Discard, Now: fakeClock()}, envOf(nil))
			resume := r.StopCommands()
			r.Annotate(tc.file, tc.line, tc.col, tc.msg)
			held := log.String()
			resume()
			lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
			if strings.Contains(held, "::error") || len(lines) != 3 || lines[2] != tc.want {
				t.Errorf("log:\n%s\nwant the annotation %q after the resume", log.String(), tc.want)
			}
			var plainLog bytes.Buffer
			NewPlain(Options{Log: &plainLog, Out: io.Discard, Now: fakeClock()}).Annotate(tc.file, tc.line, tc.col, tc.msg)
			if plainLog.Len() != 0 {
				t.Errorf("the plain dialect wrote %q", plainLog.String())
			}
		})
	}
}
