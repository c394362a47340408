package pipeline

// The C libraries the builder brings built for musl (its io.rust-s2i.clibs label,
// State.CLibs): which of them each binary links, for the job summary, the
// c-libraries output and the SBOM, and what a failed -sys build script is told.

import (
	"errors"
	"fmt"

	"github.com/rust-s2i/rust-s2i-musl/internal/clibs"
	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
)

// withCLibsHint adds to the error of a build in which a -sys crate's build script
// failed a line that names the crate and what C libraries builder brings
// (clibs.Hint): the report prints it after the error. Any other error is as it
// was; either way errors.As still finds the s2i.FailedError (exit code 1).
func withCLibsHint(err error, builder string, have clibs.Set) error {
	var failed *s2i.FailedError
	if !errors.As(err, &failed) {
		return err
	}
	hint := clibs.Hint(failed.BuildScripts, builder, have)
	if hint == "" {
		return err
	}
	return fmt.Errorf("%w\n%s", err, hint)
}

// cLibs are the builder's C libraries that the binaries of sup link between
// them, each once (clibs.Merge); none for a nil Supply.
func (sup *Supply) cLibs() []clibs.Link {
	if sup == nil {
		return nil
	}
	lists := make([][]clibs.Link, len(sup.Parts))
	for i, p := range sup.Parts {
		lists[i] = p.CLibs
	}
	return clibs.Merge(lists...)
}
