package pipeline

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// protocolEngine is fakeEngine with nothing to reap, and which records the
// containers the build tries to create (and refuses them).
type protocolEngine struct {
	*fakeEngine
	mu      sync.Mutex
	created int
}

func (*protocolEngine) ContainerList(context.Context, client.ContainerListOptions) (client.ContainerListResult, error) {
	return client.ContainerListResult{}, nil
}

func (*protocolEngine) VolumeList(context.Context, client.VolumeListOptions) (client.VolumeListResult, error) {
	return client.VolumeListResult{}, nil
}

func (p *protocolEngine) ContainerCreate(context.Context, client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.created++
	return client.ContainerCreateResult{}, errors.New("the protocol test creates no containers")
}

// The prepare stage refuses a builder whose scripts speak another protocol than
// this client, as bad input for the builder setting that says how to rebuild it,
// before it pulls the runtime image or starts any container; a builder that speaks
// this client's protocol goes on to the runtime image.
func TestPrepareRefusesBuilderProtocol(t *testing.T) {
	t.Parallel()
	current := strconv.Itoa(tmpimage.ScriptsProtocol)
	musl := map[string]string{tmpimage.LabelTarget: "x86_64-unknown-linux-musl", tmpimage.LabelBuilderToolchain: "1.85.0"}
	with := func(extra map[string]string) map[string]string {
		labels := map[string]string{}
		for _, m := range []map[string]string{musl, extra} {
			for k, v := range m {
				labels[k] = v
			}
		}
		return labels
	}
	tests := []struct {
		name    string
		builder string // "" is a custom one
		labels  map[string]string
		want    string // the whole error; "" when the builder is accepted
	}{
		{"missing label", "", musl, "--builder: builder image example.org/builder:1 is too old for this rust-s2i-musl: " +
			"its scripts speak protocol 1 (it has no io.rust-s2i.scripts-protocol label), older than the " + current +
			" this rust-s2i-musl speaks, so it would ignore settings it does not know (such as the cargo options) and build " +
			"something other than asked. Rebuild it with this rust-s2i-musl: rust-s2i-musl builder --base BASE --toolchain 1.85.0 " +
			"--target x86_64-unknown-linux-musl --tag example.org/builder:1 (BASE: the Rust image it was made from)"},
		{"newer", "", with(map[string]string{tmpimage.LabelScriptsProtocol: strconv.Itoa(tmpimage.ScriptsProtocol + 1)}),
			"--builder: builder image example.org/builder:1 is too new for this rust-s2i-musl: its scripts speak protocol " +
				strconv.Itoa(tmpimage.ScriptsProtocol+1) + ", newer than the " + current + " this rust-s2i-musl speaks, so they " +
				"may expect inputs it never gives. Upgrade rust-s2i-musl, or rebuild the builder with this one: rust-s2i-musl " +
				"builder --base BASE --toolchain 1.85.0 --target x86_64-unknown-linux-musl --tag example.org/builder:1 " +
				"(BASE: the Rust image it was made from)"},
		{"garbage", "", with(map[string]string{tmpimage.LabelScriptsProtocol: "v2"}),
			`--builder: builder image example.org/builder:1 does not say which scripts protocol it speaks: its ` +
				`io.rust-s2i.scripts-protocol label is "v2", which is not a protocol version; this rust-s2i-musl speaks ` +
				`scripts protocol ` + current + `. Rebuild it with this rust-s2i-musl: rust-s2i-musl builder --base BASE ` +
				`--toolchain 1.85.0 --target x86_64-unknown-linux-musl --tag example.org/builder:1 (BASE: the Rust image it was made from)`},
		{"old default builder", config.DefaultBuilder, map[string]string{tmpimage.LabelTarget: "aarch64-unknown-linux-musl", tmpimage.LabelBuilderToolchain: "stable"},
			"--builder: builder image " + config.DefaultBuilder + " is too old for this rust-s2i-musl: its scripts speak " +
				"protocol 1 (it has no io.rust-s2i.scripts-protocol label), older than the " + current + " this rust-s2i-musl " +
				"speaks, so it would ignore settings it does not know (such as the cargo options) and build something other " +
				"than asked. Rebuild it with this rust-s2i-musl: rust-s2i-musl builder --target aarch64-unknown-linux-musl " +
				"--tag " + config.DefaultBuilder + "; or pull the current default builder (set --pull to always)"},
		{"current", "", with(map[string]string{tmpimage.LabelScriptsProtocol: current}), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Defaults()
			cfg.Binary, cfg.Source, cfg.RuntimeImage = "hello", t.TempDir(), "example.org/base:1"
			cfg.Builder = "example.org/builder:1"
			if tc.builder != "" {
				cfg.Builder = tc.builder
			}
			pl := testPlan(t, cfg)
			pullErr := errors.New("manifest unknown")
			e := &protocolEngine{fakeEngine: &fakeEngine{pullErr: pullErr, images: map[string]client.ImageInspectResult{
				cfg.Builder: fakeImage("sha256:b", "amd64", tc.labels),
			}}}
			s := &prepareStage{logs: logs{Report: &memReport{}, Log: &strings.Builder{}}, e: e}
			_, err := s.Prepare(t.Context(), pl)
			var ie *config.InputError
			if tc.want == "" {
				// Accepted: the build goes on to the runtime image, which is not there.
				if err == nil || !strings.Contains(err.Error(), "runtime image example.org/base:1 is not in the daemon") || errors.As(err, &ie) {
					t.Errorf("Prepare = %v, want the runtime image's pull error", err)
				}
				return
			}
			var pe *tmpimage.ProtocolError
			if !errors.As(err, &ie) || !errors.As(err, &pe) || err.Error() != tc.want {
				t.Errorf("Prepare = %v,\nwant the InputError, wrapping a *tmpimage.ProtocolError,\n%s", err, tc.want)
			}
			if len(e.pulls) != 0 || e.created != 0 {
				t.Errorf("a refused builder pulled %q and created %d containers, want neither", e.pulls, e.created)
			}
		})
	}
}
