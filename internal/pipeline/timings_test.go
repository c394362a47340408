package pipeline

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// The phase's breakdown joins the client's times and assemble's, which share a clock.
func TestRecordS2IStages(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	built := s2i.Result{Times: map[string]time.Time{
		s2i.MarkSpawn: at(0), s2i.MarkBegin: at(50), s2i.MarkCreate: at(80), s2i.MarkStart: at(120),
		s2i.MarkCollected: at(2700), s2i.MarkStopped: at(2900), s2i.MarkCommit: at(2950), s2i.MarkCommitted: at(3200), s2i.MarkEnd: at(3300),
	}}
	script := fmt.Sprintf("%d %d %d\n", at(700).UnixNano(), at(750).UnixNano(), at(2650).UnixNano())
	r := &memReport{}
	recordS2IStages(r, built, map[string][]byte{tmpimage.TimesFile: []byte(script)})
	want := []string{
		"s2i build: child start 50ms", "s2i build: s2i prepare 30ms", "s2i build: container create 40ms",
		"s2i build: container start, source in 580ms", "s2i build: assemble before cargo 50ms",
		"s2i build: cargo 1.9s", "s2i build: binary out on stdout 50ms", "s2i build: container exit 250ms", "s2i build: before commit 50ms",
		"s2i build: commit 250ms", "s2i build: container remove 100ms",
	}
	if !slices.Equal(r.records, want) {
		t.Errorf("records\n%q\nwant\n%q", r.records, want)
	}

	// A builder from before the times file: cargo's milliseconds and S2I's stages.
	r = &memReport{}
	built = s2i.Result{Stages: map[string]time.Duration{"assemble": 3 * time.Second, "commit": 200 * time.Millisecond}}
	recordS2IStages(r, built, map[string][]byte{tmpimage.CargoTimeFile: []byte("1900\n")})
	want = []string{"s2i build: source in 900ms", "s2i build: cargo 1.9s", "s2i build: commit 200ms"}
	if !slices.Equal(r.records, want) {
		t.Errorf("old builder: records %q, want %q", r.records, want)
	}
}
