#!/usr/bin/env bash
# Concurrency measurement of `collect` against the loopback test world with
# 200 ms injected latency on every endpoint (issue 5). Prints the concurrent
# and the sequential figures; timing is never asserted in tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --example collect_concurrency
