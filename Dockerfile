# syntax=docker/dockerfile:1
#
# The image of the GitHub Action (action.yml: image: Dockerfile) and of the
# Woodpecker/Drone plugin (published as ghcr.io/rust-s2i/rust-s2i-musl). GitHub and
# the release workflow build it; the development machines of this project reach no
# registry, so it cannot be built there.
#
# Run with no flags, `rust-s2i-musl build` takes its settings from the environment
# (config.FromEnvironment): the action's inputs (INPUT_*) when GITHUB_ACTIONS=true,
# the plugin's settings (PLUGIN_*) when any is set or when CI=woodpecker or
# DRONE=true. It talks to the Docker Engine of the host: GitHub mounts
# /var/run/docker.sock into container actions; a Woodpecker/Drone step needs it as a
# volume (or DOCKER_HOST).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/rust-s2i-musl ./cmd/rust-s2i-musl

# The image stays under 30 MB: a static binary and CA certificates, no git. In a
# workflow the source is checked out already; the revision then comes from GITHUB_SHA
# and the image time from SOURCE_DATE_EPOCH (or the Unix epoch), so the image ID is
# still the same for the same commit. A git URL source needs git, so the CLI.
FROM alpine:3.20
RUN apk add --no-cache ca-certificates
COPY --from=build /out/rust-s2i-musl /usr/local/bin/rust-s2i-musl
ENTRYPOINT ["/usr/local/bin/rust-s2i-musl"]
CMD ["build"]
