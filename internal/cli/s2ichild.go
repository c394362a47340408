package cli

import (
	"context"
	"os"

	"github.com/rust-s2i/rust-s2i-musl/internal/engine"
	"github.com/rust-s2i/rust-s2i-musl/internal/s2i"
)

// runS2IChild is the hidden subcommand behind each S2I build; see s2i.ChildCommand.
func runS2IChild(ctx context.Context, io IO) error {
	c, err := engine.Connect(ctx, io.Getenv)
	if err != nil {
		return err
	}
	defer c.Close()
	return s2i.RunChild(ctx, c, os.Stdin, io.Stdout)
}
