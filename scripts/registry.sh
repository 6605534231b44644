#!/usr/bin/env bash
# Fetches Debian's `docker-registry` package (CNCF distribution 2.8, a real
# OCI / Docker v2 registry) into the git-ignored .cache/ and prints the path
# of the registry binary on stdout. The package is NOT installed system-wide:
# its maintainer scripts would start a service on :5000. We only unpack it
# (`dpkg -x`) and the tests start the binary themselves on 127.0.0.1 with an
# ephemeral port and storage in a temporary directory.
#
# Used by the image tests (tests/suite/common/registry.rs) and by .ci/run.
# Exit status is non-zero (with a reason on stderr) when the registry cannot be
# fetched: the tests then FAIL, they never skip.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$root/.cache/docker-registry"
bin="$cache/root/usr/bin/docker-registry"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$cache"
# Serialise concurrent callers (parallel test binaries).
exec 9>"$cache/.lock"
flock 9
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
work="$(mktemp -d "$cache/dl.XXXXXX")"
trap 'rm -rf "$work"' EXIT
download() { (cd "$work" && apt-get download docker-registry >&2); }
if ! download; then
  echo "registry.sh: apt-get download failed; refreshing package lists (apt-get update)" >&2
  apt-get update >&2
  download
fi
deb="$(ls "$work"/docker-registry_*.deb)"
dpkg -x "$deb" "$work/root"
test -x "$work/root/usr/bin/docker-registry" || { echo "registry.sh: $deb has no usr/bin/docker-registry" >&2; exit 1; }
rm -rf "$cache/root"
mv "$work/root" "$cache/root"
basename "$deb" > "$cache/package"
echo "$bin"
