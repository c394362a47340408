#!/usr/bin/env bash
# Make sure a Docker daemon answers. Idempotent: does nothing when `docker info` works.
# On a fresh machine it installs Debian's docker.io (dockerd 20.10) and starts dockerd
# in the background, detached so it outlives this script. hack/test-world.sh, which
# calls it, stops that dockerd again (by the PID in /var/run/docker.pid) when the run
# that started it ends.
set -euo pipefail

log=${DOCKERD_LOG:-/var/log/dockerd.log}

pick_docker() {
  local c
  for c in /usr/local/bin/docker /usr/bin/docker "$(command -v docker 2>/dev/null || true)"; do
    if [[ -n "$c" && -x "$c" ]]; then echo "$c"; return 0; fi
  done
  return 1
}

docker_ok() {
  local d
  d=$(pick_docker) || return 1
  "$d" info >/dev/null 2>&1
}

if docker_ok; then
  exit 0
fi

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

if ! command -v dockerd >/dev/null 2>&1 && [[ ! -x /usr/sbin/dockerd ]]; then
  echo "docker-up: dockerd not found, installing docker.io from apt" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io
fi
dockerd_bin=$(command -v dockerd 2>/dev/null || echo /usr/sbin/dockerd)

running=false
if command -v pgrep >/dev/null 2>&1; then
  pgrep -x dockerd >/dev/null 2>&1 && running=true
elif [[ -f /var/run/docker.pid ]] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  running=true
fi
if ! $running; then
  echo "docker-up: starting $dockerd_bin (log: $log)" >&2
  # setsid + nohup: the daemon gets its own session and survives this script's exit.
  as_root setsid nohup sh -c 'exec "$1" >"$2" 2>&1 </dev/null' sh "$dockerd_bin" "$log" \
    >/dev/null 2>&1 </dev/null &
  disown || true
else
  echo "docker-up: dockerd is running but not answering yet; waiting" >&2
fi

for _ in $(seq 1 60); do
  if docker_ok; then
    echo "docker-up: daemon is up" >&2
    exit 0
  fi
  sleep 1
done

echo "docker-up: dockerd did not answer within 60 s; last lines of $log:" >&2
tail -n 40 "$log" >&2 || true
exit 1
