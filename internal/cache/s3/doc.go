// Package s3 is the cache backend for a fleet of CI agents: a bucket of an
// S3-compatible object store (AWS S3, MinIO, SeaweedFS, Ceph, Garage, R2, ...)
// through github.com/minio/minio-go/v7, which several agents share at the same time.
//
// # Layout
//
// Every entry is one object, Root followed by the cache key with each byte outside
// [A-Za-z0-9._-] written as %XX. The escaping keeps a user's key prefix from
// naming "directories" (SeaweedFS and others map / onto a file tree and fold //),
// and it maps prefixes to prefixes, so a restore prefix is one ListObjectsV2 call.
// The store reads, lists and writes only under Root; it deletes nothing but its own
// unfinished uploads. Old entries go by the bucket's lifecycle rules (the README
// shows one), not by this package: an agent should not need delete rights on what
// other agents saved.
//
// # The contract of cache.Store
//
//   - Entries are immutable. Save looks first (a taken key costs a HEAD, not an
//     upload), then writes with If-None-Match: *, on the single PUT and on
//     CompleteMultipartUpload alike, so that of two agents racing for one key
//     exactly one writes it and the other gets cache.ErrExists. SeaweedFS honours
//     the condition on both (TestConditionalWrite), as AWS S3 does since 2024. On
//     a store that ignores it the HEAD alone guards the key, and two agents that
//     pass it at the same instant both write: the last one wins. Both wrote an
//     entry valid for the key (keys name what decides the content), so a restore
//     still gets a whole, right entry.
//   - A save that dies half-way leaves no entry. An entry larger than PartSize is a
//     multipart upload, which becomes an object only on Complete; any failure
//     aborts the upload. A process killed outright cannot abort: its parts stay
//     invisible to ListObjects and GET, and the lifecycle rule's
//     AbortIncompleteMultipartUpload removes them.
//   - Load takes the exact key, then the newest object (by LastModified) under each
//     restore prefix in turn: GitHub's restore-keys rule.
//   - Faults are errors for cache.Breaker to turn into one warning: nothing here
//     panics or retries for long (minio-go retries a request MaxRetries times).
//
// # Memory
//
// Entries are never held in memory. A save reads each part straight from the
// cache.Blob (a file) through an io.SectionReader, at most Concurrency parts at a
// time, and minio-go signs the payload in 64 KiB chunks (streaming SigV4 over
// http; UNSIGNED-PAYLOAD over https, where TLS protects it). A load returns the GET
// body as it arrives.
//
// # Time bounds
//
// Every request (a HEAD, a LIST, a single PUT, one part, the Complete) must finish
// within the timeout: 2 minutes to save by default, 1 minute to load, or
// --cache-timeout. A load must find its entry and get the first answer within the
// load timeout; after that the body stream fails when no data comes for that long,
// but has no overall limit, since a large entry on a slow link takes long.
package s3
