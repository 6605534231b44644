#!/usr/bin/env python3
"""Convert a committed NVIDIA field case (attestation_report.hex, nonce.hex,
device_cert_chain.pem) into NVIDIA's evidence interchange JSON, the body an
NRAS request carries:

    {"nonce": HEX, "arch": "HOPPER",
     "evidence_list": [{"evidence": BASE64(request || response),
                        "certificate": BASE64(PEM chain)}]}

Output is byte-reproducible (fixed key order, 2-space indent, trailing
newline); tests/suite/gpu_field.rs reruns this script into a temp dir and
compares bytes with the committed `nvidia-evidence.json`.

usage: nvidia-interchange.py CASE_DIR [OUT_FILE]
  OUT_FILE defaults to CASE_DIR/nvidia-evidence.json.
"""
import base64
import json
import os
import sys


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    case = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(case, "nvidia-evidence.json")
    with open(os.path.join(case, "attestation_report.hex")) as f:
        report = bytes.fromhex(f.read().strip())
    with open(os.path.join(case, "nonce.hex")) as f:
        nonce = f.read().strip().lower()
    bytes.fromhex(nonce)  # must be hex
    with open(os.path.join(case, "device_cert_chain.pem"), "rb") as f:
        chain = f.read()
    doc = {
        "nonce": nonce,
        "arch": "HOPPER",
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
