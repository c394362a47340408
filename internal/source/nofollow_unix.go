//go:build unix

package source

import "syscall"

// syscallNoFollow makes the open of a file fail on a symbolic link put there
// between ReadFile's Lstat and its open.
const syscallNoFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
