package pipeline

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/registry"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// An image is pulled when the engine lacks it, and always with pull always; one
// that was pulled is said to be pulled, pulled again, or kept when pulling it
// again failed.
func TestPullDecision(t *testing.T) {
	t.Parallel()
	tests := []struct {
		have, always bool
		pullErr      error
		pull         bool
		how          got // when pulled
	}{
		{have: true, always: false, pull: false},
		{have: false, always: false, pull: true, how: gotPulled},
		{have: false, always: true, pull: true, how: gotPulled},
		{have: true, always: true, pull: true, how: gotRepulled},
		{have: true, always: true, pullErr: errors.New("unreachable"), pull: true, how: gotKept},
	}
	for _, tc := range tests {
		if got := needsPull(tc.have, tc.always); got != tc.pull {
			t.Errorf("needsPull(have %v, always %v) = %v, want %v", tc.have, tc.always, got, tc.pull)
		}
		if tc.pull {
			if got := pulled(tc.have, tc.pullErr); got != tc.how {
				t.Errorf("pulled(have %v, %v) = %v, want %v", tc.have, tc.pullErr, got, tc.how)
			}
		}
	}
}

// What the log and the summary say of each way an image came: the time of a
// pull in tenths of a second, what it downloaded only as far as the daemon said
// (a lower bound when some size went unreported, nothing when it said nothing).
func TestFetchText(t *testing.T) {
	t.Parallel()
	const ref = "ghcr.io/rust-s2i/builder:stable"
	mib := int64(1 << 20)
	tests := []struct {
		name string
		f    fetch
		want string
	}{
		{"had", fetch{how: gotHad, took: 3 * time.Millisecond}, ref + ", already on the engine"},
		{"pulled", fetch{how: gotPulled, took: 20512 * time.Millisecond, download: registry.Download{Blobs: 9, Bytes: 695 * mib}},
			ref + ", pulled in 20.5s (695.0 MiB downloaded, compressed)"},
		{"pulled, sizes partly reported", fetch{how: gotPulled, took: 20 * time.Second, download: registry.Download{Blobs: 9, Bytes: 695 * mib, Unsized: 2}},
			ref + ", pulled in 20s (at least 695.0 MiB downloaded, compressed; 2 blob(s) of unreported size besides)"},
		{"pulled, no sizes reported", fetch{how: gotPulled, took: 20 * time.Second, download: registry.Download{Blobs: 9, Unsized: 9}},
			ref + ", pulled in 20s"},
		{"pulled, nothing said", fetch{how: gotPulled, took: 20 * time.Second}, ref + ", pulled in 20s"},
		{"pulled, every layer there", fetch{how: gotPulled, took: 800 * time.Millisecond, download: registry.Download{Reused: 4}},
			ref + ", pulled in 800ms (nothing downloaded)"},
		{"pulled again, up to date", fetch{how: gotRepulled, took: 1234 * time.Millisecond, download: registry.Download{UpToDate: true}},
			ref + ", on the engine, pulled again (pull always) in 1.2s (nothing downloaded)"},
		{"pulled again, newer", fetch{how: gotRepulled, took: 5 * time.Second, download: registry.Download{Blobs: 1, Bytes: 3 * mib / 2, Reused: 8}},
			ref + ", on the engine, pulled again (pull always) in 5s (1.5 MiB downloaded, compressed)"},
		{"kept", fetch{how: gotKept, took: 5 * time.Second}, ref + ", on the engine; pulling it again (pull always) failed, so that one is used"},
		{"built", fetch{how: gotBuilt, took: 192449 * time.Millisecond},
			ref + ", built from the embedded s2i/ files after the pull failed, 3m12.4s in all"},
		{"read", fetch{how: gotRead, took: 412 * time.Millisecond, platforms: "linux/arm64,linux/amd64"},
			ref + ", read from its registry for linux/arm64,linux/amd64 in 412ms, not pulled into the engine"},
	}
	for _, tc := range tests {
		tc.f.what, tc.f.ref = "builder image", ref
		if got := tc.f.text(); got != tc.want {
			t.Errorf("%s: text\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
}

// eventReport keeps the order of phases, parts and facts.
type eventReport struct {
	*memReport
	events []string
}

func (r *eventReport) Phase(name string) func() {
	r.events = append(r.events, "==> "+name)
	return func() { r.events = append(r.events, "<== "+name) }
}
func (r *eventReport) Record(name string, _ time.Duration) { r.events = append(r.events, "part "+name) }
func (r *eventReport) Fact(name, text string)              { r.events = append(r.events, "fact "+name+": "+text) }

// The prepare stage says how it got each image after its phase has ended: the
// times as the phase's parts, then how, as facts; a pull's bytes are what its
// progress messages said.
func TestPrepareReportsFetches(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults()
	cfg.Binary, cfg.Source = "hello", t.TempDir()
	cfg.Builder, cfg.RuntimeImage = "example.org/builder:1", "example.org/base:1"
	pl := testPlan(t, cfg)
	e := &protocolEngine{fakeEngine: &fakeEngine{
		images: map[string]client.ImageInspectResult{cfg.Builder: fakeImage("sha256:b", "amd64", map[string]string{
			tmpimage.LabelTarget: "x86_64-unknown-linux-musl", tmpimage.LabelScriptsProtocol: strconv.Itoa(tmpimage.ScriptsProtocol),
		})},
		remote: map[string]client.ImageInspectResult{cfg.RuntimeImage: fakeImage("sha256:r", "amd64", nil)},
		pullMsgs: []jsonstream.Message{
			{ID: "aaa", Status: "Downloading", Progress: &jsonstream.Progress{Current: 1 << 20, Total: 3 << 20}},
			{ID: "aaa", Status: "Download complete"},
			{ID: "bbb", Status: "Already exists"},
		},
	}}
	rep := &eventReport{memReport: &memReport{}}
	s := &prepareStage{logs: logs{Report: rep, Log: &strings.Builder{}}, e: e}
	if _, err := s.Prepare(t.Context(), pl); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.pulls, []string{cfg.RuntimeImage}) {
		t.Errorf("pulled %q, want the runtime image alone", e.pulls)
	}
	anyTime := regexp.MustCompile(`in [0-9.]+[mµn]?s `)
	var got []string
	for _, ev := range rep.events {
		got = append(got, anyTime.ReplaceAllString(ev, "in T "))
	}
	want := []string{
		"==> prepare images", "<== prepare images",
		"part prepare images: builder image", "part prepare images: runtime image",
		"fact builder image: example.org/builder:1, already on the engine",
		"fact runtime image: example.org/base:1, pulled in T (3.0 MiB downloaded, compressed)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("reported\n%q\nwant\n%q", got, want)
	}
}

// The default builder comes in zstd layers from Engine API 1.42 (Docker Engine
// 23) on, in gzip ones before or when the version is unknown; a builder the user
// named comes as named.
func TestBuilderPullRef(t *testing.T) {
	t.Parallel()
	zstd := config.DefaultBuilder + config.ZstdSuffix
	tests := []struct {
		builder   string
		isDefault bool
		api, want string
	}{
		{config.DefaultBuilder, true, "1.41", config.DefaultBuilder},
		{config.DefaultBuilder, true, "1.9", config.DefaultBuilder},
		{config.DefaultBuilder, true, "", config.DefaultBuilder},
		{config.DefaultBuilder, true, "1.42", zstd},
		{config.DefaultBuilder, true, "1.51", zstd},
		{"example.org/builder:1", false, "1.51", "example.org/builder:1"},
		{"example.org/builder:1", false, "1.41", "example.org/builder:1"},
	}
	for _, tc := range tests {
		if got := builderPullRef(tc.builder, tc.isDefault, tc.api); got != tc.want {
			t.Errorf("builderPullRef(%s, %v, %q) = %s, want %s", tc.builder, tc.isDefault, tc.api, got, tc.want)
		}
	}
}

// A new engine pulls the default builder's zstd variant and names it the default
// builder, which the build then sees; without that variant, it pulls the default
// builder itself. An old engine pulls the gzip one alone.
func TestDefaultBuilderPulledAsZstd(t *testing.T) {
	t.Parallel()
	zstd := config.DefaultBuilder + config.ZstdSuffix
	builderImage := fakeImage("sha256:b", "amd64", map[string]string{tmpimage.LabelTarget: "x86_64-unknown-linux-musl"})
	tests := []struct {
		name   string
		api    string
		remote []string
		pulls  []string
		tags   []string
	}{
		{"new engine", "1.47", []string{config.DefaultBuilder, zstd}, []string{zstd}, []string{zstd + ">" + config.DefaultBuilder}},
		{"no zstd variant", "1.47", []string{config.DefaultBuilder}, []string{zstd, config.DefaultBuilder}, nil},
		{"old engine", "1.41", []string{config.DefaultBuilder, zstd}, []string{config.DefaultBuilder}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Defaults()
			cfg.Binary, cfg.Source = "hello", t.TempDir()
			pl := testPlan(t, cfg)
			e := &fakeEngine{apiVersion: tc.api, onlyRemote: true, images: map[string]client.ImageInspectResult{}, remote: map[string]client.ImageInspectResult{}}
			for _, r := range tc.remote {
				e.remote[r] = builderImage
			}
			log := &strings.Builder{}
			s := &prepareStage{logs: logs{Report: &memReport{}, Log: log}, e: e}
			in, f, err := s.ensureBuilder(t.Context(), pl)
			if err != nil {
				t.Fatalf("ensureBuilder = %v\n%s", err, log)
			}
			if in.ID != "sha256:b" || f.ref != config.DefaultBuilder || f.how != gotPulled {
				t.Errorf("got %s as %s (%v), want the builder pulled, named %s", in.ID, f.ref, f.how, config.DefaultBuilder)
			}
			if !slices.Equal(e.pulls, tc.pulls) || !slices.Equal(e.tags, tc.tags) {
				t.Errorf("pulled %q and tagged %q, want %q and %q", e.pulls, e.tags, tc.pulls, tc.tags)
			}
		})
	}
}
