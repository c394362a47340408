// Command multiarchbase serves the tests' two-platform runtime base (busybox for
// linux/amd64 and linux/arm64) from an in-memory registry on loopback, for the
// benchmarks: it prints the base's reference and serves until its stdin closes.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

func main() {
	_, ref, err := testenv.ServeMultiArchBase()
	if err != nil {
		fmt.Fprintln(os.Stderr, "multiarchbase:", err)
		os.Exit(1)
	}
	fmt.Println(ref)
	_, _ = io.Copy(io.Discard, os.Stdin)
}
