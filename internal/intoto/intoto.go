// Package intoto holds the in-toto attestation Statement (v1): a predicate of some
// type about a list of subjects identified by digest. The SBOM and the provenance
// of an image are both carried as statements whose subject is the image manifest.
package intoto

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// StatementType is the _type of an in-toto Statement v1.
const StatementType = "https://in-toto.io/Statement/v1"

// Subject is an artifact a statement is about. Digest maps an algorithm
// ("sha256") to the hex value; encoding/json writes map keys sorted, so the
// output does not depend on map order.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Statement is an in-toto Statement v1 with its predicate kept as JSON, so that a
// document made elsewhere (an SPDX SBOM) is embedded byte for byte.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// DigestSubject returns the subject name with digest "ALGORITHM:HEX", such as an
// image manifest's "sha256:…".
func DigestSubject(name, digest string) (Subject, error) {
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok || alg == "" || hex == "" {
		return Subject{}, fmt.Errorf("intoto: digest %q is not ALGORITHM:HEX", digest)
	}
	return Subject{Name: name, Digest: map[string]string{alg: hex}}, nil
}

// New returns a statement of predicateType about subjects. predicate is JSON
// already ([]byte or json.RawMessage) or a value to marshal.
func New(predicateType string, predicate any, subjects ...Subject) (Statement, error) {
	if predicateType == "" {
		return Statement{}, errors.New("intoto: no predicate type")
	}
	if len(subjects) == 0 {
		return Statement{}, errors.New("intoto: no subject")
	}
	var raw json.RawMessage
	switch p := predicate.(type) {
	case []byte:
		raw = json.RawMessage(p)
	case json.RawMessage:
		raw = p
	default:
		b, err := json.Marshal(p)
		if err != nil {
			return Statement{}, fmt.Errorf("intoto: predicate: %w", err)
		}
		raw = b
	}
	if !json.Valid(raw) {
		return Statement{}, errors.New("intoto: predicate is not JSON")
	}
	return Statement{Type: StatementType, Subject: slices.Clone(subjects), PredicateType: predicateType, Predicate: raw}, nil
}

// Covers reports whether one of s's subjects has digest "ALGORITHM:HEX".
func (s Statement) Covers(digest string) bool {
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok {
		return false
	}
	for _, sub := range s.Subject {
		if sub.Digest[alg] == hex {
			return true
		}
	}
	return false
}

// Marshal returns the statement's JSON. The predicate is compacted, so the bytes
// depend only on content, not on how the predicate was indented.
func (s Statement) Marshal() ([]byte, error) {
	out, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("intoto: %w", err)
	}
	return out, nil
}
