// Package registry pushes the final image to an image registry through the Docker
// daemon, with credentials from the user's inputs or the usual Docker config.
//
// The daemon does the pushing (it already holds the layers); this package only
// finds the credentials, hands them to the daemon in the X-Registry-Auth form,
// and turns the daemon's progress stream into short log lines, a digest, and an
// error that says what went wrong without ever containing the password
// or the identity token. Logins.Keychain hands the same logins to
// go-containerregistry, for what this program pushes and reads without the daemon.
package registry
