package s2i

import (
	"bytes"
	"io"
	"slices"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
)

// assemble's ::error commands come back as they were before the toolkit's
// escaping; anything else is no annotation.
func TestParseAnnotation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cmd  string
		want Annotation
		ok   bool
	}{
		{"::error file=svc/src/main.rs,line=2,col=18::error[E0308]: mismatched types",
			Annotation{File: "svc/src/main.rs", Line: 2, Col: 18, Message: "error[E0308]: mismatched types"}, true},
		{"::error file=sub/src/a%2Cb%3Ac.rs,line=3,col=7::error: 100%25 wrong, file=evil::x",
			Annotation{File: "sub/src/a,b:c.rs", Line: 3, Col: 7, Message: "error: 100% wrong, file=evil::x"}, true},
		{"::error file=a.rs,line=1,col=1::literal %250A stays, %0A is a newline",
			Annotation{File: "a.rs", Line: 1, Col: 1, Message: "literal %0A stays, \n is a newline"}, true},
		{"::warning file=a.rs,line=1,col=1::not an error", Annotation{}, false},
		{"::error file=a.rs,line=x,col=1::bad line", Annotation{}, false},
		{"::error file=a.rs,line=1::no col", Annotation{}, false},
		{"::error file=a.rs,line=1,col=1,title=t::unknown property", Annotation{}, false},
		{"::error file=a.rs,line=1,col=1 no message", Annotation{}, false},
	}
	for _, tc := range tests {
		got, ok := parseAnnotation(tc.cmd)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("parseAnnotation(%q) = %+v, %v; want %+v, %v", tc.cmd, got, ok, tc.want, tc.ok)
		}
	}
}

// Lines marked with the token, even split across frames, are taken out of stdout
// and collected; an ::error line a build script prints without the token is left in
// the log as text, never collected.
func TestDivertAnnotations(t *testing.T) {
	t.Parallel()
	const token = "rust-s2i-collect-0123"
	in := frames("compiling\n", "::error file=fake.rs,line=1,col=1::from a build script\n",
		token+" annotate ::error file=src/main.rs,line=2,col=5::err", "or: one\n"+token[:10],
		token[10:]+" annotate ::error file=src/lib.rs,line=9,col=1::two\nafter\n", "2:"+token+" annotate ::error file=x,line=1,col=1::stderr is not assemble's\n")
	var notes annotations
	d := newDivert(bytes.NewReader(in), token, func() io.WriteCloser { t.Fatal("no files here"); return nil })
	d.annotate = notes.add
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, d); err != nil {
		t.Fatal(err)
	}
	if want := "compiling\n::error file=fake.rs,line=1,col=1::from a build script\nafter\n"; stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	if want := token + " annotate ::error file=x,line=1,col=1::stderr is not assemble's\n"; stderr.String() != want {
		t.Errorf("stderr %q, want it unchanged", stderr.String())
	}
	want := []Annotation{{"src/main.rs", 2, 5, "error: one"}, {"src/lib.rs", 9, 1, "two"}}
	if got := notes.list(); !slices.Equal(got, want) {
		t.Errorf("annotations %+v, want %+v", got, want)
	}
}
