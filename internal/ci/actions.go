package ci

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/rust-s2i/rust-s2i-musl/internal/human"
)

// actions writes for GitHub Actions: what plain writes, with phases as groups,
// warnings and notices as annotations, masks, the step outputs and the job summary.
// The log's workflow commands go through go-githubactions, which escapes their
// data as the Actions toolkit does. The file commands do not (see fileCommand):
// its delimiter is fixed, and it panics when a file cannot be written.
type actions struct {
	plain
	gh     *githubactions.Action
	getenv func(string) string // names the runner's files
}

// newGH is the go-githubactions writer of the log's workflow commands.
func newGH(o Options, getenv func(string) string) *githubactions.Action {
	return githubactions.New(githubactions.WithWriter(o.Log), githubactions.WithGetenv(getenv))
}

func (a actions) begin(name string) { a.gh.Group(name) }

func (a actions) end(name string, d time.Duration) {
	a.plain.end(name, d) // the duration stays visible with the group collapsed
	a.gh.EndGroup()
}

func (a actions) warn(msg string) { a.gh.Warningf("%s", msg) }

func (a actions) notice(msg string) { a.gh.Noticef("%s", msg) }

func (a actions) mask(secret string) { a.gh.AddMask(secret) }

// annotate writes an ::error command with its properties in the order file, line,
// col, as assemble wrote them (go-githubactions would sort them), escaped as the
// toolkit escapes.
func (a actions) annotate(file string, line, col int, msg string) {
	fmt.Fprintf(a.Log, "::error file=%s,line=%d,col=%d::%s\n", escapeProperty(file), line, col, escapeData(msg))
}

// escapeData escapes a workflow command's message as the toolkit does, so that it
// cannot end early.
func escapeData(v string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(v)
}

// escapeProperty escapes a workflow command's property value as the toolkit does,
// so that it cannot end the properties or add one.
func escapeProperty(v string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(v)
}

// stopCommands has the runner take the log's lines as text until resume, with a
// fresh token, so that no line of output it did not write runs as a command.
func (a actions) stopCommands() (resume func()) {
	token := newToken()
	a.gh.IssueCommand(&githubactions.Command{Name: "stop-commands", Message: token})
	return func() { a.gh.IssueCommand(&githubactions.Command{Name: token}) }
}

// publish writes what plain does, then the step outputs and the job summary. A
// multi-line value (tags) keeps its lines in $GITHUB_OUTPUT, as
// docker/metadata-action's tags output has them. The runner's files that cannot
// be written are warnings: the build's own result stands, and the outputs are in
// the log all the same.
func (a actions) publish(b book) error {
	err := a.plain.publish(b)
	a.outputs(b)
	if werr := appendRunnerFile(a.getenv, "GITHUB_STEP_SUMMARY", summary(b)); werr != nil {
		a.warn(fmt.Sprintf("the job summary is not written: %v", werr))
	}
	return err
}

// outputs appends the step outputs to $GITHUB_OUTPUT, each with a delimiter of
// its own; one that cannot be written safely is left out, with a warning.
func (a actions) outputs(b book) {
	if len(b.keys) == 0 {
		return
	}
	var s strings.Builder
	for _, k := range b.keys {
		cmd, err := fileCommand(k, b.outputs[k], newDelimiter())
		if err != nil {
			a.warn(fmt.Sprintf("step output %s is not written: %v", k, err))
			continue
		}
		s.WriteString(cmd)
	}
	if err := appendRunnerFile(a.getenv, "GITHUB_OUTPUT", s.String()); err != nil {
		a.warn(fmt.Sprintf("the step outputs are not written: %v", err))
	}
}

// summary is the job summary: the image, the phases with their durations, the
// facts (how the build got its images), the cache result, the sizes, and the C
// libraries from the builder the binary links.
func summary(bk book) string {
	var b strings.Builder
	out := bk.outputs
	fmt.Fprintf(&b, "### rust-s2i-musl: `%s`\n\n", out["image"])
	if tags := strings.Fields(out["tags"]); len(tags) > 1 {
		b.WriteString("Tags:\n")
		for _, t := range tags {
			fmt.Fprintf(&b, "- `%s`\n", t)
		}
		b.WriteString("\n")
	}
	if bk.failed != nil {
		where := ""
		if bk.failIn != "" {
			where = " in phase `" + bk.failIn + "`"
		}
		// In a code block: an error may hold Markdown or HTML.
		fmt.Fprintf(&b, "**Failed%s:**\n\n```\n%s\n```\n\n", where, bk.failed)
	}
	b.WriteString(phaseTable(bk.phases))
	cache := "miss"
	switch {
	case out["cache-hit"] == "true":
		cache = "hit (`" + out["cache-matched-key"] + "`)"
	case out["cache-matched-key"] != "":
		cache = "partial, from `" + out["cache-matched-key"] + "`"
	}
	b.WriteString("| | |\n|---|---|\n")
	for _, f := range bk.facts {
		fmt.Fprintf(&b, "| %s | %s |\n", cell(f.name), cell(f.text))
	}
	fmt.Fprintf(&b, "| cache | %s |\n| binary | %s |\n| image | %s |\n| image ID | `%s` |\n",
		cache, size(out["binary-size"]), size(out["image-size"]), out["image-id"])
	if d := out["digest"]; d != "" {
		fmt.Fprintf(&b, "| digest | `%s` |\n", d)
	}
	if f := out["sbom"]; f != "" { // for actions/attest-sbom's sbom-path
		fmt.Fprintf(&b, "| SBOM | `%s` |\n", f)
	}
	if libs := cLibraries(out["c-libraries"]); libs != "" {
		fmt.Fprintf(&b, "| C libraries from the builder | %s |\n", libs)
	}
	b.WriteString(platformTable(out["platforms"]))
	return b.String()
}

// cLibraries is the c-libraries output (a line per library: NAME VERSION
// CRATE...) for the summary's table: "openssl 3.0.17 (openssl-sys, pq-sys),
// zlib 1.3.1 (libz-sys)"; "" when the binary links none. A builder's label is
// its own text (see cell).
func cLibraries(v string) string {
	var libs []string
	for _, line := range strings.Split(v, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		libs = append(libs, fmt.Sprintf("%s %s (%s)", f[0], f[1], strings.Join(f[2:], ", ")))
	}
	return cell(strings.Join(libs, ", "))
}

// cell is text for a cell of a summary table: a "|" in it must not end the cell,
// nor a line break the row.
func cell(text string) string {
	return strings.NewReplacer("|", "\\|", "\r\n", " ", "\n", " ", "\r", " ").Replace(text)
}

// platformTable is the summary's table of a multi-platform build's images, from
// the platforms output (a line per platform: PLATFORM BINARY-SIZE DIGEST); ""
// for a single-platform build, which has none.
func platformTable(platforms string) string {
	var b strings.Builder
	for _, line := range strings.Split(platforms, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\n| platform | binary | image digest |\n|---|---:|---|\n")
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` |\n", f[0], size(f[1]), f[2])
	}
	return b.String()
}

// phaseTable is the summary's table of phases, their parts indented under them,
// and the total of the phases.
func phaseTable(phases []phase) string {
	var b strings.Builder
	b.WriteString("| phase | duration |\n|---|---:|\n")
	var total time.Duration
	for _, p := range phases {
		if p.part {
			fmt.Fprintf(&b, "| &nbsp;&nbsp;%s | %s |\n", p.name, p.duration.Round(time.Millisecond))
			continue // already counted in the phase above
		}
		fmt.Fprintf(&b, "| %s | %s |\n", p.name, p.duration.Round(time.Millisecond))
		total += p.duration
	}
	fmt.Fprintf(&b, "| **total** | **%s** |\n\n", total.Round(time.Millisecond))
	return b.String()
}

// size prints a byte count, an output's value, for people; a value that is no
// count is printed as it is.
func size(v string) string {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return v
	}
	return human.Bytes(n)
}
