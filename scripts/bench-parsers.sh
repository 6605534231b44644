#!/usr/bin/env bash
# Whole-process cost of `audit` on hostile evidence parsers (issue 13 item
# 3): signed bundles built by examples/hostile_bundle.rs (committed code, no
# blobs) holding
#   * a driver RIM with 25k / 50k / 200k extra attributes on one element
#     (the quadratic duplicate scan took 1.9 s / 13 s / 208 s before);
#   * a kernel command line with 10 / 20 / 30 MiB of extra parameters
#     (4 s and 1.25 GB / 13.5 s and 2.5 GB before; 30 rather than 40 MiB so
#     the member stays under the container's per-member cap and the parser,
#     not the zip reader, is what is measured).
# Each is audited once with the release binary under /usr/bin/time -v; the
# script prints exit code, wall time and peak RSS, and fails if an audit
# exits 0 (hostile evidence must never pass) or 2 (it must be judged, not
# crash). Goal on the 2-core CI machine: each < 5 s and < 256 MiB.
# Timing is reported here, never asserted in tests.
#
# Usage: bash scripts/bench-parsers.sh   (BIN=path to audit another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/time ]; then
  echo "installing Debian's time (for /usr/bin/time -v)"
  apt-get install -y -qq time >/dev/null
fi
cargo build --release --quiet --bin blyss-evidence --example hostile_bundle
BIN="${BIN:-target/release/blyss-evidence}"
GEN=target/release/examples/hostile_bundle
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cases=("rim 25000" "rim 50000" "rim 200000" "cmdline 10" "cmdline 20" "cmdline 30")
printf '%-22s %10s %5s %9s %12s\n' case "zip bytes" exit "wall s" "peak RSS MiB"
status=0
for c in "${cases[@]}"; do
  set -- $c
  zip="$WORK/$1-$2.zip"
  "$GEN" "$1" "$2" "$zip"
  rc=0
  /usr/bin/time -v -o "$WORK/time.txt" "$BIN" audit "$zip" --protocol v0.0.1 --scope attestation \
    --signer fixtures/keys/fixture-collector.key.pub >"$WORK/out.txt" 2>&1 || rc=$?
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time.txt")
  secs=$(python3 -c 'import sys; p=sys.argv[1].split(":"); print("%.2f" % sum(float(x)*60**i for i,x in enumerate(reversed(p))))' "$wall")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$WORK/time.txt")
  unit=$([ "$1" = rim ] && echo "attrs" || echo "MiB")
  printf '%-22s %10s %5s %9s %12s\n' "$1 $2 $unit" "$(stat -c %s "$zip")" "$rc" "$secs" "$rss"
  if [ "$rc" != 1 ]; then
    echo "  unexpected exit $rc:"; tail -5 "$WORK/out.txt" | sed 's/^/    /'; status=1
  fi
done
exit $status
