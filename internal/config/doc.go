// Package config holds the one Config that every front end (command-line flags,
// GitHub Actions inputs, Woodpecker/Drone settings) fills, the settings of the
// other subcommands, and the checks that report every bad input in one pass, named
// the way the user wrote it: Validate, a pure function of the settings, and
// Preflight, which reads the disk.
//
// The settings table, settings.go, is the one list of the build settings: their
// names in each front end, defaults, help and Config fields. Values are typed when
// they are read (a duration is a time.Duration, a password a Secret), so that a
// value that does not parse is an input error at once, and nothing downstream
// parses it again. The cache (cache.go) and the registry credentials (registry.go)
// are sections of their own; the s3 backend's section is its own s3.Config, whose
// Validate is both Config.Validate's check and s3.New's. Config.Secrets lists every
// value a log must mask.
package config
