#!/usr/bin/env bash
# Runs every cargo-fuzz target for FUZZ_SECONDS (default 15) each, seeded from
# the committed fixtures. Needs a nightly toolchain; installs cargo-fuzz from
# crates.io when missing. Corpora and artifacts stay under fuzz/ (git-ignored).
# Usage: bash scripts/fuzz.sh [target ...]     FUZZ_SECONDS=600 for long runs.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-15}
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: no nightly toolchain installed; skipping fuzz runs (see BENCHMARKS.md / README for how to run them)"
  exit 0
fi
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz@0.13.2
cd fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
cargo +nightly fuzz build -O
seed() { # seed <target> <files...>
  local t=$1; shift
  mkdir -p "corpus/$t"
  for f in "$@"; do if [ -f "$f" ]; then cp "$f" "corpus/$t/"; fi; done
}
seed bundle_open ../fixtures/bundles/*.zip
seed attestation_doc ../fixtures/blyss/attestation-*.json
seed protocol_file ../protocol/*.json
seed snp_evidence ../fixtures/synthetic/*.der ../fixtures/synthetic/*.bin
seed gpu_evidence ../fixtures/blyss/attestation-*.json
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "== fuzz $t for ${secs}s"
  cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -print_final_stats=1 2>&1 \
    | grep -E 'stat::number_of_executed_units|Done [0-9]+ runs|ERROR|panicked' || true
  # cargo fuzz exits non-zero on a crash: re-check explicitly.
  if ls "artifacts/$t"/crash-* >/dev/null 2>&1; then echo "fuzz: crash found in $t"; ls "artifacts/$t"; exit 1; fi
done
