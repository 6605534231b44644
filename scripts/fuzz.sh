#!/usr/bin/env bash
# Runs every cargo-fuzz target for FUZZ_SECONDS (default 15) each, seeded from
# the committed fixtures (and the small hand-written seeds in fuzz/seeds/).
# Needs a nightly toolchain; installs cargo-fuzz from crates.io when missing.
# Corpora and artifacts stay under fuzz/ (git-ignored).
# Usage: bash scripts/fuzz.sh [target ...]     FUZZ_SECONDS=600 for long runs,
#        FUZZ_BUILD=dev for a quicker build (smoke runs).
# Fails on any crash, leak, timeout or out-of-memory artifact, and prints the
# number of executions per target (`fuzz: <target> <runs> runs in <s>s`).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-15}
# Optimised, with debug assertions (integer overflow panics instead of
# wrapping silently), without AddressSanitizer: the crate forbids unsafe code,
# and ASan costs ~3x in executions on this shared 2-core machine.
FLAGS="-O -a -s none"
# FUZZ_BUILD=dev: unoptimised build (debug assertions on), for CI's short
# smoke runs, where compiling dominates: it builds in about half the time.
if [ "${FUZZ_BUILD:-release}" = dev ]; then FLAGS="--dev -s none"; fi
if ! rustup toolchain list | grep -q '^nightly'; then
  # Never a silent skip: CI's output says plainly that nothing was fuzzed.
  echo "FUZZ NOT RUN: no nightly toolchain is installed (cargo-fuzz needs nightly; toolchains cannot be downloaded here)."
  echo "fuzz: 0 targets run"
  exit 0
fi
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz@0.13.2
cd fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
if [ $# -gt 0 ]; then
  for t in "${targets[@]}"; do cargo +nightly fuzz build $FLAGS "$t"; done
else
  cargo +nightly fuzz build $FLAGS
fi
seed() { # seed <target> <files...>
  local t=$1; shift
  mkdir -p "corpus/$t"
  # Named after the whole path: several cases share a file name
  # (nvidia-evidence.json), and a plain copy would keep only the last.
  for f in "$@"; do if [ -f "$f" ]; then cp "$f" "corpus/$t/$(printf %s "$f" | tr -c 'A-Za-z0-9._-' _)"; fi; done
}
seed bundle_open ../fixtures/bundles/*.zip
seed bundle_container ../fixtures/bundles/*.zip
seed attestation_doc ../fixtures/blyss/attestation-*.json
seed protocol_file ../protocol/*.json ../fixtures/blyss/protocol-*.json
seed gpu_evidence ../fixtures/blyss/attestation-*.json ../fixtures/field/*/nvidia-evidence.json ../fixtures/field/*/nvidia-switch-evidence.json ../fixtures/field/*/multi_switch_ls10.json ../fixtures/field/*/attestation_report.bin
seed ct_sct ../fixtures/ct/le-2024/*.der
seed ct_sth ../fixtures/ct/google-log-list-2021/log_list.json ../fixtures/ct/le-2024/logs.json seeds/ct_sth/*
seed ct_tiles seeds/ct_tiles/*
seed snp_evidence ../fixtures/synthetic/*.der ../fixtures/synthetic/*.bin
seed image_evidence ../fixtures/blyss/attestation-*.json
seed ocsp ../fixtures/field/*/*_ocsp_response.dat
# The command lines of the real documents (extracted, not committed twice).
mkdir -p corpus/cmdline
python3 -c 'import json,sys
for i,f in enumerate(sys.argv[1:]):
    open("corpus/cmdline/blyss-%d.txt" % i, "w").write(json.load(open(f))["cpu_attestation"]["launch"]["kernel_cli"])' ../fixtures/blyss/attestation-*.json
# The RIMs of the real documents (extracted, not committed twice).
mkdir -p corpus/rim_xml
python3 -c 'import json,sys
for i,f in enumerate(sys.argv[1:]):
    for g in json.load(open(f))["gpu_attestation"]["gpus"]:
        for k in ("driver_rim", "vbios_rim"):
            open("corpus/rim_xml/%s-%d.xml" % (k, i), "w").write(g[k])' ../fixtures/blyss/attestation-*.json
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="artifacts/$t/last-run.log"
  echo "== fuzz $t for ${secs}s"
  rc=0
  cargo +nightly fuzz run $FLAGS "$t" "corpus/$t" -- -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1 || rc=$?
  grep -E 'ERROR|panicked' "$log" | head -5 || true
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "fuzz: $t ${runs:-?} runs in ${secs}s"
  if [ "$rc" -ne 0 ] || ls "artifacts/$t"/{crash,leak,timeout,oom}-* >/dev/null 2>&1; then
    echo "fuzz: $t failed (exit $rc); log: fuzz/$log"; ls "artifacts/$t"; tail -30 "$log"; exit 1
  fi
done
