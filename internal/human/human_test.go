package human

import (
	"testing"
	"time"
)

func TestBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0.0 B"},
		{512, "512.0 B"},
		{1023, "1023.0 B"},
		{1024, "1.0 KiB"},
		{1572864, "1.5 MiB"},
		{695_000_000, "662.8 MiB"},
		{3 << 30, "3.0 GiB"},
		{5 << 40, "5120.0 GiB"}, // no unit above GiB: the number grows
	}
	for _, tc := range tests {
		if got := Bytes(tc.n); got != tc.want {
			t.Errorf("Bytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{12345 * time.Microsecond, "12ms"},
		{999 * time.Millisecond, "999ms"},
		{20512 * time.Millisecond, "20.5s"},
		{192449 * time.Millisecond, "3m12.4s"},
	}
	for _, tc := range tests {
		if got := Duration(tc.d); got != tc.want {
			t.Errorf("Duration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
