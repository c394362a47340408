package image

import (
	"github.com/rust-s2i/rust-s2i-musl/internal/platform/platformtest"
	"runtime"
	"testing"
)

func TestTargetArch(t *testing.T) {
	t.Parallel()
	for triple, want := range map[string]string{
		"x86_64-unknown-linux-musl":      "amd64",
		"x86_64-unknown-linux-gnu":       "amd64",
		"aarch64-unknown-linux-musl":     "arm64",
		"armv7-unknown-linux-musleabihf": "arm",
		"riscv64gc-unknown-linux-musl":   "riscv64",
		"wasm32-wasip1":                  "",
	} {
		if got := TargetArch(triple); got != want {
			t.Errorf("TargetArch(%q) = %q, want %q", triple, got, want)
		}
	}
}

func TestBinaryArch(t *testing.T) {
	t.Parallel()
	// This test's own executable is an ELF file of the machine it runs on.
	got, err := binaryArch(platformtest.ThisBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if want := runtime.GOARCH; got != want {
		t.Errorf("binaryArch of this test = %q, want %q", got, want)
	}
	if _, err := binaryArch([]byte("#!/bin/sh\necho not a binary\n")); err == nil {
		t.Error("a shell script passed as a binary")
	}
}
