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

FROM alpine:3.20
# git clones git URL sources and reads commit metadata. The workspace GitHub mounts is
# owned by the runner's user, not root, so git must not refuse it as "dubious".
RUN apk add --no-cache ca-certificates git \
 && git config --system --add safe.directory '*'
COPY --from=build /out/rust-s2i-musl /usr/local/bin/rust-s2i-musl
ENTRYPOINT ["/usr/local/bin/rust-s2i-musl"]
CMD ["build"]
