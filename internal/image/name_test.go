package image

import (
	"strings"
	"testing"
)

// An image written untagged (a local source's, while S2I commits) is named by what
// it holds in errors, not by an empty name ("writing image : ...").
func TestSpecNameInErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec Spec
		want string
	}{
		{Spec{Tag: "ghcr.io/o/app:1", Binary: "app", Base: "alpine:3"}, "ghcr.io/o/app:1"},
		{Spec{Binary: "app", Base: "alpine:3"}, "of app on alpine:3 (untagged)"},
	}
	for _, tc := range tests {
		got := tc.spec.name()
		if got != tc.want || strings.TrimSpace(got) == "" {
			t.Errorf("name of %+v = %q, want %q", tc.spec, got, tc.want)
		}
	}
}
