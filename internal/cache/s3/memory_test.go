package s3

import (
	"context"
	"crypto/sha256"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// memEntryBytes is the entry that goes to SeaweedFS and back: 16 parts of 8 MiB,
	// 4 in flight. Holding the parts in flight alone would take 32 MiB.
	memEntryBytes = 128 << 20
	memPartBytes  = 8 << 20
	// memMaxHeapInuse bounds the growth of the heap in use during the round trip,
	// at half of what the parts in flight would take if they were held. Measured on
	// linux/amd64, 2 CPUs, Go 1.26: 1 to 3 MiB (minio-go's 64 KiB signing chunks,
	// HTTP buffers).
	memMaxHeapInuse = 16 << 20
)

// genBlob is a large entry made up on the fly: a 64 KiB pattern, each copy XORed
// with its number, so that a part put in the wrong place shows in the hash.
type genBlob struct {
	size  int64
	block []byte
}

func newGenBlob(size int64) genBlob { return genBlob{size: size, block: pattern(7, 64<<10)} }

func (b genBlob) Size() int64 { return b.size }

func (b genBlob) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off < b.size {
		l := int64(len(b.block))
		c := copy(p[n:min(len(p), n+int(b.size-off))], b.block[off%l:])
		for j, stamp := n, byte(off/l); j < n+c; j++ {
			p[j] ^= stamp
		}
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestStreamsInFlatMemory saves a 128 MiB entry in parts and loads it back, while
// sampling the heap: neither way holds the entry, or its parts, in memory.
func TestStreamsInFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 256 MiB through SeaweedFS; skipped in -short mode")
	}
	// Not parallel: other tests' allocations would count.
	s, _, _ := newStore(t, func(c *Config) { c.PartSize, c.Concurrency = memPartBytes, 4 })
	blob := newGenBlob(memEntryBytes)
	want := sha256.New()
	if _, err := io.Copy(want, io.NewSectionReader(blob, 0, blob.size)); err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})

	ctx := context.Background()
	start := time.Now()
	if err := s.Save(ctx, "big", blob); err != nil {
		t.Fatal(err)
	}
	saved := time.Since(start)
	_, rc, err := s.Load(ctx, []string{"big"})
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	_, err = io.Copy(got, rc)
	rc.Close()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Sum(nil)) != string(want.Sum(nil)) {
		t.Fatal("the entry came back different")
	}
	grew := int64(peak.Load()) - int64(base.HeapInuse)
	t.Logf("save %v, load %v; heap in use peaked %d MiB above the %d MiB before",
		saved.Round(time.Millisecond), (time.Since(start) - saved).Round(time.Millisecond), grew>>20, base.HeapInuse>>20)
	if grew > memMaxHeapInuse {
		t.Errorf("heap in use grew by %d MiB, over %d MiB", grew>>20, memMaxHeapInuse>>20)
	}
}
