#!/usr/bin/env bash
# Make local stand-ins for the official base images (python, postgres, redis) when no public
# registry is reachable: a Debian bookworm root from the mirror apt already uses
# (debootstrap --variant=minbase), with this host's CA certificates so that apt and pip work
# behind a TLS-inspecting proxy, imported into podman, then small images built FROM it.
# Idempotent: images that exist are kept (FORCE=1 rebuilds). Needs root, podman, debootstrap.
# Prints the variables that point the Dockerfile and compose file at these images.
set -euo pipefail
cd "$(dirname "$0")/.."

ENGINE=${ENGINE:-podman}
PREFIX=localhost/cleaninbox-base
DEBIAN_IMAGE=$PREFIX/debian:bookworm
PYTHON_IMAGE=$PREFIX/python:3.11-bookworm
POSTGRES_IMAGE=$PREFIX/postgres:15
REDIS_IMAGE=$PREFIX/redis:7
# The mirror apt uses here (deb822 or one-line sources), unless DEBIAN_MIRROR says otherwise.
MIRROR=${DEBIAN_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
  /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v '^#' \
  | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -1 | tr -d ' ' || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

have() { [ -z "${FORCE:-}" ] && $ENGINE image exists "$1" 2>/dev/null; }
log() { echo "base-images: $*"; }

if have "$DEBIAN_IMAGE"; then
  log "$DEBIAN_IMAGE exists"
else
  command -v debootstrap >/dev/null || { echo "base-images: apt-get install debootstrap" >&2; exit 1; }
  root=$(mktemp -d /var/tmp/cleaninbox-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  log "debootstrap bookworm from $MIRROR (about 2 minutes)"
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" > /var/tmp/cleaninbox-debootstrap.log 2>&1 \
    || { tail -20 /var/tmp/cleaninbox-debootstrap.log >&2; exit 1; }
  # The host's extra CAs (a proxy's own CA, say) and its bundle, so apt/pip trust them inside.
  mkdir -p "$root/usr/local/share/ca-certificates" "$root/etc/ssl/certs"
  cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  echo "deb $MIRROR bookworm main" > "$root/etc/apt/sources.list"
  echo "deb $MIRROR bookworm-updates main" >> "$root/etc/apt/sources.list"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | $ENGINE import --change 'CMD ["/bin/bash"]' - "$DEBIAN_IMAGE" >/dev/null
  log "imported $DEBIAN_IMAGE"
fi

for spec in "python:$PYTHON_IMAGE" "postgres:$POSTGRES_IMAGE" "redis:$REDIS_IMAGE"; do
  name=${spec%%:*} image=${spec#*:}
  if have "$image"; then log "$image exists"; continue; fi
  log "building $image"
  $ENGINE build -q --build-arg DEBIAN_IMAGE="$DEBIAN_IMAGE" -t "$image" \
    -f "docker/base/$name.Containerfile" docker/base >/dev/null
done

log "done; point the build and compose at them with:"
echo "PYTHON_IMAGE=$PYTHON_IMAGE POSTGRES_IMAGE=$POSTGRES_IMAGE REDIS_IMAGE=$REDIS_IMAGE"
