package gha

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// The cache service protocols. v1 is the REST API at
// $ACTIONS_CACHE_URL/_apis/artifactcache/ that GitHub Enterprise Server, Gitea,
// Forgejo and act serve; v2 is the Twirp API at $ACTIONS_RESULTS_URL with data in
// Azure blobs, which github.com and GHE.com (data residency) serve.
const (
	protocolV1 = "v1"
	protocolV2 = "v2"
)

// endpoint is where the cache service is and how to talk to it.
type endpoint struct {
	protocol string
	url      string
	token    string
}

// chooseEndpoint picks the protocol and reads the URL and token for it. It follows
// @actions/cache (getCacheServiceVersion and isGhes) and adds two rules that the
// toolkit does not need but a container action does:
//
//  1. forced, when not empty, wins.
//  2. ACTIONS_CACHE_SERVICE_V2 set to a true value: v2. The runner sets it only for
//     JavaScript actions.
//  3. ACT set (nektos/act): v1. act reports https://github.com as the server and sets
//     ACTIONS_RESULTS_URL to its artifact server, but its cache server speaks v1 only.
//  4. GITHUB_SERVER_URL is github.com, *.ghe.com or *.localhost (empty counts as
//     github.com, as in the toolkit) and ACTIONS_RESULTS_URL is set: v2. This is the
//     rule that makes a container action on github.com use v2, since it does not get
//     ACTIONS_CACHE_SERVICE_V2.
//  5. Otherwise v1 (GHES, Gitea, Forgejo).
//
// A missing variable is an error naming it; all of them are reported at once.
func chooseEndpoint(forced string, getenv func(string) string) (endpoint, error) {
	var ep endpoint
	switch {
	case forced == protocolV1 || forced == protocolV2:
		ep.protocol = forced
	case forced != "":
		return endpoint{}, fmt.Errorf("gha: unknown cache protocol %q (want %q or %q)", forced, protocolV1, protocolV2)
	case truthy(getenv("ACTIONS_CACHE_SERVICE_V2")):
		ep.protocol = protocolV2
	case getenv("ACT") != "":
		ep.protocol = protocolV1
	case isGitHubHosted(getenv("GITHUB_SERVER_URL")) && getenv("ACTIONS_RESULTS_URL") != "":
		ep.protocol = protocolV2
	default:
		ep.protocol = protocolV1
	}

	urlVar := "ACTIONS_CACHE_URL"
	if ep.protocol == protocolV2 {
		urlVar = "ACTIONS_RESULTS_URL"
	}
	ep.url = strings.TrimSpace(getenv(urlVar))
	ep.token = strings.TrimSpace(getenv("ACTIONS_RUNTIME_TOKEN"))

	var errs []error
	if ep.token == "" {
		errs = append(errs, errors.New("ACTIONS_RUNTIME_TOKEN is not set"))
	}
	if ep.url == "" {
		errs = append(errs, fmt.Errorf("%s is not set (needed for cache protocol %s)", urlVar, ep.protocol))
	} else if u, err := url.Parse(ep.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("%s is not an http(s) URL", urlVar))
	}
	if len(errs) > 0 {
		return endpoint{}, fmt.Errorf("gha: %w", errors.Join(errs...))
	}
	return ep, nil
}

// truthy reads a flag the way the toolkit means it (set means on), except that an
// explicit false ("false", "0") is off.
func truthy(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// isGitHubHosted is the negation of the toolkit's isGhes: github.com, a GHE.com
// data-residency host, or a *.localhost development host.
func isGitHubHosted(serverURL string) bool {
	if strings.TrimSpace(serverURL) == "" {
		serverURL = "https://github.com"
	}
	u, err := url.Parse(strings.TrimSpace(serverURL))
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	return host == "github.com" || strings.HasSuffix(host, ".ghe.com") || strings.HasSuffix(host, ".localhost")
}
