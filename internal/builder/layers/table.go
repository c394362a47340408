package layers

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/rust-s2i/rust-s2i-musl/internal/human"
)

// WriteTable writes a table of the layers and their total: each part's files,
// unpacked size and the two compressed sizes, which is what a runner downloads
// for it. Its rows are Markdown table rows, for the docs.
func WriteTable(w io.Writer, ls []Layer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	row := func(cells ...any) {
		fmt.Fprint(tw, "|")
		for _, c := range cells {
			fmt.Fprintf(tw, " %v\t|", c)
		}
		fmt.Fprintln(tw)
	}
	row("part", "files", "unpacked", "gzip", "zstd")
	row("---", "---:", "---:", "---:", "---:")
	var total Layer
	for _, l := range ls {
		row(l.Part, l.Files, human.Bytes(l.Bytes), human.Bytes(l.Gzip.Size), human.Bytes(l.Zstd.Size))
		total.Files += l.Files
		total.Bytes += l.Bytes
		total.Gzip.Size += l.Gzip.Size
		total.Zstd.Size += l.Zstd.Size
	}
	row("total", total.Files, human.Bytes(total.Bytes), human.Bytes(total.Gzip.Size), human.Bytes(total.Zstd.Size))
	return tw.Flush()
}
