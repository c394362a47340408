//go:build !unix

package source

// syscallNoFollow has no equivalent here; os.Root and the Stat after the open
// still keep the read inside the tree and to a regular file.
const syscallNoFollow = 0
