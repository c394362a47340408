#!/usr/bin/env bash
# Builds Anchore's syft (the SBOM scanner the supply-chain tests read the final image
# with, test/e2e/supplychain_test.go) at a pinned version, stamped as syft's own
# release build is so that `syft version` names it, and prints its path (go-tool.sh).
#
# `syft.sh spdx-schema` prints instead the path of the SPDX 2.3 JSON schema that
# syft's module at the same version ships (schema/spdx-json/spdx-schema-2.3.json),
# which the SBOM tests validate our documents against (test/spdxschema). It is the
# file in the module cache, downloaded by `go mod download` with the same go
# environment as go-tool.sh's build: offline when the cache (or as-user.sh's seed
# of it) has the module.
set -euo pipefail
version="${SYFT_VERSION:-v1.57.2}"
module=github.com/anchore/syft

if [[ "${1:-}" == spdx-schema ]]; then
	# Outside any module, so that nothing is recorded in ours.
	tmp="$(mktemp -d)"
	trap 'rm -rf "${tmp}"' EXIT
	json="$(cd "${tmp}" && go mod download -json "${module}@${version}")" || {
		echo "syft.sh: go mod download ${module}@${version} failed:" >&2
		echo "${json}" >&2
		exit 1
	}
	dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"${json}")"
	schema="${dir}/schema/spdx-json/spdx-schema-2.3.json"
	if [[ -z "${dir}" || ! -r "${schema}" ]]; then
		echo "syft.sh: no SPDX 2.3 schema in ${module}@${version} (${schema}):" >&2
		echo "${json}" >&2
		exit 1
	fi
	echo "${schema}"
	exit 0
fi
exec bash "$(dirname "$0")/go-tool.sh" syft "${module}/cmd/syft" "${version}" "-X main.version=${version#v}"
