// Package human writes quantities for people to read in logs and the job summary,
// in one way wherever they appear: an image's size in the summary's table and the
// bytes a pull downloaded are then in the same units.
package human

import (
	"fmt"
	"time"
)

// Bytes is n in binary units with one decimal, as the job summary shows sizes:
// "512.0 B", "1.5 MiB", "662.8 MiB".
func Bytes(n int64) string {
	v := float64(n)
	units := []string{"B", "KiB", "MiB", "GiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// Duration is d in a sentence: to the millisecond under a second ("12ms"), to
// a tenth of a second above ("20.5s", "3m12.4s"), where milliseconds are noise.
// The phase lines keep their milliseconds: the benchmark reads them.
func Duration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
