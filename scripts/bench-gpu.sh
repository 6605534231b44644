#!/usr/bin/env bash
# Whole-process benchmarks of the NVIDIA audits (issue 16), side by side:
#   a. audit of the real HGX box (8 H100 + 4 NVSwitch, protected PCIe,
#      fixtures/field/nv-hgx-…) against the audit of ONE of its GPUs imported
#      alone, both `--protocol gpu-only` (target: the box costs at most 3x the
#      single GPU: chain links shared by devices are verified once);
#   b. audit of the 2025 H100 with its RIMs and its 7 saved OCSP responses
#      (fixtures/field/nv-h100-2025-…, judged at 2025-08-21),
#      against NVIDIA's nv-local-gpu-verifier on the same saved evidence when
#      scripts/nv-verifier-harness.py and its virtualenv are present
#      (bash scripts/install-nv-verifier.sh); skipped, and said so, otherwise.
# Every run's exit code and the lines that prove what ran are checked before
# timing. Signature backend measured: RustCrypto p384 (the audit build's only
# ECDSA backend). Timing is reported, never asserted in tests.
#
# Usage: bash scripts/bench-gpu.sh [RUNS]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-30}"
cargo build --release --quiet --bin blyss-evidence
BIN=target/release/blyss-evidence
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
HGX=fixtures/field/nv-hgx-8xh100-4xnvswitch-ppcie-drv570.124.06
H25=fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp
KEY=fixtures/keys/fixture-collector.key
export SOURCE_DATE_EPOCH=1748736000   # 2025-06-01T00:00:00Z
# One GPU of the box, alone: entry 0 of the converted file, same nonce.
python3 - "$HGX/nvidia-evidence.json" "$WORK/gpu0.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["evidence_list"] = d["evidence_list"][:1]
open(sys.argv[2], "w").write(json.dumps(d, indent=2) + "\n")
PY
"$BIN" collect --gpu-evidence "$HGX/nvidia-evidence.json" --switch-evidence "$HGX/nvidia-switch-evidence.json" \
  --protocol gpu-only --key "$KEY" -o "$WORK/box.zip" >/dev/null
"$BIN" collect --gpu-evidence "$WORK/gpu0.json" --protocol gpu-only --key "$KEY" -o "$WORK/gpu0.zip" >/dev/null
OCSP=()
for f in "$H25"/*ocsp_response.dat; do OCSP+=(--ocsp "$f"); done
"$BIN" collect --gpu-evidence "$H25/nvidia-evidence.json" --rim "$H25/NV_GPU_DRIVER_GH100_550.90.07.xml" \
  --rim "$H25/NV_GPU_VBIOS_1010_0200_882_96009F0001.xml" "${OCSP[@]}" --protocol gpu-only --key "$KEY" -o "$WORK/h100-2025.zip" >/dev/null
PUB=fixtures/keys/fixture-collector.key.pub
HARNESS=""
if [ -x .cache/nv-verifier/bin/python ] && [ -f scripts/nv-verifier-harness.py ]; then
  HARNESS=.cache/nv-verifier/bin/python
fi
python3 - "$RUNS" "$BIN" "$WORK" "$PUB" "$H25" "$HARNESS" <<'PY'
import os, resource, statistics, subprocess, sys, time
runs, bin_, work, pub, h25, harness = int(sys.argv[1]), *sys.argv[2:]
root = os.getcwd()
bin_, pub = os.path.abspath(bin_), os.path.abspath(pub)
if harness:
    harness = os.path.abspath(harness)
common = ["--protocol", "gpu-only", "--signer", pub]
cases = [
    # (name, argv, expected exit, needles proving what ran)
    ("audit HGX box: 8 GPUs + 4 switches", [bin_, "audit", f"{work}/box.zip"] + common, 1,
     ["✅ ppcie.topology", "gpu.spdm-signature [gpu7]", "no driver RIM for version 570.124.06"]),
    ("audit one GPU of the box, alone", [bin_, "audit", f"{work}/gpu0.zip"] + common, 1,
     ["✅ gpu.spdm-signature [gpu0]", "✅ gpu.device-chain [gpu0]"]),
    ("audit H100 2025 with its RIMs and 7 OCSP responses", [bin_, "audit", f"{work}/h100-2025.zip", "--at", "2025-08-21T00:00:00Z"] + common, 0,
     ["✅ gpu.measurements [gpu0] — 33/33", "gpu.ocsp"]),
]
if harness:
    # Run from the work directory: the verifier writes verifier.log to its cwd.
    os.chdir(work)
    cases.append(("nv-local-gpu-verifier, same H100 2025 evidence", [harness, f"{root}/scripts/nv-verifier-harness.py", f"{root}/{h25}"], 0,
                  ["GPU Attestation is Successful"]))
med, rss, times = {}, {}, {}
for name, argv, code, needles in cases:
    p = subprocess.run(argv + (["-v"] if argv[0] == bin_ else []), capture_output=True, text=True)
    missing = [n for n in needles if n not in p.stdout + p.stderr]
    if p.returncode != code or missing:
        sys.exit(f"{name}: exit {p.returncode} (expected {code}), missing {missing}:\n{p.stdout[-3000:]}{p.stderr[-2000:]}")
    verdict = next((l for l in p.stdout.splitlines() if l.startswith("verdict")), "")
    print(f"           {name}: exit {p.returncode} {verdict.strip()}")
    times[name] = []
# Interleaved rounds: on a shared 2-core machine the load drifts, and a
# ratio is only meaningful between runs that saw the same load.
# CPU time (user + system of the child) beside wall time: the work done,
# which the machine's other load does not change as much.
cpu = {name: [] for name, *_ in cases}
def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
for _ in range(runs):
    for name, argv, _, _ in cases:
        c = child_cpu()
        t = time.perf_counter()
        subprocess.run(argv, capture_output=True)
        times[name].append((time.perf_counter() - t) * 1000)
        cpu[name].append((child_cpu() - c) * 1000)
cmed = {}
for name, argv, _, _ in cases:
    med[name] = statistics.median(times[name])
    cmed[name] = statistics.median(cpu[name])
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, capture_output=True, text=True)
    rss[name] = int(r.stderr.strip().splitlines()[-1]) / 1024
    print(f"{med[name]:9.2f} ms  median of {runs} (CPU {cmed[name]:7.2f} ms)  peak RSS {rss[name]:6.1f} MiB  {name}")
n = [c[0] for c in cases]
print(f"ratio: box / one GPU = {med[n[0]] / med[n[1]]:.2f}x wall (target <= 3x), {cmed[n[0]] / cmed[n[1]]:.2f}x CPU")
if harness:
    print(f"ratio: nv-local-gpu-verifier / blyss-evidence (H100 2025) = {med[n[3]] / med[n[2]]:.2f}x wall (target > 1x), {cmed[n[3]] / cmed[n[2]]:.2f}x CPU")
else:
    print("nv-local-gpu-verifier: not installed (bash scripts/install-nv-verifier.sh); comparison skipped")
PY
