#!/usr/bin/env python3
"""Convert a committed NVIDIA field case (an SPDM report as hex, the request
nonce as hex, the device certificate chain as PEM) into NVIDIA's evidence
interchange JSON, the body an NRAS request carries:

    {"nonce": HEX, "arch": ARCH,
     "evidence_list": [{"evidence": BASE64(request || response),
                        "certificate": BASE64(PEM chain)}]}

Output is byte-reproducible (fixed key order, 2-space indent, trailing
newline); tests/suite/gpu_field.rs, blackwell_field.rs and switch_field.rs
rerun this script into a temp dir and compare bytes with the committed file.

usage: nvidia-interchange.py [--arch ARCH] [--report FILE] [--chain FILE]
                             CASE_DIR [OUT_FILE]
  --arch    HOPPER (default), BLACKWELL or LS10 (NVSwitch)
  --report  report file name inside CASE_DIR (default attestation_report.hex)
  --chain   chain file name inside CASE_DIR (default device_cert_chain.pem)
  OUT_FILE defaults to CASE_DIR/nvidia-evidence.json.
"""
import base64
import json
import os
import sys

ARCHES = ("HOPPER", "BLACKWELL", "LS10")


def main() -> int:
    args = sys.argv[1:]
    opts = {"--arch": "HOPPER", "--report": "attestation_report.hex",
            "--chain": "device_cert_chain.pem"}
    pos = []
    while args:
        a = args.pop(0)
        if a in opts:
            if not args:
                print(__doc__, file=sys.stderr)
                return 2
            opts[a] = args.pop(0)
        else:
            pos.append(a)
    if len(pos) not in (1, 2) or opts["--arch"] not in ARCHES:
        print(__doc__, file=sys.stderr)
        return 2
    case = pos[0]
    out = pos[1] if len(pos) == 2 else os.path.join(case, "nvidia-evidence.json")
    with open(os.path.join(case, opts["--report"])) as f:
        report = bytes.fromhex(f.read().strip())
    with open(os.path.join(case, "nonce.hex")) as f:
        nonce = f.read().strip().lower()
    bytes.fromhex(nonce)  # must be hex
    with open(os.path.join(case, opts["--chain"]), "rb") as f:
        chain = f.read()
    doc = {
        "nonce": nonce,
        "arch": opts["--arch"],
        "evidence_list": [
            {
                "evidence": base64.b64encode(report).decode(),
                "certificate": base64.b64encode(chain).decode(),
            }
        ],
    }
    with open(out, "w", newline="\n") as f:
        f.write(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
