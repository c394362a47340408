package sbom

import (
	"bytes"
	"testing"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"
)

// The document reads back through SPDX's own Go tools (tools-golang: its strict
// SPDX 2.3 JSON reader, then spdxlib's document validation, which checks that the
// document DESCRIBES a package and that every relationship names elements that
// exist), for each target the fixture resolves for.
func TestSPDXReadsBackWithSPDXTools(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"} {
		_, out := fixtureDoc(t, target, testInfo)
		doc, err := spdxjson.Read(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("%s: SPDX's reader refuses the document: %v", target, err)
		}
		if doc.SPDXVersion != "SPDX-2.3" {
			t.Errorf("%s: version %q, want SPDX-2.3", target, doc.SPDXVersion)
		}
		if err := spdxlib.ValidateDocument(doc); err != nil {
			t.Errorf("%s: spdxlib: %v", target, err)
		}
		want, _ := fixtureDoc(t, target, testInfo)
		if len(doc.Packages) != len(want.Packages) {
			t.Errorf("%s: SPDX's reader sees %d packages, the document has %d", target, len(doc.Packages), len(want.Packages))
		}
	}
}
