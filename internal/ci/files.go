package ci

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// This file writes what goes to files rather than the log: the runner's file
// commands ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY) and the output file for sh.

// fileCommand is one step output as the runner reads it from $GITHUB_OUTPUT:
// KEY<<DELIMITER, the value's lines, DELIMITER. The delimiter is random for each
// value, as the Actions toolkit makes it (ghadelimiter_<uuid>): go-githubactions
// uses one fixed delimiter, so a value holding it (a cache key made from a user's
// prefix, a tag) ends its heredoc early and its next lines become outputs of
// their own. A value or key that holds its delimiter is refused, as the toolkit
// does; so is a key the runner would cut elsewhere.
func fileCommand(key, value, delimiter string) (string, error) {
	switch {
	case key == "" || strings.ContainsAny(key, "=<\r\n"):
		return "", fmt.Errorf("the name %q is not one the runner reads back", key)
	case strings.Contains(key, delimiter) || strings.Contains(value, delimiter):
		return "", fmt.Errorf("it holds its delimiter %s", delimiter)
	}
	return key + "<<" + delimiter + "\n" + value + "\n" + delimiter + "\n", nil
}

// newDelimiter is a fresh ghadelimiter_<uuid>, with a random (version 4) UUID.
// crypto/rand.Read does not fail: it crashes the program rather than return
// randomness it does not have.
func newDelimiter() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return "ghadelimiter_" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newToken is a random token for ::stop-commands::, 128 bits in hex: build output
// that guesses it could resume the commands.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// appendRunnerFile appends text to the file the runner names in the variable env,
// creating it as the toolkit does.
func appendRunnerFile(getenv func(string) string, env, text string) error {
	path := getenv(env)
	if path == "" {
		return fmt.Errorf("%s is not set", env)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", env, err)
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: writing %s: %w", env, path, err)
	}
	return nil
}

// writeOutputFile writes data to path, replacing what a regular file there held.
// It does not write through a symbolic link, nor to anything but a regular file:
// the plugin's output file is in the checkout, which a pull request controls, and
// a link there would have the outputs overwrite the file it points to (a
// ~/.bashrc, a later step's script). The link is refused at the last component
// with O_NOFOLLOW where the system has it, after an Lstat check everywhere.
func writeOutputFile(path string, data []byte) error {
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		return notRegular(path, st.Mode())
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|oNoFollow, 0o644)
	if err != nil {
		if st, lerr := os.Lstat(path); lerr == nil && !st.Mode().IsRegular() {
			return fmt.Errorf("%w: %w", notRegular(path, st.Mode()), err) // a link put there since
		}
		return fmt.Errorf("writing outputs: %w", err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = notRegular(path, st.Mode())
	}
	if err == nil {
		err = f.Truncate(0) // only now: a FIFO or device is not truncated
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("writing outputs to %s: %w", path, err)
	}
	return nil
}

// notRegular is the error for an output file path that holds something else.
func notRegular(path string, m fs.FileMode) error {
	what := "a device, pipe or socket"
	switch {
	case m&fs.ModeSymlink != 0:
		what = "a symbolic link"
	case m.IsDir():
		what = "a directory"
	}
	return fmt.Errorf("output file %s is %s: the outputs are not written through it", path, what)
}
