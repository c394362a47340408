#!/usr/bin/env bash
# Builds SeaweedFS's `weed` (an S3-compatible object store, for the s3 cache's tests)
# at a pinned version and prints the path of the binary (go-tool.sh: about 7 minutes
# on 2 cores the first time, then reused).
set -euo pipefail
exec bash "$(dirname "$0")/go-tool.sh" weed github.com/seaweedfs/seaweedfs/weed "${WEED_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}"
