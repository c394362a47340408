package sbom

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"testing"
)

func TestCycloneDX(t *testing.T) {
	t.Parallel()
	g := fixtureGraph(t, "x86_64-unknown-linux-musl")
	out, err := CycloneDX(g, testInfo)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := CycloneDX(g, testInfo)
	if !bytes.Equal(out, again) {
		t.Error("two BOMs of the same build differ")
	}
	var bom cdxBOM
	if err := json.Unmarshal(out, &bom); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(bom.SerialNumber) {
		t.Errorf("serialNumber %q", bom.SerialNumber)
	}
	if bom.Metadata.Component.Name != "app" || bom.Metadata.Component.Type != "application" || bom.Metadata.Timestamp != "2023-11-14T22:13:20Z" {
		t.Errorf("metadata %+v", bom.Metadata)
	}
	refs := map[string]bool{bom.Metadata.Component.BOMRef: true}
	var got []string
	for _, c := range bom.Components {
		refs[c.BOMRef] = true
		got = append(got, c.Name+":"+c.Scope)
	}
	want := []string{"cc:excluded", "gitdep:required", "jobserver:excluded", "libc:required", "proc-macro2:excluded",
		"serde:required", "serde_derive:excluded", "unicode-ident:excluded", "x86-helper:excluded"}
	if !slices.Equal(got, want) {
		t.Errorf("components %q, want %q", got, want)
	}
	for _, d := range bom.Dependencies {
		for _, r := range append([]string{d.Ref}, d.DependsOn...) {
			if !refs[r] {
				t.Errorf("dependency on unknown ref %q", r)
			}
		}
	}
}
