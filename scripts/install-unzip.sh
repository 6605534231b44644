#!/usr/bin/env bash
# Makes Debian's Info-ZIP `unzip` available (idempotent): the differential
# test (tests/suite/bundle_differential.rs) compares what `unzip -Z1` and
# `unzip -p` see in every bundle our reader accepts with what we read.
# Installs it with apt-get when missing (CI runs as root with Debian's
# registry reachable); prints the path of the binary on success.
set -euo pipefail
if ! command -v unzip >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-unzip: unzip is missing and installing it needs root (apt-get install -y unzip)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q unzip >/dev/null 2>&1 || {
    apt-get update -q >/dev/null && apt-get install -y -q unzip >/dev/null
  }
fi
command -v unzip
