// Package ci reports a build's progress and results to wherever it runs: phases
// with their durations, warnings, and the outputs (image, sizes, cache result).
package ci

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Phase is one timed step of a build.
type Phase struct {
	Name     string
	Duration time.Duration
}

// Plain reports as plain text: phases and warnings to Log, outputs to Out as
// KEY=VALUE lines and, when OutputFile is set, to that file too.
type Plain struct {
	Log        io.Writer
	Out        io.Writer
	OutputFile string
	Now        func() time.Time

	mu      sync.Mutex
	phases  []Phase
	outputs map[string]string
}

// Phase prints that a phase starts and returns the function that ends it.
func (p *Plain) Phase(name string) func() {
	start := p.Now()
	fmt.Fprintf(p.Log, "==> %s\n", name)
	return func() {
		d := p.Now().Sub(start)
		p.mu.Lock()
		p.phases = append(p.phases, Phase{name, d})
		p.mu.Unlock()
		fmt.Fprintf(p.Log, "<== %s (%s)\n", name, d.Round(time.Millisecond))
	}
}

// Warn prints a warning that does not stop the build.
func (p *Plain) Warn(format string, args ...any) {
	fmt.Fprintf(p.Log, "warning: %s\n", fmt.Sprintf(format, args...))
}

// Output records one result.
func (p *Plain) Output(key, value string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.outputs == nil {
		p.outputs = map[string]string{}
	}
	p.outputs[key] = value
}

// Phases returns the phases that ended, in order.
func (p *Plain) Phases() []Phase {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Phase(nil), p.phases...)
}

// Finish writes the outputs.
func (p *Plain) Finish() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	keys := make([]string, 0, len(p.outputs))
	for k := range p.outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, p.outputs[k])
	}
	io.WriteString(p.Out, b.String())
	if p.OutputFile == "" {
		return nil
	}
	if err := os.WriteFile(p.OutputFile, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("writing outputs: %w", err)
	}
	return nil
}
