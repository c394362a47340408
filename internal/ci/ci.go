// Package ci reports a build's progress and results to wherever it runs: phases
// with their durations, warnings, and the outputs (image, sizes, cache result).
// Inside GitHub Actions it also speaks the runner's workflow commands: groups,
// warnings, masks, step outputs and the job summary.
package ci

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sethvargo/go-githubactions"
)

// Phase is one timed step of a build.
type Phase struct {
	Name     string
	Duration time.Duration
}

// Reporter writes phases and warnings to Log and, at Finish, the outputs to Out as
// KEY=VALUE lines and to OutputFile when set. With GitHub set, phases are
// ::group::s, warnings ::warning::s, and Finish writes $GITHUB_OUTPUT and the job
// summary too.
type Reporter struct {
	Log        io.Writer
	Out        io.Writer
	OutputFile string
	Now        func() time.Time
	GitHub     *githubactions.Action // nil outside GitHub Actions

	mu      sync.Mutex
	phases  []Phase
	outputs map[string]string
	started string // the phase that started last: where a failure happened
	failed  error  // why the build failed, for the summary
	failIn  string // the phase it failed in, "" before the first
}

// NewGitHub returns the workflow-command writer for Actions, writing to w and
// reading the runner's files through getenv.
func NewGitHub(w io.Writer, getenv func(string) string) *githubactions.Action {
	return githubactions.New(githubactions.WithWriter(w), githubactions.WithGetenv(getenv))
}

// Mask tells the runner to hide each non-empty secret in every later log line.
func (r *Reporter) Mask(secrets ...string) {
	if r.GitHub == nil {
		return
	}
	for _, s := range secrets {
		if s != "" {
			r.GitHub.AddMask(s)
		}
	}
}

// Phase prints that a phase starts and returns the function that ends it.
func (r *Reporter) Phase(name string) func() {
	start := r.Now()
	r.mu.Lock()
	r.started = name
	r.mu.Unlock()
	if r.GitHub != nil {
		r.GitHub.Group(name)
	} else {
		fmt.Fprintf(r.Log, "==> %s\n", name)
	}
	return func() {
		d := r.Now().Sub(start)
		r.mu.Lock()
		r.phases = append(r.phases, Phase{name, d})
		r.mu.Unlock()
		fmt.Fprintf(r.Log, "<== %s (%s)\n", name, d.Round(time.Millisecond))
		if r.GitHub != nil {
			r.GitHub.EndGroup()
		}
	}
}

// Record adds a part of an earlier phase, indented: it is not counted in the total.
func (r *Reporter) Record(name string, d time.Duration) {
	r.mu.Lock()
	r.phases = append(r.phases, Phase{"  " + name, d})
	r.mu.Unlock()
	fmt.Fprintf(r.Log, "    %s (%s)\n", name, d.Round(time.Millisecond))
}

// Notice prints something the user should know that is no problem, such as a name
// that was changed.
func (r *Reporter) Notice(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if r.GitHub != nil {
		r.GitHub.Noticef("%s", msg)
		return
	}
	fmt.Fprintf(r.Log, "notice: %s\n", msg)
}

// Warn prints a warning that does not stop the build.
func (r *Reporter) Warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if r.GitHub != nil {
		r.GitHub.Warningf("%s", msg)
		return
	}
	fmt.Fprintf(r.Log, "warning: %s\n", msg)
}

// Output records one result.
func (r *Reporter) Output(key, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.outputs == nil {
		r.outputs = map[string]string{}
	}
	r.outputs[key] = value
}

// Phases returns the phases that ended, in order.
func (r *Reporter) Phases() []Phase {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Phase(nil), r.phases...)
}

// Fail writes what Finish writes for a build that failed with err: the outputs it
// has, and a job summary that names the phase that failed and why. That summary is
// where a user looks first.
func (r *Reporter) Fail(err error) error {
	r.mu.Lock()
	r.failed, r.failIn = err, r.started
	r.mu.Unlock()
	return r.Finish()
}

// Finish writes the outputs, and in Actions the step outputs and job summary.
func (r *Reporter) Finish() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]string, 0, len(r.outputs))
	for k := range r.outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, r.outputs[k])
	}
	io.WriteString(r.Out, b.String())
	if r.OutputFile != "" {
		if err := os.WriteFile(r.OutputFile, []byte(shellVars(keys, r.outputs)), 0o644); err != nil {
			return fmt.Errorf("writing outputs: %w", err)
		}
	}
	if r.GitHub == nil {
		return nil
	}
	for _, k := range keys {
		r.GitHub.SetOutput(k, r.outputs[k])
	}
	r.GitHub.AddStepSummary(r.summary())
	return nil
}

// summary is the job summary: the image, the phases with their durations, the
// cache result and the sizes.
func (r *Reporter) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### rust-s2i-musl: `%s`\n\n", r.outputs["image"])
	if tags := strings.Fields(r.outputs["tags"]); len(tags) > 1 {
		b.WriteString("Tags:\n")
		for _, t := range tags {
			fmt.Fprintf(&b, "- `%s`\n", t)
		}
		b.WriteString("\n")
	}
	if r.failed != nil {
		where := ""
		if r.failIn != "" {
			where = " in phase `" + r.failIn + "`"
		}
		// In a code block: an error may hold Markdown or HTML.
		fmt.Fprintf(&b, "**Failed%s:**\n\n```\n%s\n```\n\n", where, r.failed)
	}
	b.WriteString("| phase | duration |\n|---|---:|\n")
	var total time.Duration
	for _, p := range r.phases {
		if strings.HasPrefix(p.Name, "  ") {
			fmt.Fprintf(&b, "| &nbsp;&nbsp;%s | %s |\n", strings.TrimSpace(p.Name), p.Duration.Round(time.Millisecond))
			continue // a part of the phase above, already counted
		}
		fmt.Fprintf(&b, "| %s | %s |\n", p.Name, p.Duration.Round(time.Millisecond))
		total += p.Duration
	}
	fmt.Fprintf(&b, "| **total** | **%s** |\n\n", total.Round(time.Millisecond))
	cache := "miss"
	switch {
	case r.outputs["cache-hit"] == "true":
		cache = "hit (`" + r.outputs["cache-matched-key"] + "`)"
	case r.outputs["cache-matched-key"] != "":
		cache = "partial, from `" + r.outputs["cache-matched-key"] + "`"
	}
	fmt.Fprintf(&b, "| | |\n|---|---|\n| cache | %s |\n| binary | %s |\n| image | %s |\n| image ID | `%s` |\n",
		cache, size(r.outputs["binary-size"]), size(r.outputs["image-size"]), r.outputs["image-id"])
	if d := r.outputs["digest"]; d != "" {
		fmt.Fprintf(&b, "| digest | `%s` |\n", d)
	}
	return b.String()
}

// shellVars writes the outputs as a file that sh can source, as Woodpecker and
// Drone steps do (`. ./rust-s2i-musl.env`): RUST_S2I_MUSL_IMAGE='...' and so on,
// each value in single quotes, so spaces, quotes and newlines come through.
func shellVars(keys []string, outputs map[string]string) string {
	var b strings.Builder
	for _, k := range keys {
		name := "RUST_S2I_MUSL_" + strings.ToUpper(strings.ReplaceAll(k, "-", "_"))
		fmt.Fprintf(&b, "%s='%s'\n", name, strings.ReplaceAll(outputs[k], "'", `'\''`))
	}
	return b.String()
}

// size prints a byte count for people.
func size(v string) string {
	var n float64
	if _, err := fmt.Sscan(v, &n); err != nil {
		return v
	}
	units := []string{"B", "KiB", "MiB", "GiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}
