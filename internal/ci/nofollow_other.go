//go:build !unix

package ci

// oNoFollow is none where the system has no O_NOFOLLOW: writeOutputFile's Lstat
// check is the guard there.
const oNoFollow = 0
