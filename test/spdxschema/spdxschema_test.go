package spdxschema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// SPDX_SCHEMA naming a file that is not there is an error, not a reason to look
// elsewhere or to skip.
func TestPathRefusesMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.json")
	t.Setenv("SPDX_SCHEMA", missing)
	if _, err := Path(); err == nil || !strings.Contains(err.Error(), "SPDX_SCHEMA="+missing) {
		t.Errorf("Path() with SPDX_SCHEMA=%s: err = %v", missing, err)
	}
}

// A file that is not the SPDX 2.3 schema is refused, valid JSON schema or not.
func TestLoadRefusesOtherFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"other.json":   `{"$schema": "http://json-schema.org/draft-07/schema#", "$id": "http://example.com/x", "type": "object"}`,
		"no-json.json": `SPDX 2.3`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file loaded")
	}
}

// The validator reports each violation with where it is and which keyword fails,
// and refuses what is no JSON. The schema is a small one of the same $id, so this
// runs without the test world.
func TestValidateReportsViolations(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "schema.json")
	schema := `{
	  "$schema": "http://json-schema.org/draft-07/schema#",
	  "$id": "` + ID + `",
	  "type": "object",
	  "properties": {
	    "packages": {"type": "array", "items": {
	      "type": "object",
	      "properties": {"name": {"type": "string"}, "purpose": {"enum": ["LIBRARY"]}},
	      "required": ["name"],
	      "additionalProperties": false
	    }}
	  },
	  "required": ["packages"]
	}`
	if err := os.WriteFile(path, []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate([]byte(`{"packages": [{"name": "a", "purpose": "LIBRARY"}]}`)); err != nil {
		t.Errorf("a valid document: %v", err)
	}
	err = s.Validate([]byte(`{"packages": [{"name": "a"}, {"purpose": "APP", "extra/x": 1}]}`))
	t.Log(err)
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("err = %v, want *Error", err)
	}
	got := map[string]bool{}
	for _, v := range e.Violations {
		got[v.At+" "+v.Keyword] = true
		if !strings.HasPrefix(v.Message, "at '"+v.At+"'") {
			t.Errorf("message %q does not say where", v.Message)
		}
	}
	for _, want := range []string{"/packages/1 required", "/packages/1/purpose enum", "/packages/1 additionalProperties"} {
		if !got[want] {
			t.Errorf("no violation %q in %+v", want, e.Violations)
		}
	}
	if len(e.Violations) != 3 {
		t.Errorf("%d violations, want 3: %+v", len(e.Violations), e.Violations)
	}
	if err := s.Validate([]byte(`{"packages": [`)); err == nil {
		t.Error("truncated JSON validated")
	}
}
