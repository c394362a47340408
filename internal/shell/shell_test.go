package shell

import (
	"os/exec"
	"testing"
)

// sh reads each quoted value back as it was, whatever it holds.
func TestQuoteRoundTrip(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"", "plain", "it's", "'", "''", `a\b`, "$HOME `id` $(id)", "two\nlines", "*", "a b\tc", "; exit 1"} {
		out, err := exec.Command("sh", "-c", "v="+Quote(v)+"; printf '%s' \"$v\"").Output()
		if err != nil {
			t.Fatalf("sh on %q: %v", Quote(v), err)
		}
		if string(out) != v {
			t.Errorf("Quote(%q) read back as %q", v, out)
		}
	}
}
