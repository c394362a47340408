package ci

import (
	"fmt"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"
)

// actions writes for GitHub Actions: what plain writes, with phases as groups,
// warnings and notices as annotations, masks, the step outputs and the job summary.
// Every workflow command goes through go-githubactions, which escapes its data as
// the Actions toolkit does; nothing here writes one by hand.
type actions struct {
	plain
	gh *githubactions.Action
}

func (a actions) begin(name string) { a.gh.Group(name) }

func (a actions) end(name string, d time.Duration) {
	a.plain.end(name, d) // the duration stays visible with the group collapsed
	a.gh.EndGroup()
}

func (a actions) warn(msg string) { a.gh.Warningf("%s", msg) }

func (a actions) notice(msg string) { a.gh.Noticef("%s", msg) }

func (a actions) mask(secret string) { a.gh.AddMask(secret) }

// publish writes what plain does, then the step outputs and the job summary. A
// multi-line value (tags) keeps its lines in $GITHUB_OUTPUT, as
// docker/metadata-action's tags output has them.
func (a actions) publish(b book) error {
	if err := a.plain.publish(b); err != nil {
		return err
	}
	for _, k := range b.keys {
		a.gh.SetOutput(k, b.outputs[k])
	}
	a.gh.AddStepSummary(summary(b))
	return nil
}

// summary is the job summary: the image, the phases with their durations, the
// cache result and the sizes.
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
	fmt.Fprintf(&b, "| | |\n|---|---|\n| cache | %s |\n| binary | %s |\n| image | %s |\n| image ID | `%s` |\n",
		cache, size(out["binary-size"]), size(out["image-size"]), out["image-id"])
	if d := out["digest"]; d != "" {
		fmt.Fprintf(&b, "| digest | `%s` |\n", d)
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
