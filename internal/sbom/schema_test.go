package sbom

import (
	"bytes"
	"os"
	"testing"

	"github.com/xeipuuv/gojsonschema"
)

// TestSPDXSchema validates the document against the SPDX 2.3 JSON schema
// (schemas/spdx-schema.json of github.com/spdx/spdx-spec at tag v2.3) when
// SPDX_SCHEMA names a copy of it. The schema is not kept in this repository:
// the test setup fetches it, as it builds the other test tools.
func TestSPDXSchema(t *testing.T) {
	t.Parallel()
	path := os.Getenv("SPDX_SCHEMA")
	if path == "" {
		t.Skip("SPDX_SCHEMA names no SPDX 2.3 JSON schema file")
	}
	schema, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]Info{
		"full":         testInfo,
		"no toolchain": {Name: "app", ToolVersion: "dev", Created: created},
	}
	for name, info := range docs {
		_, doc := fixtureDoc(t, "x86_64-unknown-linux-musl", info)
		res, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewBytesLoader(doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Errors() {
			t.Errorf("%s: %s", name, e)
		}
	}
	// And the validator does reject: a relationship type SPDX does not have.
	_, doc := fixtureDoc(t, "x86_64-unknown-linux-musl", testInfo)
	bad := bytes.Replace(doc, []byte(`"DEPENDS_ON"`), []byte(`"USES"`), 1)
	res, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewBytesLoader(bad))
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid() {
		t.Error("schema accepted relationshipType USES")
	}
}
