package gha

import (
	"strings"
	"testing"
	"time"
)

func TestChooseEndpoint(t *testing.T) {
	t.Parallel()
	const (
		cacheURL   = "https://artifactcache.example/abc/"
		resultsURL = "https://results-receiver.actions.githubusercontent.com/"
		token      = "tok"
	)
	both := map[string]string{
		"ACTIONS_RUNTIME_TOKEN": token,
		"ACTIONS_CACHE_URL":     cacheURL,
		"ACTIONS_RESULTS_URL":   resultsURL,
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range both {
			m[k] = v
		}
		for k, v := range extra {
			if v == "-" {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}

	tests := []struct {
		name    string
		forced  string
		env     map[string]string
		want    string // protocol
		wantURL string
		wantErr []string // substrings of the error
	}{
		{name: "container action on github.com", env: with(map[string]string{"GITHUB_SERVER_URL": "https://github.com"}), want: "v2", wantURL: resultsURL},
		{name: "no server URL counts as github.com", env: with(nil), want: "v2", wantURL: resultsURL},
		{name: "GHE.com data residency", env: with(map[string]string{"GITHUB_SERVER_URL": "https://octo.ghe.com"}), want: "v2", wantURL: resultsURL},
		{name: "server URL case and slash", env: with(map[string]string{"GITHUB_SERVER_URL": "https://GitHub.com/"}), want: "v2", wantURL: resultsURL},
		{name: "github.com without results URL", env: with(map[string]string{"GITHUB_SERVER_URL": "https://github.com", "ACTIONS_RESULTS_URL": "-"}), want: "v1", wantURL: cacheURL},
		{name: "GHES", env: with(map[string]string{"GITHUB_SERVER_URL": "https://ghes.corp.example"}), want: "v1", wantURL: cacheURL},
		{name: "Gitea", env: with(map[string]string{"GITHUB_SERVER_URL": "https://gitea.example:3000", "ACTIONS_RESULTS_URL": "-"}), want: "v1", wantURL: cacheURL},
		{name: "lookalike host is not github.com", env: with(map[string]string{"GITHUB_SERVER_URL": "https://notgithub.com"}), want: "v1", wantURL: cacheURL},
		{name: "act reports github.com but serves v1", env: with(map[string]string{"GITHUB_SERVER_URL": "https://github.com", "ACT": "true"}), want: "v1", wantURL: cacheURL},
		{name: "JavaScript-style V2 flag", env: with(map[string]string{"GITHUB_SERVER_URL": "https://ghes.corp.example", "ACTIONS_CACHE_SERVICE_V2": "True"}), want: "v2", wantURL: resultsURL},
		{name: "V2 flag any value", env: with(map[string]string{"GITHUB_SERVER_URL": "https://ghes.corp.example", "ACTIONS_CACHE_SERVICE_V2": "yes"}), want: "v2", wantURL: resultsURL},
		{name: "V2 flag beats ACT", env: with(map[string]string{"ACT": "true", "ACTIONS_CACHE_SERVICE_V2": "1"}), want: "v2", wantURL: resultsURL},
		{name: "V2 flag false is off", env: with(map[string]string{"GITHUB_SERVER_URL": "https://ghes.corp.example", "ACTIONS_CACHE_SERVICE_V2": "false"}), want: "v1", wantURL: cacheURL},
		{name: "forced v1 on github.com", forced: "v1", env: with(map[string]string{"ACTIONS_CACHE_SERVICE_V2": "true"}), want: "v1", wantURL: cacheURL},
		{name: "forced v2 on GHES", forced: "v2", env: with(map[string]string{"GITHUB_SERVER_URL": "https://ghes.corp.example"}), want: "v2", wantURL: resultsURL},
		{name: "forced nonsense", forced: "v3", env: with(nil), wantErr: []string{`"v3"`}},
		{name: "no token", env: with(map[string]string{"ACTIONS_RUNTIME_TOKEN": "-"}), wantErr: []string{"ACTIONS_RUNTIME_TOKEN is not set"}},
		{name: "v2 without results URL", forced: "v2", env: with(map[string]string{"ACTIONS_RESULTS_URL": "-"}), wantErr: []string{"ACTIONS_RESULTS_URL is not set"}},
		{name: "v1 without cache URL", env: with(map[string]string{"GITHUB_SERVER_URL": "https://ghes.corp.example", "ACTIONS_CACHE_URL": "-"}), wantErr: []string{"ACTIONS_CACHE_URL is not set"}},
		{name: "nothing set names both", env: map[string]string{}, wantErr: []string{"ACTIONS_RUNTIME_TOKEN is not set", "ACTIONS_CACHE_URL is not set"}},
		{name: "URL not http", env: with(map[string]string{"GITHUB_SERVER_URL": "https://ghes.corp.example", "ACTIONS_CACHE_URL": "ftp://x/"}), wantErr: []string{"ACTIONS_CACHE_URL is not an http(s) URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ep, err := chooseEndpoint(tt.forced, env(tt.env))
			if len(tt.wantErr) > 0 {
				checkSays(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ep.protocol != tt.want || ep.url != tt.wantURL || ep.token != token {
				t.Errorf("got %s %s, want %s %s", ep.protocol, ep.url, tt.want, tt.wantURL)
			}
		})
	}
}

// checkSays checks that err is an error whose text says each of want.
func checkSays(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one that says %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

func TestNewChecksToken(t *testing.T) {
	t.Parallel()
	good := testToken(t)
	tests := []struct {
		name    string
		token   string
		timeout time.Duration
		wantErr string
	}{
		{name: "valid", token: good},
		{name: "not a JWT", token: "ghs_notajwtsecretvalue", wantErr: "ACTIONS_RUNTIME_TOKEN"},
		{name: "expired", token: signToken(t, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)), wantErr: "expired"},
		{name: "negative timeout", token: good, timeout: -time.Second, wantErr: "negative timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(Config{Protocol: "v1", Timeout: tt.timeout}, env(map[string]string{
				"ACTIONS_RUNTIME_TOKEN": tt.token,
				"ACTIONS_CACHE_URL":     "http://127.0.0.1:1/",
			}))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.ep.protocol != "v1" || s.loadTimeout != defaultLoadTimeout || s.saveTimeout != defaultSaveTimeout {
					t.Errorf("got %s, load %v, save %v", s.ep.protocol, s.loadTimeout, s.saveTimeout)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error saying %q", err, tt.wantErr)
			}
			checkClean(t, err, tt.token)
		})
	}
}
