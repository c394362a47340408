package archive

import (
	"bytes"
	"testing"
	"os"
	"path/filepath"
)

func BenchmarkFuzzBody(b *testing.B) {
	data := seeds(b)["benign"]
	for b.Loop() {
		for _, in := range [][]byte{data, fixChecksums(data)} {
			sb := newSandbox(b)
			if err := os.Symlink(sb.canary, filepath.Join(sb.dest, "pre")); err != nil {
				b.Fatal(err)
			}
			before := sb.outside(b)
			_ = Extract(bytes.NewReader(in), sb.dest, Limits{MaxBytes: 1 << 20, MaxFiles: 200})
			sb.checkContained(b, before)
		}
	}
}
func BenchmarkExtractOnly(b *testing.B) {
	data := seeds(b)["benign"]
	for b.Loop() {
		d := b.TempDir()
		_ = Extract(bytes.NewReader(data), d, Limits{MaxBytes: 1 << 20, MaxFiles: 200})
	}
}
