#!/usr/bin/env bash
# Bounded audit (issue 13, "Done when"): generates the hostile-container
# corpus with committed code (examples/hostile_corpus.rs, which uses
# tests/suite/common/hostile.rs) into target/bench-hostile/, adds /dev/zero,
# a FIFO nobody writes to and a sparse 4 GiB file, runs the release binary's
# `audit` on each under /usr/bin/time -v, and prints wall time and peak RSS
# per input and the maxima. Goal: every input under 5 s and 256 MiB.
# Exits 1 if an input exceeds the goal or exits other than 2 (every input
# here must be refused: "could not audit").
# Usage: bash scripts/bench-hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ ! -x /usr/bin/time ]; then
  [ "$(id -u)" = 0 ] || { echo "bench-hostile: /usr/bin/time missing (apt-get install time needs root)"; exit 1; }
  apt-get install -y -q time >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q time >/dev/null; }
fi
# The audit-only release binary (what a reviewer runs offline; `collect` is
# not involved). The generator is an example (it shares the tests' code, so
# it needs dev-dependencies): built in the dev profile, already warm in CI.
cargo build --release --quiet --no-default-features --bin blyss-evidence
target_dir=${CARGO_TARGET_DIR:-$root/target}
bin="$target_dir/release/blyss-evidence"
dir="$target_dir/bench-hostile"
rm -rf "$dir"
mkdir -p "$dir"
cargo run --quiet --example hostile_corpus -- "$dir/corpus"
mkfifo "$dir/corpus/fifo.zip"
truncate -s 4G "$dir/corpus/sparse-4gib.zip"
inputs=(/dev/zero "$dir"/corpus/*)
max_s=0; max_kb=0; bad=0
printf '%8s %10s %4s  %s\n' "wall_s" "peak_MiB" "exit" "input"
for f in "${inputs[@]}"; do
  log="$dir/time.log"
  rc=0
  /usr/bin/time -v -o "$log" timeout 60 "$bin" audit "$f" --scope attestation \
    --signer "$root/fixtures/keys/fixture-collector.key.pub" >/dev/null 2>"$dir/stderr" || rc=$?
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
  # h:mm:ss or m:ss.ss -> seconds
  s=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  printf '%8.2f %10.1f %4s  %s  (%s)\n' "$s" "$(echo "$kb/1024" | bc -l)" "$rc" "$(basename "$f")" "$(head -c 120 "$dir/stderr")"
  max_s=$(echo "if ($s > $max_s) $s else $max_s" | bc -l)
  [ "$kb" -gt "$max_kb" ] && max_kb=$kb
  if [ "$rc" != 2 ] || [ "$(echo "$s >= 5" | bc -l)" = 1 ] || [ "$kb" -ge $((256 * 1024)) ]; then bad=1; fi
done
printf 'bench-hostile: %d inputs, max wall %.2f s, max peak RSS %.1f MiB\n' "${#inputs[@]}" "$max_s" "$(echo "$max_kb/1024" | bc -l)"
if [ "$bad" = 1 ]; then echo "bench-hostile: FAILED (an input was not refused with exit 2, or exceeded 5 s / 256 MiB)"; exit 1; fi
echo "bench-hostile: OK (every input refused with exit 2, under 5 s and 256 MiB)"
