package intoto

import (
	"strings"
	"testing"
)

func TestNewAndMarshal(t *testing.T) {
	t.Parallel()
	sub, err := DigestSubject("registry.example/app", "sha256:abcd")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		predicate any
		want      string
		wantErr   string
	}{
		{"raw JSON, indented", []byte("{\n  \"b\": 1,\n  \"a\": 2\n}"),
			`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"registry.example/app","digest":{"sha256":"abcd"}}],"predicateType":"https://example/p","predicate":{"b":1,"a":2}}`, ""},
		{"value", map[string]int{"z": 1, "a": 2},
			`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"registry.example/app","digest":{"sha256":"abcd"}}],"predicateType":"https://example/p","predicate":{"a":2,"z":1}}`, ""},
		{"not JSON", []byte("{"), "", "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, err := New("https://example/p", tt.predicate, sub)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := st.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestCovers(t *testing.T) {
	t.Parallel()
	sub, _ := DigestSubject("x", "sha256:abcd")
	st, err := New("p", []byte(`{}`), sub)
	if err != nil {
		t.Fatal(err)
	}
	for digest, want := range map[string]bool{"sha256:abcd": true, "sha256:abce": false, "sha512:abcd": false, "abcd": false} {
		if got := st.Covers(digest); got != want {
			t.Errorf("Covers(%q) = %v, want %v", digest, got, want)
		}
	}
}

func TestRefuses(t *testing.T) {
	t.Parallel()
	if _, err := DigestSubject("x", "abcd"); err == nil {
		t.Error("DigestSubject accepted a digest without algorithm")
	}
	if _, err := New("p", []byte(`{}`)); err == nil {
		t.Error("New accepted no subject")
	}
	if _, err := New("", []byte(`{}`), Subject{Name: "x"}); err == nil {
		t.Error("New accepted no predicate type")
	}
}
