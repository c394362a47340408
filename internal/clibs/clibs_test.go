package clibs

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     Set
	}{
		{"the default", "openssl=3.0.17 libpq=15.14 zlib=1.3.1 sqlite=3.46.1",
			Set{"openssl": "3.0.17", "libpq": "15.14", "zlib": "1.3.1", "sqlite": "3.46.1"}},
		{"empty: brings none", "", Set{}},
		{"spaces around", "  zlib=1.3.1\tsqlite=3.46.1 ", Set{"zlib": "1.3.1", "sqlite": "3.46.1"}},
		{"a name this client does not know is the builder's word", "libcurl=8.9.1", Set{"libcurl": "8.9.1"}},
		{"fields without a name or version say nothing", "zlib= =1.0 openssl sqlite=3.46.1", Set{"sqlite": "3.46.1"}},
		{"a Debian version", "zlib=1:1.2.13.dfsg-1", Set{"zlib": "1:1.2.13.dfsg-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ParseLabel(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseLabel(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     Set
	}{
		{"commas", "openssl=3.0.17,libpq=15.14", Set{"openssl": "3.0.17", "libpq": "15.14"}},
		{"spaces, as the build argument", "zlib=1.3.1 sqlite=3.46.1", Set{"zlib": "1.3.1", "sqlite": "3.46.1"}},
		{"both, and a trailing comma", "zlib=1.3.1, sqlite=3.46.1,", Set{"zlib": "1.3.1", "sqlite": "3.46.1"}},
		{"a Debian source version", "zlib=1:1.2.13.dfsg-1", Set{"zlib": "1:1.2.13.dfsg-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, problems := ParseList(tt.in)
			if len(problems) > 0 || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseList(%q) = %v, %v; want %v", tt.in, got, problems, tt.want)
			}
		})
	}
}

// Every bad entry is a problem of its own, named by the entry, so that a user
// sees them all in one run; the good ones still parse.
func TestParseListProblems(t *testing.T) {
	t.Parallel()
	got, problems := ParseList("openssl=3.0.17,curl=8.0,zlib,libpq=,sqlite=3.46.1;rm,openssl=3.1.0")
	want := []string{
		`"curl=8.0": "curl" is not a library the builder can build (openssl, libpq, zlib, sqlite)`,
		`"zlib" has no version: write zlib=VERSION`,
		`"libpq=" has no version: write libpq=VERSION`,
		`"sqlite=3.46.1;rm": "3.46.1;rm" is not a version such as 3.0.17`,
		`"openssl=3.1.0" names openssl a second time`,
	}
	var msgs []string
	for _, p := range problems {
		msgs = append(msgs, p.Error())
	}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("problems:\n got %q\nwant %q", msgs, want)
	}
	if !reflect.DeepEqual(got, Set{"openssl": "3.0.17"}) {
		t.Errorf("the good entries parsed as %v", got)
	}
	if _, problems := ParseList(" , "); len(problems) != 1 || !strings.Contains(problems[0].Error(), "or say none") {
		t.Errorf("an empty list: %v", problems)
	}
}

// The build argument and the label list the known libraries in build order
// (libpq after the OpenSSL it is built with), then others by name.
func TestSetString(t *testing.T) {
	t.Parallel()
	s := Set{"sqlite": "3.46.1", "zlib": "1.3.1", "libcurl": "8.9.1", "openssl": "3.0.17", "libpq": "15.14", "brotli": "1.1.0"}
	if got, want := s.String(), "openssl=3.0.17 libpq=15.14 zlib=1.3.1 sqlite=3.46.1 brotli=1.1.0 libcurl=8.9.1"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := s.Describe(), "openssl 3.0.17, libpq 15.14, zlib 1.3.1, sqlite 3.46.1, brotli 1.1.0, libcurl 8.9.1"; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
	if got := (Set{}).String(); got != "" {
		t.Errorf("an empty set is %q", got)
	}
	if got := ParseLabel(s.String()); !reflect.DeepEqual(got, s) {
		t.Errorf("the label does not read back: %v", got)
	}
}
