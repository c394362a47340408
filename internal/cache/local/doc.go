// Package local is the cache backend for a directory: a Woodpecker/Drone volume, a
// shared disk on a self-hosted runner, or a laptop. Several builds may use one
// directory at the same time, so every change to it is atomic and the size cap is
// enforced under a lock.
//
// Layout of the directory:
//
//   - k-NAME      one entry per key. NAME is the key with every byte outside
//     [A-Za-z0-9._-] written as %XX, so a key cannot name another directory; a
//     long key is cut and given a hash suffix (~HEX) to stay under the file
//     system's name limit. The file starts with a header holding the full key, so a
//     cut name is never mistaken for another key.
//   - .tmp-*      an entry being written, flock(2)ed by its writer. It is
//     hard-linked to its entry name only when complete and synced, so a reader never
//     sees a partial entry, and a crashed writer's leftover is recognised (no lock)
//     and removed by the next prune.
//   - .lock       flock(2)ed while pruning, so two builds never prune at once.
//
// An entry's modification time is when it was last saved or loaded: restore-prefix
// lookups take the newest, and pruning removes the oldest first.
package local
