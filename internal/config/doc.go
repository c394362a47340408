// Package config holds the one Config that every front end (command-line flags,
// GitHub Actions inputs, Woodpecker/Drone settings) fills, the settings of the
// other subcommands, and the checks that report every bad input in one pass, named
// the way the user wrote it: Validate, a pure function of the settings, and
// Preflight, which reads the disk.
package config
