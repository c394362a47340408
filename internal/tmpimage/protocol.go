package tmpimage

import (
	"fmt"
	"strconv"

	"github.com/moby/moby/client"
)

// LabelScriptsProtocol, on the builder image, is the version of the protocol its
// scripts (s2i/bin) speak with this client: the RUST_S2I_* variables they read,
// the layout they keep, and how assemble hands the binary over. s2i/Dockerfile
// sets it to ScriptsProtocol, and a contract test keeps the two equal.
const LabelScriptsProtocol = "io.rust-s2i.scripts-protocol"

// ScriptsProtocol is the protocol this client's builder scripts speak, and the one
// it requires of a builder. A builder is used only when it speaks exactly this:
// one older would ignore settings it does not know (a builder from before the
// cargo options builds a default release binary whatever was asked), and one newer
// may expect inputs this client never gives.
//
// Bump it, with the LABEL in s2i/Dockerfile, whenever the scripts' inputs or
// outputs change meaning: a new RUST_S2I_* variable the client relies on, a
// variable read differently, or a change to the hand-over format. A bump makes
// every builder made before it refused until it is rebuilt: users of a custom
// builder rebuild it with `rust-s2i-musl builder`; the default builder is
// rebuilt by the release.
//
// 1 is every builder from before the label, which has none; 2 added the label; 3
// added RUST_S2I_TARGETS, the targets of a multi-platform build, whose binaries
// assemble hands over as TargetBinary beside the primary one; 4 added the crate
// list's inputs beside the binary (MetadataFile per target, LockFile, RustcFile),
// for the embedded crate list and the SBOM.
const ScriptsProtocol = 4

// legacyProtocol is the protocol of a builder without LabelScriptsProtocol.
const legacyProtocol = 1

// ProtocolError says that a builder's scripts speak another protocol than this
// client (CheckProtocol).
type ProtocolError struct {
	// Have is the builder's protocol: 1 when it has no label (Missing), 0 when
	// the label is not a protocol version (Label then holds it).
	Have    int
	Missing bool   // the builder has no LabelScriptsProtocol
	Label   string // the label's value as found when it is not a version
	Want    int    // ScriptsProtocol
}

// Error says which protocol the builder speaks and which this client needs,
// without naming the builder: the caller knows it, and how to rebuild it.
func (e *ProtocolError) Error() string {
	switch {
	case e.Have == 0:
		return fmt.Sprintf("its %s label is %q, which is not a protocol version; this rust-s2i-musl speaks scripts protocol %d",
			LabelScriptsProtocol, e.Label, e.Want)
	case e.Missing:
		return fmt.Sprintf("its scripts speak protocol %d (it has no %s label), older than the %d this rust-s2i-musl speaks",
			e.Have, LabelScriptsProtocol, e.Want)
	case e.Have < e.Want:
		return fmt.Sprintf("its scripts speak protocol %d, older than the %d this rust-s2i-musl speaks", e.Have, e.Want)
	default:
		return fmt.Sprintf("its scripts speak protocol %d, newer than the %d this rust-s2i-musl speaks", e.Have, e.Want)
	}
}

// Newer reports whether the builder is newer than this client: upgrading the
// client is then a fix too, beside rebuilding the builder.
func (e *ProtocolError) Newer() bool { return e.Have > e.Want }

// CheckProtocol checks the labels of a builder image: nil when its scripts speak
// ScriptsProtocol, else a *ProtocolError. A builder without the label speaks
// protocol 1, and is too old.
func CheckProtocol(labels map[string]string) error {
	raw, ok := labels[LabelScriptsProtocol]
	if !ok {
		return &ProtocolError{Have: legacyProtocol, Missing: true, Want: ScriptsProtocol}
	}
	have, err := strconv.Atoi(raw)
	if err != nil || have < legacyProtocol {
		return &ProtocolError{Label: raw, Want: ScriptsProtocol}
	}
	if have != ScriptsProtocol {
		return &ProtocolError{Have: have, Want: ScriptsProtocol}
	}
	return nil
}

// Labels is img's labels, nil when it has none.
func Labels(img client.ImageInspectResult) map[string]string {
	if img.Config == nil {
		return nil
	}
	return img.Config.Labels
}
