package config

import (
	"strings"
	"testing"
)

// The zstd variant is the tag with -zstd, latest-zstd for a name without a tag,
// in the registry and repository of ref; a digest or a tag too long for the
// suffix has none.
func TestZstdVariant(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("t", 124)
	tests := []struct{ ref, want, problem string }{
		{DefaultBuilder, "ghcr.io/rust-s2i/rust-s2i-musl-builder:stable-zstd", ""},
		{"127.0.0.1:5000/rs2i/builder:stable", "127.0.0.1:5000/rs2i/builder:stable-zstd", ""},
		{"localhost:5000/builder", "localhost:5000/builder:latest-zstd", ""},
		{"me/builder:1.85.0", "me/builder:1.85.0-zstd", ""},
		{"docker.io/library/builder:x", "builder:x-zstd", ""},
		{"r.example/b@sha256:" + strings.Repeat("0", 64), "", "names a digest"},
		{"r.example/b:v@sha256:" + strings.Repeat("0", 64), "", "names a digest"},
		{"r.example/b:" + long, "", "tag too long"},
		{"Not A Ref", "", "invalid reference format"},
	}
	for _, tc := range tests {
		got, err := ZstdVariant(tc.ref)
		switch {
		case tc.problem == "" && (err != nil || got != tc.want):
			t.Errorf("ZstdVariant(%q) = %q, %v; want %q", tc.ref, got, err, tc.want)
		case tc.problem != "" && (err == nil || !strings.Contains(err.Error(), tc.problem)):
			t.Errorf("ZstdVariant(%q) = %q, %v; want an error saying %q", tc.ref, got, err, tc.problem)
		}
	}
}
