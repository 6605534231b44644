#!/usr/bin/env bash
# Whole-process timing of the launch measurement (issue 4 / issue 10):
# `blyss-evidence measure` (image mode and descriptor mode) against the
# original verifier's recipe on sev-snp-measure 0.0.7 (Python, same inputs:
# the January 2024 Blyss report, 8 vCPUs, legacy-zero FPU) and against the
# sev-snp-measure 0.0.7 command itself (kernel/initrd as small files, since
# its CLI takes no hashes). Every run's output is checked, then the median
# wall-clock time of N runs is printed with the ratios.
#
# Usage: bash scripts/bench-measure.sh [RUNS]   (default 20)
# Builds the release binary; installs sev-snp-measure 0.0.7 from PyPI into a
# venv under target/ (never committed). Not part of `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-20}"
FW="$(bash scripts/fetch-firmware.sh)"
cargo build --release --quiet --bin blyss-evidence
BIN=target/release/blyss-evidence
VENV=target/bench/ssm-0.0.7
if ! "$VENV/bin/python" -c 'import sevsnpmeasure' >/dev/null 2>&1; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'sev-snp-measure==0.0.7'
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$BIN" firmware describe "$FW" >"$WORK/ovmf.json"
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
d = json.load(open("fixtures/blyss/attestation-2024-01.json"))
l = d["cpu_attestation"]["launch"]
# The command line carries a token: written to a private file, never printed.
open(f"{w}/cmdline", "w").write(l["kernel_cli"].replace(" initrd=initrd", ""))
open(f"{w}/kernel", "wb").write(bytes(range(256)) * 64)
open(f"{w}/initrd", "wb").write(b"initrd\n" * 1000)
PY
chmod 600 "$WORK/cmdline"
cat >"$WORK/blyss_recipe.py" <<'PY'
# The Blyss verifier 0.1.8 recipe (snp_calc_launch_digest) on sev-snp-measure 0.0.7.
import hashlib, sys
from sevsnpmeasure import vcpu_types
from sevsnpmeasure.sev_mode import SevMode
from sevsnpmeasure.gctx import GCTX
from sevsnpmeasure.ovmf import OVMF
from sevsnpmeasure.sev_hashes import SevHashes
from sevsnpmeasure.vmsa import VMSA
from sevsnpmeasure.vmm_types import VMMType
from sevsnpmeasure.guest import snp_update_metadata_pages
ovmf_file, cmdline_file = sys.argv[1], sys.argv[2]
gctx = GCTX()
ovmf = OVMF(ovmf_file)
gctx.update_normal_pages(ovmf.gpa(), ovmf.data())
sh = SevHashes(ovmf_file, None, None)
sh.kernel_hash = bytes.fromhex("ff5e53ccc981594fbbdf6433011ef18227aa981ee85680af5e5f21ff23ae67dc")
sh.initrd_hash = bytes.fromhex("5e15926b19a1ee3d9d5182438286b74f5060829b1ba8f560bf0a748d6510e611")
sh.cmdline_hash = hashlib.sha256(open(cmdline_file).read().encode() + b"\x00").digest()
snp_update_metadata_pages(gctx, ovmf, sh, VMMType.QEMU)
vmsa = VMSA(SevMode.SEV_SNP, ovmf.sev_es_reset_eip(), vcpu_types.CPU_SIGS["EPYC-v4"], VMMType.QEMU)
for p in vmsa.pages(8):
    gctx.update_vmsa_page(p)
print(gctx.ld().hex())
PY
python3 - "$WORK" "$RUNS" "$BIN" "$FW" "$VENV/bin" <<'PY'
import statistics, subprocess, sys, time
w, runs, bin_, fw, venv = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
cmd = open(f"{w}/cmdline").read()
expected = "1ee2a500b58a0c6935b29d0c7cc64cbdf25100a75b574163b8cf8a24bb4aa0a566bfa34a75610f2c7927d2353704131a"
common = ["--kernel-hash", "ff5e53ccc981594fbbdf6433011ef18227aa981ee85680af5e5f21ff23ae67dc",
          "--initrd-hash", "5e15926b19a1ee3d9d5182438286b74f5060829b1ba8f560bf0a748d6510e611",
          "--append", cmd, "--vcpus", "8", "--vmsa-fpu", "legacy-zero"]
cases = [
    ("blyss-evidence measure --firmware (image mode)", [bin_, "measure", "--firmware", fw] + common, expected),
    ("blyss-evidence measure --descriptor", [bin_, "measure", "--descriptor", f"{w}/ovmf.json"] + common, expected),
    ("blyss verifier recipe on sev-snp-measure 0.0.7 (python)", [f"{venv}/python", f"{w}/blyss_recipe.py", fw, f"{w}/cmdline"], expected),
    ("sev-snp-measure 0.0.7 --mode snp (CLI, kernel/initrd files)",
     [f"{venv}/sev-snp-measure", "--mode", "snp", "--vcpus", "8", "--vcpu-type", "EPYC-v4", "--ovmf", fw,
      "--kernel", f"{w}/kernel", "--initrd", f"{w}/initrd", "--append", "console=ttyS0"], None),
]
med = {}
for name, argv, exp in cases:
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
    if exp is not None and out != exp:
        sys.exit(f"{name}: printed {out[:16]}…, expected {exp[:16]}…")
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append((time.perf_counter() - t) * 1000)
    med[name] = statistics.median(times)
    print(f"{med[name]:9.2f} ms  median of {runs}  {name}")
names = [c[0] for c in cases]
print(f"ratio: sev-snp-measure 0.0.7 recipe / blyss-evidence image mode = {med[names[2]] / med[names[0]]:.1f}x")
print(f"ratio: sev-snp-measure 0.0.7 recipe / blyss-evidence descriptor mode = {med[names[2]] / med[names[1]]:.1f}x")
print(f"ratio: sev-snp-measure 0.0.7 CLI / blyss-evidence image mode = {med[names[3]] / med[names[0]]:.1f}x")
PY
