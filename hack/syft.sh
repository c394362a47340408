#!/usr/bin/env bash
# Builds Anchore's syft (the SBOM scanner the supply-chain tests read the final image
# with, test/e2e/supplychain_test.go) at a pinned version, stamped as syft's own
# release build is so that `syft version` names it, and prints its path (go-tool.sh).
set -euo pipefail
version="${SYFT_VERSION:-v1.57.2}"
exec bash "$(dirname "$0")/go-tool.sh" syft github.com/anchore/syft/cmd/syft "${version}" "-X main.version=${version#v}"
