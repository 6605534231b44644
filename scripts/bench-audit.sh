#!/usr/bin/env bash
# Whole-process benchmarks of `audit` (issue 10): what a reviewer waits for.
#   1. audit of the real January 2024 Blyss bundle, descriptor mode
#      (fixtures/bundles/blyss-2024-01.zip, --scope attestation);
#   2. the same evidence with the 4 MiB firmware image in the bundle (built
#      here by an offline `collect --firmware` with the fixture key);
#   3. `sha384sum` of that image, the yardstick for 2 (same run);
#   4. peak RSS of 1 and 2 (`/usr/bin/time -f %M`).
# Every run's exit code and verdict line are checked before timing.
# Targets on the 2-core CI machine: 1 < 15 ms median; 2 < 2 x 3; RSS < 64 MiB.
# Timing is reported, never asserted in tests.
#
# Usage: bash scripts/bench-audit.sh [RUNS]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-30}"
FW="$(bash scripts/fetch-firmware.sh)"
cargo build --release --quiet --bin blyss-evidence
BIN=target/release/blyss-evidence
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
SOURCE_DATE_EPOCH=1705276800 "$BIN" collect --attestation fixtures/blyss/attestation-2024-01.json \
  --protocol v0.0.1 --target https://enclave.blyss.dev --key fixtures/keys/fixture-collector.key \
  --firmware "$FW" -o "$WORK/with-firmware.zip" >/dev/null
PUB=fixtures/keys/fixture-collector.key.pub
python3 - "$RUNS" "$BIN" "$FW" "$WORK" "$PUB" <<'PY'
import statistics, subprocess, sys, time
runs, bin_, fw, work, pub = int(sys.argv[1]), *sys.argv[2:]
common = ["--protocol", "v0.0.1", "--scope", "attestation", "--signer", pub]
cases = [
    ("audit blyss-2024-01.zip (descriptor mode)",
     [bin_, "audit", "fixtures/bundles/blyss-2024-01.zip"] + common, "pinned firmware descriptor"),
    ("audit with the 4 MiB firmware image",
     [bin_, "audit", f"{work}/with-firmware.zip"] + common, "(firmware image"),
    ("sha384sum of the firmware image", ["sha384sum", fw], None),
]
med, rss = {}, {}
for name, argv, needle in cases:
    if needle:
        p = subprocess.run(argv + ["-v"], capture_output=True, text=True)
        if p.returncode not in (0, 1) or needle not in p.stdout:
            sys.exit(f"{name}: exit {p.returncode}, no {needle!r} in the output:\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
        verdict = next((l for l in p.stdout.splitlines() if "PASS" in l or "FAIL" in l), "?")
        print(f"           {name}: exit {p.returncode}, {verdict.strip()}")
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, capture_output=True)
        times.append((time.perf_counter() - t) * 1000)
    med[name] = statistics.median(times)
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, capture_output=True, text=True)
    rss[name] = int(r.stderr.strip().splitlines()[-1]) / 1024
    print(f"{med[name]:9.2f} ms  median of {runs}  peak RSS {rss[name]:6.1f} MiB  {name}")
n = [c[0] for c in cases]
print(f"ratio: audit with image / sha384sum = {med[n[1]] / med[n[2]]:.2f}x (target < 2x)")
PY
