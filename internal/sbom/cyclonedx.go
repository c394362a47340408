package sbom

import (
	"cmp"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
)

// cdxBOM is a CycloneDX 1.5 JSON BOM, with the fields this package fills.
type cdxBOM struct {
	BOMFormat    string          `json:"bomFormat"`
	SpecVersion  string          `json:"specVersion"`
	SerialNumber string          `json:"serialNumber,omitempty"`
	Version      int             `json:"version"`
	Metadata     cdxMetadata     `json:"metadata"`
	Components   []cdxComponent  `json:"components"`
	Dependencies []cdxDependency `json:"dependencies"`
}

type cdxMetadata struct {
	Timestamp string       `json:"timestamp"`
	Tools     cdxTools     `json:"tools"`
	Component cdxComponent `json:"component"`
}

type cdxTools struct {
	Components []cdxComponent `json:"components"`
}

type cdxComponent struct {
	Type         string       `json:"type"`
	BOMRef       string       `json:"bom-ref,omitempty"`
	Name         string       `json:"name"`
	Version      string       `json:"version,omitempty"`
	Scope        string       `json:"scope,omitempty"`
	Hashes       []cdxHash    `json:"hashes,omitempty"`
	Licenses     []cdxLicense `json:"licenses,omitempty"`
	PURL         string       `json:"purl,omitempty"`
	ExternalRefs []cdxExtRef  `json:"externalReferences,omitempty"`
}

type cdxHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

type cdxLicense struct {
	Expression string `json:"expression"`
}

type cdxExtRef struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type cdxDependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn"`
}

// CycloneDX returns a CycloneDX 1.5 JSON BOM of g's crates, as reproducible as
// the SPDX document: timestamp passed in, serial number a name-based (v5) UUID of
// the image name and a hash of the content, components in the graph's order.
// Build-only crates have scope "excluded": they are not in the binary.
func CycloneDX(g *cratedeps.Graph, info Info) ([]byte, error) {
	if info.Created.IsZero() {
		return nil, errors.New("sbom: no creation time (pass SOURCE_DATE_EPOCH or the commit time)")
	}
	if len(g.Crates) == 0 || g.Root < 0 || g.Root >= len(g.Crates) {
		return nil, errors.New("sbom: graph has no root crate")
	}
	refs := spdxIDs(g) // unique and stable; the prefix is dropped below
	for i := range refs {
		refs[i] = strings.TrimPrefix(refs[i], "SPDXRef-Package-")
	}
	bom := cdxBOM{BOMFormat: "CycloneDX", SpecVersion: "1.5", Version: 1}
	bom.Metadata = cdxMetadata{Timestamp: info.Created.UTC().Format(time.RFC3339), Tools: cdxTools{Components: tools(info)}}
	for i, c := range g.Crates {
		comp := cdxCrate(c, refs[i])
		if c.Root {
			bom.Metadata.Component = comp
		} else {
			bom.Components = append(bom.Components, comp)
		}
		dep := cdxDependency{Ref: refs[i], DependsOn: []string{}}
		for _, d := range c.Deps {
			if n := len(dep.DependsOn); n == 0 || dep.DependsOn[n-1] != refs[d.Crate] {
				dep.DependsOn = append(dep.DependsOn, refs[d.Crate])
			}
		}
		bom.Dependencies = append(bom.Dependencies, dep)
	}
	addCLibs(&bom, g, refs, info.CLibraries)
	body, err := json.Marshal(bom)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	sum := sha256.Sum256(body)
	bom.SerialNumber = "urn:uuid:" + uuidV5(NamespaceBase+cmp.Or(info.Image, info.Name, g.Crates[g.Root].Name)+"-"+hex.EncodeToString(sum[:]))
	out, err := json.MarshalIndent(bom, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	return append(out, '\n'), nil
}

// addCLibs puts the builder's C libraries the binary links into bom: each a
// component, which the binary and the crates that link it depend on.
func addCLibs(bom *cdxBOM, g *cratedeps.Graph, refs []string, libs []clibs.Link) {
	for _, l := range libs {
		ref := cdxCLibRef(l)
		bom.Components = append(bom.Components, cdxCLib(l))
		for _, i := range append([]int{g.Root}, linkers(g, l)...) {
			bom.Dependencies[i].DependsOn = append(bom.Dependencies[i].DependsOn, ref)
		}
		bom.Dependencies = append(bom.Dependencies, cdxDependency{Ref: ref, DependsOn: []string{}})
	}
}

func tools(info Info) []cdxComponent {
	out := []cdxComponent{{Type: "application", Name: "rust-s2i-musl", Version: cmp.Or(info.ToolVersion, "unknown")}}
	first, _, _ := strings.Cut(strings.TrimSpace(info.Rustc), "\n")
	if f := strings.Fields(first); len(f) >= 2 {
		out = append(out, cdxComponent{Type: "application", Name: f[0], Version: f[1]})
	}
	return out
}

func cdxCrate(c cratedeps.Crate, ref string) cdxComponent {
	comp := cdxComponent{Type: "library", BOMRef: ref, Name: c.Name, Version: c.Version, Scope: "required", PURL: PURL(c)}
	if c.Root {
		comp.Type, comp.Scope = "application", ""
	}
	if c.Kind == cratedeps.Build {
		comp.Scope = "excluded"
	}
	if c.Checksum != "" {
		comp.Hashes = []cdxHash{{Alg: "SHA-256", Content: c.Checksum}}
	}
	if l := licenseExpression(c.License); l != noAssertion {
		comp.Licenses = []cdxLicense{{Expression: l}}
	}
	switch loc := downloadLocation(c); c.Source.Kind {
	case cratedeps.CratesIo:
		comp.ExternalRefs = []cdxExtRef{{Type: "distribution", URL: loc}}
	case cratedeps.Git:
		comp.ExternalRefs = []cdxExtRef{{Type: "vcs", URL: loc}}
	}
	return comp
}

// uuidV5 is RFC 9562's name-based UUID (SHA-1) of name in the URL namespace.
func uuidV5(name string) string {
	ns := []byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	h := sha1.Sum(append(ns, name...))
	u := h[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	s := hex.EncodeToString(u)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
