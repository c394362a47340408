package ci

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fakeClock advances by a second on every call.
func fakeClock() func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func TestReporterInActions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
	}
	var log, out bytes.Buffer
	r := NewActions(Options{Log: &log, Out: &out, Now: fakeClock()}, func(k string) string { return env[k] })
	r.Mask("hunter2", "")
	end := r.Phase("s2i build")
	end()
	r.Record("s2i build: cargo", 500*time.Millisecond)
	r.Warn("cache entry %s not saved", "target")
	for k, v := range map[string]string{"image": "x", "cache-hit": "true", "cache-matched-key": "k1", "binary-size": "1572864"} {
		r.Output(k, v)
	}
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"::add-mask::hunter2", "::group::s2i build", "::endgroup::", "::warning::cache entry target not saved"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	if strings.Count(log.String(), "::add-mask::") != 1 {
		t.Errorf("an empty secret was masked:\n%s", log.String())
	}
	output, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	if !strings.Contains(string(output), "image<<") || !strings.Contains(string(output), "cache-hit<<") {
		t.Errorf("$GITHUB_OUTPUT:\n%s", output)
	}
	summary, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	for _, want := range []string{"| s2i build | 1s |", "| &nbsp;&nbsp;s2i build: cargo | 500ms |", "| **total** | **1s** |", "hit (`k1`)", "1.5 MiB"} {
		if !strings.Contains(string(summary), want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if !strings.Contains(out.String(), "cache-hit=true\n") {
		t.Errorf("plain outputs:\n%s", out.String())
	}
}

func TestReporterPlain(t *testing.T) {
	t.Parallel()
	var log, out bytes.Buffer
	file := filepath.Join(t.TempDir(), "outputs")
	r := NewPlain(Options{Log: &log, Out: &out, OutputFile: file, Now: fakeClock()})
	r.Mask("hunter2")
	r.Phase("package")()
	r.Warn("careful")
	r.Output("image", "x")
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "::") || strings.Contains(log.String(), "hunter2") {
		t.Errorf("workflow commands outside Actions:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "<== package (1s)") || !strings.Contains(log.String(), "warning: careful") {
		t.Errorf("log:\n%s", log.String())
	}
	if data, _ := os.ReadFile(file); string(data) != "RUST_S2I_MUSL_IMAGE='x'\n" {
		t.Errorf("output file %q", data)
	}
}

// A failed build still writes the outputs it has, and a summary naming the phase
// that failed and the error.
func TestFail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, summary := filepath.Join(dir, "out"), filepath.Join(dir, "summary")
	for _, f := range []string{out, summary} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	getenv := func(k string) string {
		return map[string]string{"GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": summary}[k]
	}
	var log bytes.Buffer
	r := NewActions(Options{Log: &log, Out: io.Discard, Now: fakeClock()}, getenv)
	r.Output("image", "svc")
	r.Phase("prepare images")()
	end := r.Phase("s2i build")
	end()
	if err := r.Fail(errors.New("assemble failed with exit code 101")); err != nil {
		t.Fatal(err)
	}
	o, _ := os.ReadFile(out)
	s, _ := os.ReadFile(summary)
	if !strings.Contains(string(o), "image<<") || !strings.Contains(string(o), "svc") {
		t.Errorf("outputs of a failed build lack the image:\n%s", o)
	}
	for _, want := range []string{"Failed in phase `s2i build`", "assemble failed with exit code 101", "| prepare images |"} {
		if !strings.Contains(string(s), want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}

// The output file is for sh to source: every value comes back as it was.
func TestOutputFileSourcedBySh(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "outputs")
	r := NewPlain(Options{Log: io.Discard, Out: io.Discard, OutputFile: file, Now: fakeClock()})
	tricky := `{"a": "it's \"quoted\"", "b": "$HOME ` + "`x`" + `"}` + "\nsecond line"
	r.Output("metadata", tricky)
	r.Output("image-id", "sha256:1")
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c", `. "$1" && printf '%s|%s' "$RUST_S2I_MUSL_METADATA" "$RUST_S2I_MUSL_IMAGE_ID"`, "sh", file).CombinedOutput()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, out)
	}
	if want := tricky + "|sha256:1"; string(out) != want {
		t.Errorf("sourced %q, want %q", out, want)
	}
}

// The KEY=VALUE lines on stdout are read a line at a time (the e2e tests split
// them on "\n" and cut at the first "="): a value of several lines, the tags, must
// come out on its own line, its items joined with commas, while $GITHUB_OUTPUT
// keeps the lines, as docker/metadata-action's tags output has them.
func TestStdoutOutputsOneLineEach(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, value, stdout string
	}{
		{"one line", "ghcr.io/o/app:1", "tags=ghcr.io/o/app:1\n"},
		{"empty", "", "tags=\n"},
		{"lines", "ghcr.io/o/app:1\nghcr.io/o/app:latest", "tags=ghcr.io/o/app:1,ghcr.io/o/app:latest\n"},
		{"trailing newline", "a:1\nb:2\n", "tags=a:1,b:2\n"},
		{"CRLF and an empty line", "a:1\r\n\r\nb:2", "tags=a:1,b:2\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			ghOutput := filepath.Join(dir, "output")
			getenv := func(k string) string {
				return map[string]string{"GITHUB_OUTPUT": ghOutput, "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary")}[k]
			}
			for dialect, newReporter := range map[string]func(Options) *Reporter{
				"plain":   NewPlain,
				"actions": func(o Options) *Reporter { return NewActions(o, getenv) },
			} {
				var out bytes.Buffer
				r := newReporter(Options{Log: io.Discard, Out: &out, Now: fakeClock()})
				r.Output("tags", tc.value)
				r.Output("image", "x")
				if err := r.Finish(); err != nil {
					t.Fatal(err)
				}
				if want := "image=x\n" + tc.stdout; out.String() != want {
					t.Errorf("%s: stdout %q, want %q", dialect, out.String(), want)
				}
			}
			if o, _ := os.ReadFile(ghOutput); !strings.Contains(string(o), "\n"+tc.value+"\n") {
				t.Errorf("$GITHUB_OUTPUT does not hold the value as it was, %q:\n%s", tc.value, o)
			}
		})
	}
}

// Workflow command data is escaped as the Actions toolkit does (% \r \n), so a
// message of several lines stays one command and a "%0A" in it is not read as a
// newline. go-githubactions does it; this keeps anyone from writing "::" by hand.
func TestWorkflowCommandsEscaped(t *testing.T) {
	t.Parallel()
	const tricky = "100% of a\r\nb"
	const escaped = "100%25 of a%0D%0Ab"
	for _, tc := range []struct {
		name string
		do   func(r *Reporter)
		want string
	}{
		{"warning", func(r *Reporter) { r.Warn("%s", tricky) }, "::warning::" + escaped + "\n"},
		{"notice", func(r *Reporter) { r.Notice("%s", tricky) }, "::notice::" + escaped + "\n"},
		{"group", func(r *Reporter) { r.Phase(tricky) }, "::group::" + escaped + "\n"},
		{"mask", func(r *Reporter) { r.Mask(tricky) }, "::add-mask::" + escaped + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			tc.do(NewActions(Options{Log: &log, Out: io.Discard, Now: fakeClock()}, func(string) string { return "" }))
			if log.String() != tc.want {
				t.Errorf("wrote %q, want %q", log.String(), tc.want)
			}
		})
	}
}

// A multi-platform build's platforms output becomes a table of its images in the
// job summary, each with its binary's size and its digest; a single-platform
// build's summary has none.
func TestSummaryPlatforms(t *testing.T) {
	t.Parallel()
	out := map[string]string{"image": "x", "platforms": "linux/amd64 1572864 sha256:aaa\nlinux/arm64 2097152 sha256:bbb"}
	got := summary(book{outputs: out})
	for _, want := range []string{"| platform | binary | image digest |", "| linux/amd64 | 1.5 MiB | `sha256:aaa` |", "| linux/arm64 | 2.0 MiB | `sha256:bbb` |"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	delete(out, "platforms")
	if got := summary(book{outputs: out}); strings.Contains(got, "| platform |") {
		t.Errorf("a single-platform summary has a platform table:\n%s", got)
	}
}

// The sbom output, the SPDX file's path, is a row of the summary when there is one.
func TestSummarySBOM(t *testing.T) {
	t.Parallel()
	tests := []struct{ sbom, want string }{
		{"/runner/tmp/rust-s2i-sbom-1/hello.spdx.json", "| SBOM | `/runner/tmp/rust-s2i-sbom-1/hello.spdx.json` |"},
		{"", ""},
	}
	for _, tc := range tests {
		got := summary(book{outputs: map[string]string{"image": "x", "sbom": tc.sbom}})
		if tc.want != "" && !strings.Contains(got, tc.want) || tc.want == "" && strings.Contains(got, "| SBOM |") {
			t.Errorf("sbom %q: summary\n%s\nwant %q", tc.sbom, got, tc.want)
		}
	}
}

// The c-libraries output is a row of the summary: each library with its version
// and the crates that link it; none when the binary links none. A "|" in a
// builder's label stays inside the cell.
func TestSummaryCLibraries(t *testing.T) {
	t.Parallel()
	tests := []struct{ libs, want string }{
		{"openssl 3.0.17 openssl-sys pq-sys\nlibpq 15.14 pq-sys\nzlib 1.3.1 libz-sys",
			"| C libraries from the builder | openssl 3.0.17 (openssl-sys, pq-sys), libpq 15.14 (pq-sys), zlib 1.3.1 (libz-sys) |\n"},
		{"sqlite 3.46|1 libsqlite3-sys", "| C libraries from the builder | sqlite 3.46\\|1 (libsqlite3-sys) |\n"},
		{"", ""},
	}
	for _, tc := range tests {
		got := summary(book{outputs: map[string]string{"image": "x", "c-libraries": tc.libs}})
		if tc.want != "" && !strings.Contains(got, tc.want) || tc.want == "" && strings.Contains(got, "C libraries") {
			t.Errorf("c-libraries %q: summary\n%s\nwant %q", tc.libs, got, tc.want)
		}
	}
}

// A fact is a "NAME: TEXT" line of the log, never taken for a phase's part (the
// benchmark reads those: "    PART (DURATION)"), and in Actions a row of the
// summary's table above the cache's, in the order given, its "|" kept in the cell.
func TestFacts(t *testing.T) {
	t.Parallel()
	summaryFile := filepath.Join(t.TempDir(), "summary")
	var log bytes.Buffer
	r := NewActions(Options{Log: &log, Out: io.Discard, Now: fakeClock()}, func(k string) string {
		return map[string]string{"GITHUB_STEP_SUMMARY": summaryFile}[k]
	})
	r.Phase("prepare images")()
	r.Record("prepare images: builder image", 2*time.Second)
	r.Fact("builder image", "ghcr.io/o/builder:stable, pulled in 2s: 662.8 MiB of compressed layers downloaded")
	r.Fact("runtime image", "odd|name (1.0s)\nsecond line")
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	wantLog := "<== prepare images (1s)\n::endgroup::\n    prepare images: builder image (2s)\n" +
		"builder image: ghcr.io/o/builder:stable, pulled in 2s: 662.8 MiB of compressed layers downloaded\n" +
		"runtime image: odd|name (1.0s)\nsecond line\n"
	if !strings.HasSuffix(log.String(), wantLog) {
		t.Errorf("log\n%s\nwant it to end with\n%s", log.String(), wantLog)
	}
	part := regexp.MustCompile(`(?m)^    [a-z0-9 ]+: .+ \([^)]*\)$`) // bench/run.sh's
	if got := part.FindAllString(log.String(), -1); len(got) != 1 {
		t.Errorf("the benchmark reads the parts %q, want the one", got)
	}
	s, _ := os.ReadFile(summaryFile)
	want := "| | |\n|---|---|\n" +
		"| builder image | ghcr.io/o/builder:stable, pulled in 2s: 662.8 MiB of compressed layers downloaded |\n" +
		"| runtime image | odd\\|name (1.0s) second line |\n" +
		"| cache | miss |\n"
	if !strings.Contains(string(s), want) {
		t.Errorf("summary\n%s\nlacks\n%s", s, want)
	}
}
