package builder

// DefaultTarget is the musl target triple for a daemon's architecture as the
// Engine reports it (uname -m: x86_64, aarch64; or Go's amd64, arm64), so that an
// arm64 runner builds arm64 binaries without being told. "" for others.
func DefaultTarget(arch string) string {
	switch arch {
	case "x86_64", "amd64":
		return "x86_64-unknown-linux-musl"
	case "aarch64", "arm64":
		return "aarch64-unknown-linux-musl"
	}
	return ""
}
