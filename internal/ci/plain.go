package ci

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/shell"
)

// Options are where a Reporter writes, in either dialect, and its clock.
type Options struct {
	Log        io.Writer        // progress: phases and their parts, warnings, notices
	Out        io.Writer        // the outputs, one KEY=VALUE line each
	OutputFile string           // also write the outputs here for sh to source; "" for none
	Now        func() time.Time // the clock phases are timed by
}

// plain writes for people and for CIs without workflow commands: log lines, the
// outputs on Out, and the output file.
type plain struct{ Options }

func (p plain) begin(name string) { fmt.Fprintf(p.Log, "==> %s\n", name) }

func (p plain) end(name string, d time.Duration) {
	fmt.Fprintf(p.Log, "<== %s (%s)\n", name, d.Round(time.Millisecond))
}

func (p plain) part(name string, d time.Duration) {
	fmt.Fprintf(p.Log, "    %s (%s)\n", name, d.Round(time.Millisecond))
}

func (p plain) fact(name, text string) { fmt.Fprintf(p.Log, "%s: %s\n", name, text) }

func (p plain) warn(msg string) { fmt.Fprintf(p.Log, "warning: %s\n", msg) }

func (p plain) notice(msg string) { fmt.Fprintf(p.Log, "notice: %s\n", msg) }

// mask hides nothing: outside Actions no one reads a mask command.
func (plain) mask(string) {}

// annotate writes nothing: the compile error is in the log as cargo wrote it.
func (plain) annotate(string, int, int, string) {}

// stopCommands stops nothing: outside Actions no one runs a line as a command.
func (plain) stopCommands() (resume func()) { return nil }

// publish writes the outputs as KEY=VALUE lines on Out and, when set, as sh
// variables to the output file.
func (p plain) publish(b book) error {
	var s strings.Builder
	for _, k := range b.keys {
		fmt.Fprintf(&s, "%s=%s\n", k, oneLine(b.outputs[k]))
	}
	if _, err := io.WriteString(p.Out, s.String()); err != nil {
		return fmt.Errorf("writing outputs: %w", err)
	}
	if p.OutputFile == "" {
		return nil
	}
	return writeOutputFile(p.OutputFile, []byte(shellVars(b)))
}

// oneLine is a value as its KEY=VALUE line on Out shows it. That form is read a
// line at a time, so a value of several lines, which is a list of one item a line
// (tags), shows its items joined with commas, empty lines dropped: `tags=a:1,b:2`,
// as the metadata output's image.name joins them, and as the Woodpecker/Drone
// settings take a list. The other forms keep the lines: $GITHUB_OUTPUT in its
// multi-line form, the output file in quotes.
func oneLine(v string) string {
	if !strings.ContainsAny(v, "\r\n") {
		return v
	}
	return strings.Join(strings.FieldsFunc(v, func(c rune) bool { return c == '\n' || c == '\r' }), ",")
}

// shellVars writes the outputs as a file that sh can source, as Woodpecker and
// Drone steps do (`. ./rust-s2i-musl.env`): RUST_S2I_MUSL_IMAGE='...' and so on,
// each value in single quotes, so spaces, quotes and newlines come through.
func shellVars(b book) string {
	var s strings.Builder
	for _, k := range b.keys {
		name := "RUST_S2I_MUSL_" + strings.ToUpper(strings.ReplaceAll(k, "-", "_"))
		fmt.Fprintf(&s, "%s=%s\n", name, shell.Quote(b.outputs[k]))
	}
	return s.String()
}
