package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
)

// These are the settings of the subcommands other than build, which only the
// command line sets. They are parsed and validated here, like build's, so that each
// check is written once and every bad input is reported in one run.

var toolchainRe = regexp.MustCompile(`^(stable|beta|nightly|1\.[0-9]+(\.[0-9]+)?|nightly-[0-9]{4}-[0-9]{2}-[0-9]{2})$`)

// Builder is what `rust-s2i-musl builder` makes: the builder image.
type Builder struct {
	Toolchain string // rustup toolchain
	Base      string // Rust base image; "" keeps the Dockerfile's default
	Target    string // target triple; "" is the daemon's architecture's (see builderTargetUsage)
	Tag       string // "" names the default builder for the toolchain
	// CLibs are the C libraries to build for musl as the user wrote them (see
	// CLibSet): "" keeps the Dockerfile's default, "none" builds none.
	CLibs string
	// CLibsSource is where their sources come from: upstream's releases or
	// Debian's source packages; "" keeps the Dockerfile's default.
	CLibsSource string
	// Push is the registry reference to publish the builder to, flattened and cut
	// into layers made for pulling, gzip there and zstd at its ZstdVariant; ""
	// publishes nothing.
	Push string
}

// NoCLibs is the --c-libs value that builds no C library.
const NoCLibs = "none"

// cLibsSources are the values of --c-libs-source (s2i/Dockerfile's CLIBS_SOURCE).
func cLibsSources() []string { return []string{"upstream", "debian"} }

// CLibSet is the C libraries to build: nil keeps the Dockerfile's default, an
// empty set builds none. The problems are those of Validate.
func (b Builder) CLibSet() (clibs.Set, []error) {
	switch strings.TrimSpace(b.CLibs) {
	case "":
		return nil, nil
	case NoCLibs:
		return clibs.Set{}, nil
	}
	return clibs.ParseList(b.CLibs)
}

// ImageTag is the image name to build: Tag, else the default builder's name with
// the toolchain as its tag.
func (b Builder) ImageTag() string {
	if b.Tag != "" {
		return b.Tag
	}
	repo, _, _ := strings.Cut(DefaultBuilder, ":stable")
	return repo + ":" + b.Toolchain
}

// builderTargetUsage is the help of builder --target. The CLI picks the default
// from the daemon (see builder.DefaultTarget), so that an arm64 runner makes an
// aarch64 builder; only when the daemon's architecture is neither, or cannot be
// read, does the Dockerfile's x86_64 default apply.
const builderTargetUsage = "target triple (default: the musl target of the Docker daemon's architecture, " +
	"x86_64- or aarch64-unknown-linux-musl; x86_64-unknown-linux-musl for any other)"

// ParseBuilderFlags fills a Builder from the builder subcommand's arguments.
func ParseBuilderFlags(args []string, usage io.Writer) (Builder, error) {
	b := Builder{Toolchain: "stable"}
	fs := flag.NewFlagSet("builder", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&b.Toolchain, "toolchain", b.Toolchain, "rustup toolchain: stable, 1.NN.N or nightly-YYYY-MM-DD")
	fs.StringVar(&b.Base, "base", "", "Rust base image (default: the Dockerfile's)")
	fs.StringVar(&b.Target, "target", "", builderTargetUsage)
	fs.StringVar(&b.Tag, "tag", "", "image name (default: the default builder for the toolchain)")
	fs.StringVar(&b.CLibs, "c-libs", "", "C libraries to build for musl, NAME=VERSION separated by commas or spaces "+
		"(names: "+strings.Join(clibs.Names(), ", ")+"), or "+NoCLibs+" (default: the Dockerfile's, which builds all four)")
	fs.StringVar(&b.CLibsSource, "c-libs-source", "", "where the C libraries' sources come from: "+
		strings.Join(cLibsSources(), " or ")+" (default: the Dockerfile's, upstream)")
	fs.StringVar(&b.Push, "push", "", "after the build, push the builder to this registry tag in layers made for pulling, "+
		"gzip, and zstd under the tag with "+ZstdSuffix+" (default: push nothing)")
	return b, parse(fs, args)
}

// Validate checks every setting and returns all problems at once, joined.
func (b Builder) Validate() error {
	var errs []error
	if !toolchainRe.MatchString(b.Toolchain) {
		errs = append(errs, &InputError{Name: "--toolchain", Problem: fmt.Sprintf("%q is not stable, beta, nightly, 1.NN[.N] or nightly-YYYY-MM-DD", b.Toolchain)})
	}
	if b.Target != "" && !tripleRe.MatchString(b.Target) {
		errs = append(errs, &InputError{Name: "--target", Problem: fmt.Sprintf("%q is not a target triple such as x86_64-unknown-linux-musl", b.Target)})
	}
	errs = append(errs, checkRef(FlagNaming, "base", b.Base, false), checkRef(FlagNaming, "tag", b.ImageTag(), true))
	_, problems := b.CLibSet()
	for _, p := range problems {
		errs = append(errs, &InputError{Name: "--c-libs", Problem: p.Error(), Err: p})
	}
	if b.CLibsSource != "" && !slices.Contains(cLibsSources(), b.CLibsSource) {
		errs = append(errs, &InputError{Name: "--c-libs-source", Problem: fmt.Sprintf("%q is not %s", b.CLibsSource, strings.Join(cLibsSources(), " or "))})
	}
	if err := checkRef(FlagNaming, "push", b.Push, false); err != nil {
		errs = append(errs, err)
	} else if b.Push != "" {
		if _, err := ZstdVariant(b.Push); err != nil {
			errs = append(errs, &InputError{Name: "--push", Problem: fmt.Sprintf("%q %v", b.Push, err)})
		}
	}
	return errors.Join(errs...)
}

// Bootstrap is what `rust-s2i-musl bootstrap` makes: a -tmp image from a cargo home.
type Bootstrap struct {
	CargoHome string
	Binary    string
	Builder   string
	TmpImage  string // "" is the binary's default -tmp image
}

// IncrementalImage is the -tmp image to make, named as build names it.
func (b Bootstrap) IncrementalImage() string {
	return Config{Binary: b.Binary, TmpImage: b.TmpImage}.IncrementalImage()
}

// ParseBootstrapFlags fills a Bootstrap from the bootstrap subcommand's arguments.
func ParseBootstrapFlags(args []string, usage io.Writer) (Bootstrap, error) {
	b := Bootstrap{Builder: DefaultBuilder}
	fs := flag.NewFlagSet("bootstrap", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&b.CargoHome, "cargo-home", "", "cargo home filled by `CARGO_HOME=DIR cargo fetch` (required)")
	fs.StringVar(&b.Binary, "binary", "", "binary whose -tmp image to make (required)")
	fs.StringVar(&b.Builder, "builder", b.Builder, "builder image")
	fs.StringVar(&b.TmpImage, "tmp-image", "", "image to make (default rust-musl-BINARY-tmp)")
	return b, parse(fs, args)
}

// Validate checks every setting and returns all problems at once, joined.
func (b Bootstrap) Validate() error {
	var errs []error
	if b.CargoHome == "" {
		errs = append(errs, &InputError{Name: "--cargo-home", Problem: "is required"})
	}
	switch {
	case b.Binary == "":
		errs = append(errs, &InputError{Name: "--binary", Problem: "is required"})
	case !binaryRe.MatchString(b.Binary):
		errs = append(errs, &InputError{Name: "--binary", Problem: fmt.Sprintf("%q is not a cargo target name (letters, digits, _ and -)", b.Binary)})
	}
	errs = append(errs, checkRef(FlagNaming, "builder", b.Builder, true), checkRef(FlagNaming, "tmp-image", b.TmpImage, false))
	return errors.Join(errs...)
}

// Preflight checks that the cargo home is a directory.
func (b Bootstrap) Preflight() error {
	if b.CargoHome == "" {
		return nil // Validate says it is required
	}
	if st, err := os.Stat(b.CargoHome); err != nil || !st.IsDir() {
		return &InputError{Name: "--cargo-home", Problem: fmt.Sprintf("%q is not a directory", b.CargoHome)}
	}
	return nil
}

// parse parses a subcommand's flags, which take no other arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return &InputError{Name: fs.Name(), Problem: err.Error(), Err: err}
	}
	if fs.NArg() > 0 {
		return &InputError{Name: fs.Name(), Problem: "unexpected arguments: " + strings.Join(fs.Args(), " ")}
	}
	return nil
}
