# syntax=docker/dockerfile:1
#
# The image of the GitHub Action and of the Woodpecker/Drone plugin, published as
# ghcr.io/rust-s2i/rust-s2i-musl:vX.Y.Z for linux/amd64 and linux/arm64 by the release
# workflow (.github/workflows/release.yml); action.yml runs that prebuilt image
# (docker://…:vX.Y.Z), so no runner builds this file for a user's job. The project's
# CI builds it from the commit under test. The development machines of this project
# reach no registry, so it cannot be built there (test/testenv builds a stand-in).
#
# Multi-arch without emulation: the Go stage runs on the build machine's own platform
# (--platform=$BUILDPLATFORM) and cross-compiles for TARGETOS/TARGETARCH (CGO is off,
# so Go needs no C toolchain for the other architecture); the final stage only copies,
# so it runs no command for the target platform either. Building both:
#   docker buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=v1.2.3 .
#
# Run with no flags, `rust-s2i-musl build` takes its settings from the environment
# (config.FromEnvironment): the action's inputs (INPUT_*) when GITHUB_ACTIONS=true,
# the plugin's settings (PLUGIN_*) when any is set or when CI=woodpecker or
# DRONE=true. It talks to the Docker Engine of the host: GitHub mounts
# /var/run/docker.sock into container actions; a Woodpecker/Drone step needs it as a
# volume (or DOCKER_HOST).

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
# Set by BuildKit for each platform of --platform; empty (the build machine's own)
# with the classic builder.
ARG TARGETOS TARGETARCH
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
      go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/rust-s2i-musl ./cmd/rust-s2i-musl

# The image stays under 40 MiB (about 37 MB): a static binary (29.5 MB, half of it
# the BuildKit client, for runners with no Docker socket) and CA certificates, no git. In a
# workflow the source is checked out already; the revision then comes from GITHUB_SHA
# and the image time from SOURCE_DATE_EPOCH (or the Unix epoch), so the image ID is
# still the same for the same commit. A git URL source needs git, so the CLI.
# Alpine's base already holds the CA bundle Go reads (ca-certificates-bundle:
# /etc/ssl/certs/ca-certificates.crt), so no `RUN apk add` runs under emulation.
FROM alpine:3.20
COPY --from=build /out/rust-s2i-musl /usr/local/bin/rust-s2i-musl
ENTRYPOINT ["/usr/local/bin/rust-s2i-musl"]
CMD ["build"]
