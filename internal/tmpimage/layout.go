package tmpimage

import (
	"path"
	"strings"

	"github.com/rust-s2i/rust-s2i-musl/internal/archive"
	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
)

// AppRoot is the build user's home in the builder image; the scripts in s2i/bin
// keep the StateDirs, the source (SourceDir) and bin/ (BinDir) below it.
const AppRoot = "/opt/app-root"

// CargoHome and TargetDir are cargo's home (its registry and git checkouts) and
// its target directory in the builder image.
const (
	CargoHome = AppRoot + "/cargo"
	TargetDir = AppRoot + "/target"
)

// SourceDir is where assemble moves the source to build it: a fixed path, since
// cargo's fingerprints include paths.
const SourceDir = AppRoot + "/src"

// StateDirs are the directories below AppRoot that carry the build state from a
// build to the next: the state is carried in them, assemble puts them back.
var StateDirs = []string{"cargo/registry", "cargo/git", "target"}

// Destination is where S2I puts the source (src/) and the previous build's
// artifacts (artifacts/) in the build container: the builder's
// io.openshift.s2i.destination label.
const Destination = "/tmp"

// CollectTokenFile, beside src/ in Destination, holds the token that the lines
// around the collected files on assemble's stdout start with (see internal/s2i).
const CollectTokenFile = ".rust-s2i-collect"

// LabelBuilder names the builder image ID a -tmp image was made with: a build may
// run on top of that image only with the same builder.
const LabelBuilder = "io.rust-s2i.builder"

// LabelSource names the source a -tmp image was built from: the CI's repository
// URL, the git URL, or a local directory's remote or path. Its state (cargo's git
// checkouts, private ones included) is that source's: a build of another source
// never uses it.
const LabelSource = "io.rust-s2i.source"

// LabelRustc and LabelToolchain remember what the builder named by LabelBuilder is
// (its compiler's release and builder.Identity.Key), so the next build with that
// builder need not read it again.
const (
	LabelRustc     = "io.rust-s2i.rustc"
	LabelToolchain = "io.rust-s2i.toolchain-id"
)

// BuildUser owns the build state, as the builder image's USER.
var BuildUser = archive.Owner{UID: 1001, GID: 0}

// BinDir is where assemble leaves the binary, and beside it the TimingFiles.
const BinDir = AppRoot + "/bin"

// CargoTimeFile, in BinDir, holds how long cargo ran, in milliseconds: the build's
// log cannot tell cargo's time apart from S2I's own work around it.
const CargoTimeFile = ".cargo-ms"

// TimesFile, in BinDir, holds when assemble started, when cargo started and when it
// ended, in nanoseconds since the Unix epoch (one line, three numbers): the
// container's clock is the host's, so these split the build container's run into
// its start, the steps before cargo, cargo, and its exit.
const TimesFile = ".times"

// The crate list's inputs, which assemble leaves beside the binary in BinDir when
// it can (scripts protocol 4): MetadataFile is `cargo metadata --format-version 1
// --filter-platform TARGET` run with the build's feature flags (a multi-platform
// build has one per target, TargetFile(TRIPLE, MetadataFile)), LockFile the
// workspace's Cargo.lock, RustcFile `rustc -vV`. The pipeline makes the binary's
// embedded crate list and its SBOM of them.
const (
	MetadataFile = ".cargo-metadata.json"
	LockFile     = ".Cargo.lock"
	RustcFile    = ".rustc-vV"
)

// BinaryPath is where the -tmp image holds the built binary.
func BinaryPath(binary string) string { return path.Join(BinDir, binary) }

// TimingFiles are the files beside the binary that the build's timings come from.
var TimingFiles = []string{CargoTimeFile, TimesFile}

// TargetBinary is the name, relative to BinDir, of the binary a multi-platform
// build makes for target: TRIPLE/BINARY. (BINARY itself is the primary target's,
// as in a single-platform build.)
func TargetBinary(target, binary string) string { return TargetFile(target, binary) }

// TargetFile is the name, relative to BinDir, of a file a multi-platform build
// keeps per target: TRIPLE/NAME.
func TargetFile(target, name string) string { return path.Join(target, name) }

// MetadataOf is the name of the cargo metadata of target's resolve among the
// collected files: TargetFile(target, MetadataFile) in a multi-platform build
// (multi), MetadataFile in a single-platform one.
func MetadataOf(target string, multi bool) string {
	if multi {
		return TargetFile(target, MetadataFile)
	}
	return MetadataFile
}

// CollectedFiles are the files of BinDir a build collects from its container: the
// binary, the TimingFiles, the crate list's inputs, and the TargetBinary and
// metadata of each of targets (those of a multi-platform build; none for a
// single-platform one). A file the build did not leave is simply not collected.
func CollectedFiles(binary string, targets ...string) []string {
	files := append([]string{binary}, TimingFiles...)
	files = append(files, LockFile, RustcFile)
	if len(targets) == 0 {
		files = append(files, MetadataFile)
	}
	for _, t := range targets {
		files = append(files, TargetBinary(t, binary), TargetFile(t, MetadataFile))
	}
	return files
}

// SecretsDir is where the build containers see the secret-env volume, and
// SecretsFile the file in it: NAME='VALUE' lines, which assemble exports for cargo
// alone.
const (
	SecretsDir  = "/run/rust-s2i/secrets"
	SecretsFile = "env"
)

// ScriptEnv is the environment the builder image gives its S2I scripts (s2i/bin)
// through ENV in s2i/Dockerfile: the paths of the layout above, which the scripts
// read from it rather than spell out. A test keeps the Dockerfile in step.
func ScriptEnv() map[string]string {
	return map[string]string{
		"HOME":                   AppRoot,
		"CARGO_HOME":             CargoHome,
		"CARGO_TARGET_DIR":       TargetDir,
		"RUST_S2I_SOURCE_DIR":    SourceDir,
		"RUST_S2I_BIN_DIR":       BinDir,
		"RUST_S2I_STATE_DIRS":    strings.Join(StateDirs, " "),
		"RUST_S2I_DESTINATION":   Destination,
		"RUST_S2I_COLLECT_TOKEN": path.Join(Destination, CollectTokenFile),
		"RUST_S2I_SECRETS_FILE":  path.Join(SecretsDir, SecretsFile),
		"RUST_S2I_CARGO_MS_FILE": CargoTimeFile,
		"RUST_S2I_TIMES_FILE":    TimesFile,
		"RUST_S2I_METADATA_FILE": MetadataFile,
		"RUST_S2I_LOCK_FILE":     LockFile,
		"RUST_S2I_RUSTC_FILE":    RustcFile,
	}
}

// Entries are the cache entries, in restore and save order.
var Entries = []string{cache.EntryRegistry, cache.EntryTarget}

// entryDirs maps each cache entry to the directory below AppRoot it holds.
var entryDirs = map[string]string{
	cache.EntryRegistry: "cargo",
	cache.EntryTarget:   "target",
}
