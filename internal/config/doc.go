// Package config holds the one Config that every front end (command-line flags,
// GitHub Actions inputs, Woodpecker/Drone settings) fills, and the validation that
// reports every bad input in one pass, named the way the user wrote it.
package config
