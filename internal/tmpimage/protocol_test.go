package tmpimage

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// CheckProtocol accepts exactly ScriptsProtocol, and says what it found otherwise.
func TestCheckProtocol(t *testing.T) {
	t.Parallel()
	want := strconv.Itoa(ScriptsProtocol)
	tests := []struct {
		name   string
		labels map[string]string
		have   int    // the ProtocolError's Have; -1 for no error
		msg    string // in the error
		newer  bool
	}{
		{"equal", map[string]string{LabelScriptsProtocol: want}, -1, "", false},
		{"missing label", map[string]string{LabelTarget: "x86_64-unknown-linux-musl"}, 1, "protocol 1 (it has no " + LabelScriptsProtocol + " label), older than the " + want, false},
		{"no labels", nil, 1, "protocol 1 (it has no", false},
		{"older", map[string]string{LabelScriptsProtocol: "1"}, 1, "protocol 1, older than the " + want, false},
		{"newer", map[string]string{LabelScriptsProtocol: strconv.Itoa(ScriptsProtocol + 1)}, ScriptsProtocol + 1, "newer than the " + want, true},
		{"garbage", map[string]string{LabelScriptsProtocol: "two"}, 0, `label is "two", which is not a protocol version`, false},
		{"empty", map[string]string{LabelScriptsProtocol: ""}, 0, `label is "", which is not`, false},
		{"zero", map[string]string{LabelScriptsProtocol: "0"}, 0, `label is "0", which is not`, false},
		{"negative", map[string]string{LabelScriptsProtocol: "-2"}, 0, `label is "-2", which is not`, false},
		{"padded", map[string]string{LabelScriptsProtocol: " " + want}, 0, "which is not a protocol version", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckProtocol(tc.labels)
			if tc.have < 0 {
				if err != nil {
					t.Fatalf("CheckProtocol = %v, want nil", err)
				}
				return
			}
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("CheckProtocol = %v, want a *ProtocolError", err)
			}
			if pe.Have != tc.have || pe.Want != ScriptsProtocol || pe.Newer() != tc.newer {
				t.Errorf("CheckProtocol = %+v (newer %t), want have %d, want %d, newer %t", pe, pe.Newer(), tc.have, ScriptsProtocol, tc.newer)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("CheckProtocol = %q, want it to say %q", err, tc.msg)
			}
		})
	}
}
