package pipeline

import (
	"strconv"
	"strings"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// recordS2IStages breaks the "s2i build" phase down into the steps around cargo,
// from the times S2I's client saw (built.Times) and those assemble wrote
// (tmpimage.TimesFile, on the same clock: a container's is the host's). files are
// the files the build collected beside the binary.
func recordS2IStages(r Reporter, built s2i.Result, files map[string][]byte) {
	if d, ok := built.Stages["artifacts out"]; ok {
		r.Record("s2i build: artifacts out", d)
	}
	script := scriptTimes(files[tmpimage.TimesFile])
	t := built.Times
	if len(script) != 3 || t[s2i.MarkStart].IsZero() || t[s2i.MarkStopped].IsZero() {
		recordCargoOnly(r, built.Stages, files[tmpimage.CargoTimeFile])
		return
	}
	steps := []struct {
		name     string
		from, to time.Time
	}{
		{"child start", t[s2i.MarkSpawn], t[s2i.MarkBegin]},
		{"s2i prepare", t[s2i.MarkBegin], t[s2i.MarkCreate]},
		{"container create", t[s2i.MarkCreate], t[s2i.MarkStart]},
		{"container start, source in", t[s2i.MarkStart], script[0]},
		{"assemble before cargo", script[0], script[1]},
		{"cargo", script[1], script[2]},
		{"binary out on stdout", script[2], t[s2i.MarkCollected]},
		{"container exit", script[2], t[s2i.MarkStopped]},
		{"before commit", t[s2i.MarkStopped], t[s2i.MarkCommit]},
		{"commit", t[s2i.MarkCommit], t[s2i.MarkCommitted]},
		{"container remove", t[s2i.MarkCommitted], t[s2i.MarkEnd]},
	}
	for _, s := range steps {
		if !s.from.IsZero() && !s.to.IsZero() {
			r.Record("s2i build: "+s.name, max(s.to.Sub(s.from), 0))
		}
	}
}

// scriptTimes parses assemble's TimesFile: three times in nanoseconds since the
// epoch. nil when it is missing or not that.
func scriptTimes(data []byte) []time.Time {
	fields := strings.Fields(string(data))
	if len(fields) != 3 {
		return nil
	}
	out := make([]time.Time, 0, 3)
	for _, f := range fields {
		ns, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil
		}
		out = append(out, time.Unix(0, ns))
	}
	return out
}

// recordCargoOnly is the breakdown a builder from before TimesFile allows: the
// source in with the container's start, cargo, and the commit.
func recordCargoOnly(r Reporter, stages map[string]time.Duration, cargoMS []byte) {
	ms, err := strconv.Atoi(strings.TrimSpace(string(cargoMS)))
	if err != nil {
		return // a builder from before the timings
	}
	cargo := time.Duration(ms) * time.Millisecond
	if in := stages["assemble"] - cargo - stages["commit"]; in > 0 {
		r.Record("s2i build: source in", in)
	}
	r.Record("s2i build: cargo", cargo)
	r.Record("s2i build: commit", stages["commit"])
}
