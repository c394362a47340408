// Package provenance writes the SLSA provenance (v1) of an image built by this
// tool, as an in-toto statement about the image manifest.
//
// Only what decides the result goes in: the source repository and commit, the
// builder and runtime base images by digest, and the build settings that enter
// the cache key. The input types have no field for environment variables,
// secrets or credentials, so no caller can hand one over by mistake; URLs are
// stripped of user info and query before they are written. Nothing depends on the
// clock or the machine: the same build gives the same bytes (and the same index
// digest once attached), so startedOn and finishedOn are left out.
package provenance

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/rust-s2i/rust-s2i-musl/internal/intoto"
)

// PredicateType is SLSA provenance v1.
const PredicateType = "https://slsa.dev/provenance/v1"

// BuildType names this tool's build: S2I assemble of a Rust crate into a static
// musl binary on a runtime base. The externalParameters below are its schema.
const BuildType = "https://github.com/rust-s2i/rust-s2i-musl/buildtypes/s2i-musl/v1"

// BuilderID is this tool's id; the version follows "@".
const BuilderID = "https://github.com/rust-s2i/rust-s2i-musl"

// Image is a base image by reference and manifest digest ("sha256:…").
type Image struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest,omitempty"`
}

// Source is the repository the crate was built from.
type Source struct {
	URI    string `json:"uri"`           // clone URL; user info and query are dropped
	Ref    string `json:"ref,omitempty"` // such as refs/heads/main
	Commit string `json:"-"`             // full commit id: a resolved dependency's digest
}

// Settings are the build settings that enter the cache key. Every field is
// written as is: add a field only for a value that is never a secret
// (TestSettingsFields lists them, so that a new one is a reviewed change).
type Settings struct {
	Package           string   `json:"package,omitempty"`
	Binary            string   `json:"binary"`
	Features          []string `json:"features,omitempty"`
	NoDefaultFeatures bool     `json:"noDefaultFeatures,omitempty"`
	AllFeatures       bool     `json:"allFeatures,omitempty"`
	Profile           string   `json:"profile"`
	Targets           []string `json:"targets"`
	Builder           Image    `json:"builder"`
	Runtime           Image    `json:"runtime"`
	Auditable         bool     `json:"auditable"` // the .dep-v0 list was embedded
}

// Build is what the statement says about one build.
type Build struct {
	Source   Source
	Settings Settings
	// ToolVersion is this tool's version, part of builder.id.
	ToolVersion string
	// Rustc is the first line of `rustc -vV`, an internal parameter.
	Rustc string
	// InvocationID names the run (a CI run URL). Optional, and it differs per
	// run, so leave it empty where two builds must give the same digest.
	InvocationID string
}

type predicate struct {
	BuildDefinition buildDefinition `json:"buildDefinition"`
	RunDetails      runDetails      `json:"runDetails"`
}

type buildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   externalParameters   `json:"externalParameters"`
	InternalParameters   *internalParameters  `json:"internalParameters,omitempty"`
	ResolvedDependencies []resourceDescriptor `json:"resolvedDependencies"`
}

type externalParameters struct {
	Source Source `json:"source"`
	Settings
}

type internalParameters struct {
	Rustc string `json:"rustc"`
}

type resourceDescriptor struct {
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest"`
}

type runDetails struct {
	Builder  builder   `json:"builder"`
	Metadata *metadata `json:"metadata,omitempty"`
}

type builder struct {
	ID string `json:"id"`
}

type metadata struct {
	InvocationID string `json:"invocationId,omitempty"`
}

// Statement returns the provenance statement about subjects (the image manifests
// the build produced, see intoto.DigestSubject).
func Statement(b Build, subjects ...intoto.Subject) (intoto.Statement, error) {
	p, err := newPredicate(b)
	if err != nil {
		return intoto.Statement{}, err
	}
	st, err := intoto.New(PredicateType, p, subjects...)
	if err != nil {
		return intoto.Statement{}, fmt.Errorf("provenance: %w", err)
	}
	return st, nil
}

func newPredicate(b Build) (predicate, error) {
	if b.Source.URI == "" || b.Source.Commit == "" {
		return predicate{}, errors.New("provenance: no source repository or commit")
	}
	src := b.Source
	src.URI = publicURL(src.URI)
	s := b.Settings
	s.Features = sortedUnique(s.Features)
	s.Targets = sortedUnique(s.Targets)
	p := predicate{
		BuildDefinition: buildDefinition{
			BuildType:            BuildType,
			ExternalParameters:   externalParameters{Source: src, Settings: s},
			ResolvedDependencies: resolved(src, s),
		},
		RunDetails: runDetails{Builder: builder{ID: BuilderID + "@" + cmp.Or(b.ToolVersion, "unknown")}},
	}
	if b.Rustc != "" {
		first, _, _ := strings.Cut(strings.TrimSpace(b.Rustc), "\n")
		p.BuildDefinition.InternalParameters = &internalParameters{Rustc: first}
	}
	if b.InvocationID != "" {
		p.RunDetails.Metadata = &metadata{InvocationID: publicURL(b.InvocationID)}
	}
	return p, nil
}

// resolved lists the source at its commit, then the builder and runtime images
// by digest (those without a digest are left out: nothing to pin).
func resolved(src Source, s Settings) []resourceDescriptor {
	uri := src.URI
	if !strings.HasPrefix(uri, "git+") {
		uri = "git+" + uri
	}
	if src.Ref != "" {
		uri += "@" + src.Ref
	}
	out := []resourceDescriptor{{URI: uri, Digest: map[string]string{"gitCommit": src.Commit}}}
	for _, img := range []Image{s.Builder, s.Runtime} {
		alg, hex, ok := strings.Cut(img.Digest, ":")
		if img.Ref == "" || !ok {
			continue
		}
		ref, _, _ := strings.Cut(img.Ref, "@") // the digest goes in digest, not twice
		out = append(out, resourceDescriptor{URI: "pkg:docker/" + ref, Digest: map[string]string{alg: hex}})
	}
	return out
}

// publicURL drops user info (a token in https://x-access-token:…@github.com/…),
// the query and the fragment from a URL; what does not parse as a URL with a
// host (an scp-like git@host:path) is kept up to its last "@"-free part.
func publicURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		if i := strings.LastIndex(s, "@"); i >= 0 {
			return s[i+1:]
		}
		return s
	}
	u.User, u.RawQuery, u.Fragment, u.ForceQuery = nil, "", "", false
	return u.String()
}

func sortedUnique(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
