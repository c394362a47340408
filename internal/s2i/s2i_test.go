package s2i

import (
	"testing"

	"github.com/openshift/source-to-image/pkg/api"
)

func TestConfig(t *testing.T) {
	t.Parallel()
	cfg, err := Config(Request{
		Source: t.TempDir(), Copy: true, Builder: "b:1", Tag: "x-tmp",
		Env: []string{"BINARY=x", "A=b=c"}, Network: "none", Endpoint: "unix:///var/run/docker.sock",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ExcludeRegExp != "" {
		t.Errorf("ExcludeRegExp = %q: it must exclude nothing, or cargo's git checkouts lose .git", cfg.ExcludeRegExp)
	}
	for name, p := range map[string]api.PullPolicy{"builder": cfg.BuilderPullPolicy, "previous": cfg.PreviousImagePullPolicy, "runtime": cfg.RuntimeImagePullPolicy} {
		if p != api.PullNever {
			t.Errorf("%s pull policy %q, want never", name, p)
		}
	}
	if !cfg.ForceCopy || cfg.Incremental {
		t.Errorf("ForceCopy %v, Incremental %v: want a copy, and never S2I's incremental path (its save-artifacts untars on the host)", cfg.ForceCopy, cfg.Incremental)
	}
	if cfg.DockerNetworkMode != "none" {
		t.Errorf("network %q, want none (set past S2I's validation)", cfg.DockerNetworkMode)
	}
	if got := cfg.Environment[1]; got.Name != "A" || got.Value != "b=c" {
		t.Errorf("env %+v: the value keeps its =", got)
	}
	if _, err := Config(Request{Source: t.TempDir()}); err == nil {
		t.Error("a request without builder or endpoint was accepted")
	}
}
