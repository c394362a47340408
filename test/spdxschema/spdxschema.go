// Package spdxschema validates SPDX documents against the SPDX 2.3 JSON schema,
// for the tests of the SBOM (internal/sbom, test/e2e).
//
// The schema is not kept in this repository. It is the copy that Anchore's syft
// module ships (schema/spdx-json/spdx-schema-2.3.json), taken from the Go module
// cache at the syft version the test world pins: `bash hack/syft.sh spdx-schema`
// prints its path, and `make test` passes it on as SPDX_SCHEMA.
package spdxschema

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ID is the $id of the SPDX 2.3 JSON schema; Load refuses a file without it, so
// that SPDX_SCHEMA naming another schema fails instead of validating against it.
const ID = "http://spdx.org/rdf/terms/2.3"

// Path finds the schema file: $SPDX_SCHEMA, which `make test` sets from
// `hack/syft.sh spdx-schema`, or else what that script prints (it reads the Go
// module cache, downloading syft's module if the cache lacks it). SPDX_SCHEMA set
// to a file that cannot be read is an error, as WEED and SYFT are.
func Path() (string, error) {
	if path := os.Getenv("SPDX_SCHEMA"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("SPDX_SCHEMA=%s: %w (run bash hack/syft.sh spdx-schema)", path, err)
		}
		f.Close()
		return path, nil
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "hack", "syft.sh")
	var stderr bytes.Buffer
	cmd := exec.Command("bash", script, "spdx-schema")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("SPDX_SCHEMA is not set, and %s spdx-schema failed: %w\n%s", script, err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out)), nil
}

// Schema is the compiled SPDX 2.3 JSON schema.
type Schema struct {
	schema *jsonschema.Schema
}

// Load reads and compiles the schema file at path, which must be the SPDX 2.3
// schema (its $id is ID). Nothing is fetched: the schema refers to no other file.
func Load(path string) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m, _ := doc.(map[string]any); m == nil || m["$id"] != ID {
		return nil, fmt.Errorf("%s is not the SPDX 2.3 JSON schema (no $id %q)", path, ID)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(path, doc); err != nil {
		return nil, err
	}
	s, err := c.Compile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Schema{s}, nil
}

// Violation is one place where a document breaks the schema.
type Violation struct {
	// At is the JSON pointer of the offending value in the document, "" for the
	// document itself, such as "/packages/2/checksums/0/algorithm".
	At string
	// Keyword is the schema keyword that fails: "required", "enum", "type",
	// "additionalProperties" and so on.
	Keyword string
	// Message says what is wrong, in the validator's words.
	Message string
}

// Error is a document's violations of the schema.
type Error struct {
	Violations []Violation
	text       string // the validator's own report, all of them
}

func (e *Error) Error() string {
	return "the document does not validate against the SPDX 2.3 JSON schema:\n" + e.text
}

// Validate checks the JSON document doc against the schema. Its error is an
// *Error listing every violation, or the reason doc is no JSON.
func (s *Schema) Validate(doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("the document is no JSON: %w", err)
	}
	err = s.schema.Validate(v)
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return err
	}
	e := &Error{text: verr.Error()}
	leaves(verr, &e.Violations)
	return e
}

// leaves collects the violations a validation error is made of: the errors with
// no causes, the others being "this subschema failed because of …".
func leaves(v *jsonschema.ValidationError, out *[]Violation) {
	if len(v.Causes) > 0 {
		for _, c := range v.Causes {
			leaves(c, out)
		}
		return
	}
	var at strings.Builder
	for _, tok := range v.InstanceLocation {
		at.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(tok))
	}
	var kw string
	if p := v.ErrorKind.KeywordPath(); len(p) > 0 {
		kw = p[len(p)-1]
	}
	msg := (&jsonschema.ValidationError{InstanceLocation: v.InstanceLocation, ErrorKind: v.ErrorKind}).Error()
	*out = append(*out, Violation{At: at.String(), Keyword: kw, Message: msg})
}

// load is the schema the tests of one process use, found and compiled once.
var load = sync.OnceValues(func() (*Schema, error) {
	path, err := Path()
	if err != nil {
		return nil, err
	}
	return Load(path)
})

// ForTest is the schema for t (see Path). With SPDX_SCHEMA unset the test is
// skipped in -short mode, as the other tests that need the test world are;
// otherwise a schema that cannot be found or read fails the test, so CI cannot
// pass without validating.
func ForTest(t testing.TB) *Schema {
	t.Helper()
	if testing.Short() && os.Getenv("SPDX_SCHEMA") == "" {
		t.Skip("needs the SPDX 2.3 JSON schema (SPDX_SCHEMA, or hack/syft.sh spdx-schema); skipped in -short mode")
	}
	s, err := load()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
