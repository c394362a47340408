package pipeline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/moby/moby/client"

	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// checkProtocol refuses the builder b when its scripts speak another protocol
// than this client (tmpimage.CheckProtocol), as bad input for the builder setting
// that says how to rebuild it. It runs before any container does: a builder older
// than the client would ignore settings it does not know (one from before the
// cargo options builds a default release binary whatever was asked) and the build
// would succeed with the wrong binary.
func checkProtocol(pl *plan.Plan, b client.ImageInspectResult) error {
	err := tmpimage.CheckProtocol(tmpimage.Labels(b))
	var pe *tmpimage.ProtocolError
	if !errors.As(err, &pe) {
		return err
	}
	var format string
	switch {
	case pe.Have == 0:
		format = "builder image %s does not say which scripts protocol it speaks: %v. Rebuild it with this rust-s2i-musl: %s"
	case pe.Newer():
		format = "builder image %s is too new for this rust-s2i-musl: %v, so they may expect inputs it never gives. " +
			"Upgrade rust-s2i-musl, or rebuild the builder with this one: %s"
	default:
		format = "builder image %s is too old for this rust-s2i-musl: %v, so it would ignore settings it does not know " +
			"(such as the cargo options) and build something other than asked. Rebuild it with this rust-s2i-musl: %s"
	}
	problem := fmt.Sprintf(format, pl.Builder, pe, rebuildCommand(pl, b))
	if pl.BuildBuilder && !pe.Newer() {
		problem += fmt.Sprintf("; or pull the current default builder (set %s to always)", pl.Naming("pull"))
	}
	return &config.InputError{Name: pl.Naming("builder"), Problem: problem, Err: err}
}

// rebuildCommand is the `rust-s2i-musl builder` command that makes the builder b
// again, as far as its labels tell: the same toolchain, target and name. The base
// image is not recorded, so a custom builder's is left for the user to fill in;
// the default builder's is the Dockerfile's default.
func rebuildCommand(pl *plan.Plan, b client.ImageInspectResult) string {
	args := []string{"rust-s2i-musl", "builder"}
	if !pl.BuildBuilder {
		args = append(args, "--base", "BASE")
	}
	// stable is the flag's default, and the default builder's toolchain.
	if t := tmpimage.Label(b, tmpimage.LabelBuilderToolchain); t != "" && t != "stable" {
		args = append(args, "--toolchain", t)
	}
	if t := tmpimage.Label(b, tmpimage.LabelTarget); t != "" {
		args = append(args, "--target", t)
	}
	cmd := strings.Join(append(args, "--tag", pl.Builder), " ")
	if !pl.BuildBuilder {
		cmd += " (BASE: the Rust image it was made from)"
	}
	return cmd
}
