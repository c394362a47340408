// Package ci reports a build's progress and results to wherever it runs: phases
// with their durations, warnings, and the outputs (image, sizes, cache result).
//
// A Reporter keeps the bookkeeping (the phases, the outputs, the failure) and hands
// each event to its dialect to write. The plain dialect writes log lines, the
// outputs as KEY=VALUE lines and, when asked, a file for sh to source; the Actions
// dialect writes all that too and speaks the runner's workflow commands besides:
// groups, warnings, masks, step outputs and the job summary, and stops them around
// output that is not ours (StopCommands).
package ci

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// phase is one timed step of a build, or a part of the step before it.
type phase struct {
	name     string
	duration time.Duration
	part     bool // a part of the phase before: not counted in the total
}

// fact is something the build found out that is no output, such as how it got
// its builder image.
type fact struct{ name, text string }

// dialect writes a Reporter's events where the build runs. The Reporter has
// already recorded each one; a dialect only writes.
type dialect interface {
	begin(phase string)                // a phase starts
	end(phase string, d time.Duration) // it ended after d
	part(name string, d time.Duration) // a part of the phase that ended, timed apart
	fact(name, text string)            // something found out, no output
	warn(msg string)
	notice(msg string)
	mask(secret string) // never empty
	// annotate marks a compile error on a source line.
	annotate(file string, line, col int, msg string)
	// stopCommands stops the runner's workflow commands and returns what resumes
	// them; nil when the dialect has none.
	stopCommands() (resume func())
	publish(b book) error
}

// book is what a Reporter recorded, copied out for its dialect to publish.
type book struct {
	keys    []string // the keys of outputs, sorted: outputs come out in this order
	outputs map[string]string
	phases  []phase
	facts   []fact
	failed  error  // why the build failed; nil when it did not
	failIn  string // the phase it failed in, "" before the first
}

// Reporter reports one build. It is safe for concurrent use: the pipeline times
// parts of phases from more than one goroutine.
type Reporter struct {
	now   func() time.Time
	speak dialect

	mu      sync.Mutex
	phases  []phase
	facts   []fact
	outputs map[string]string
	started string // the phase that started last: where a failure happened
	failed  error
	failIn  string
	stopped bool     // workflow commands are stopped (see StopCommands)
	held    []func() // what to say when they resume
}

// NewPlain returns the Reporter for a terminal or a CI without workflow commands.
func NewPlain(o Options) *Reporter {
	return &Reporter{now: o.Now, speak: plain{o}}
}

// NewActions returns the Reporter for GitHub Actions. Workflow commands go to
// o.Log with the rest of the log; getenv names the runner's files
// ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY).
func NewActions(o Options, getenv func(string) string) *Reporter {
	return &Reporter{now: o.Now, speak: actions{plain: plain{o}, gh: newGH(o, getenv), getenv: getenv}}
}

// Mask tells the runner to hide each non-empty secret in every later log line.
// Outside Actions nothing is hidden, and nothing printed. Mask before
// StopCommands: a mask given while commands are stopped takes effect only when
// they resume.
func (r *Reporter) Mask(secrets ...string) {
	for _, s := range secrets {
		if s != "" {
			r.say(func() { r.speak.mask(s) })
		}
	}
}

// StopCommands has the runner take every log line as text, not as a workflow
// command, until resume is called: call it around output that is not ours, the
// build's (cargo's, build scripts', a dependency's), which may print "::" lines
// on purpose or by accident (::add-path::, ::set-env:: in older runners,
// ::stop-commands:: of its own, fake ::error:: annotations). In Actions it writes
// ::stop-commands::TOKEN with a fresh random token, and resume writes ::TOKEN::;
// elsewhere it does nothing.
//
// The warnings, notices and masks the Reporter is given meanwhile are held and
// written when resume is called, in their order: the runner would ignore them.
// Phases are not held: start and end none while commands are stopped. resume may
// be called more than once, and a StopCommands while stopped returns a resume
// that does nothing.
func (r *Reporter) StopCommands() (resume func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return func() {}
	}
	speakResume := r.speak.stopCommands()
	if speakResume == nil {
		return func() {}
	}
	r.stopped = true
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			speakResume()
			r.stopped = false
			for _, f := range r.held {
				f()
			}
			r.held = nil
		})
	}
}

// say runs f, which writes a workflow command, now, or when commands resume if
// they are stopped. It holds the lock while writing, so that no command is
// written between StopCommands deciding and its stop line.
func (r *Reporter) say(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		r.held = append(r.held, f)
		return
	}
	f()
}

// Phase prints that a phase starts and returns the function that ends it.
func (r *Reporter) Phase(name string) func() {
	start := r.now()
	r.mu.Lock()
	r.started = name
	r.mu.Unlock()
	r.speak.begin(name)
	return func() {
		d := r.now().Sub(start)
		r.mu.Lock()
		r.phases = append(r.phases, phase{name: name, duration: d})
		r.mu.Unlock()
		r.speak.end(name, d)
	}
}

// Record adds a part of an earlier phase: it is shown under that phase, and not
// counted in the total.
func (r *Reporter) Record(name string, d time.Duration) {
	r.mu.Lock()
	r.phases = append(r.phases, phase{name: name, duration: d, part: true})
	r.mu.Unlock()
	r.speak.part(name, d)
}

// Fact prints something the build found out that is no output, such as how it
// got the builder image and how long that took, as a "NAME: TEXT" line; in
// Actions it is also a row of the job summary.
func (r *Reporter) Fact(name, text string) {
	r.mu.Lock()
	r.facts = append(r.facts, fact{name: name, text: text})
	r.mu.Unlock()
	r.speak.fact(name, text)
}

// Notice prints something the user should know that is no problem, such as a name
// that was changed.
func (r *Reporter) Notice(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.say(func() { r.speak.notice(msg) })
}

// Annotate shows a compile error on its source line: in Actions an ::error
// annotation, held like a warning while commands are stopped; elsewhere nothing,
// as the build's log has the error already.
func (r *Reporter) Annotate(file string, line, col int, msg string) {
	r.say(func() { r.speak.annotate(file, line, col, msg) })
}

// Warn prints a warning that does not stop the build.
func (r *Reporter) Warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.say(func() { r.speak.warn(msg) })
}

// Output records one result, written by Finish or Fail.
func (r *Reporter) Output(key, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.outputs == nil {
		r.outputs = map[string]string{}
	}
	r.outputs[key] = value
}

// Fail writes what Finish writes for a build that failed with err: the outputs it
// has, and in Actions a job summary that names the phase that failed and why. That
// summary is where a user looks first.
func (r *Reporter) Fail(err error) error {
	r.mu.Lock()
	r.failed, r.failIn = err, r.started
	r.mu.Unlock()
	return r.Finish()
}

// Finish writes the outputs, and in Actions the step outputs and job summary.
func (r *Reporter) Finish() error {
	return r.speak.publish(r.book())
}

// book copies out what r recorded, so that it is written without holding the lock.
func (r *Reporter) book() book {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := book{
		outputs: make(map[string]string, len(r.outputs)),
		phases:  append([]phase(nil), r.phases...),
		facts:   append([]fact(nil), r.facts...),
		failed:  r.failed,
		failIn:  r.failIn,
	}
	for k, v := range r.outputs {
		b.keys = append(b.keys, k)
		b.outputs[k] = v
	}
	sort.Strings(b.keys)
	return b
}
