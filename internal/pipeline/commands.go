package pipeline

import (
	"context"
	"errors"

	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
)

// runS2I runs the S2I build with the CI's workflow commands stopped while its output
// streams: cargo, a build script or a dependency may print a line that starts with
// "::" (::add-mask::, ::add-path::, ::stop-commands:: of its own, a forged ::error::),
// which the Actions runner would otherwise carry out. The commands resume once the
// S2I step has returned, by when its output is all written (the child has exited,
// or S2I has drained the container's streams). The annotations of a failed build,
// which assemble marks with the build's token and S2I takes out of the stream, are
// written then; unmarked "::error" lines stay text.
func (s *buildStage) runS2I(ctx context.Context, req s2i.Request) (s2i.Result, error) {
	resume := s.Report.StopCommands()
	res, err := s.s2i(ctx, req)
	resume()
	var failed *s2i.FailedError
	if errors.As(err, &failed) {
		for _, a := range failed.Annotations {
			s.Report.Annotate(a.File, a.Line, a.Col, a.Message)
		}
	}
	return res, err
}
