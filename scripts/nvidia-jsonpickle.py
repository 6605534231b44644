#!/usr/bin/env python3
"""Convert a `jsonpickle` dump of an HGX box (NVIDIA's verifier objects, as
google/go-nvattest-tools keeps them in `testing/testdata/test_ppcie_data.json`)
into NVIDIA's evidence interchange JSON, the NRAS request shape:

    nvidia-evidence.json         {"nonce", "arch": "HOPPER", "evidence_list": [8 GPUs]}
    nvidia-switch-evidence.json  {"nonce", "arch": "LS10",   "evidence_list": [4 switches]}

The dump holds, per GPU (`gpus[i]`, objects `verifier.nvml.NvmlHandler`):
`AttestationReport` = {"py/b64": BASE64(SPDM request || response)} and
`CertificateChains.GpuAttestationCertificateChain` = [{"pem": BASE64(PEM)}],
leaf first; per switch (`nvswitches[i]`): `attestation_report` and
`attestation_cert_chain` of the same forms. Each certificate's PEM text is
kept byte for byte and the chain is their concatenation, base64-encoded
once more as NRAS expects. Nothing else of the dump (UUIDs, the unsigned
driver/VBIOS strings) is carried: no check may rely on unsigned values.

The dump states no nonce of its own. The nonce written is the one inside
the signed SPDM requests, and the converter refuses a dump whose requests
do not all carry the same one: the file then says "every device was asked
this nonce", which `gpu.nonce` and `ppcie.topology` check against the
signed bytes (it does not prove who chose the nonce; see protocol/checks.md).

Output is byte-reproducible (fixed key order, 2-space indent, trailing
newline); tests/suite/hgx_field.rs reruns this script into a temp dir and
compares bytes with the committed files.

usage: nvidia-jsonpickle.py DUMP.json OUT_DIR
"""
import base64
import json
import os
import sys

# SPDM GET_MEASUREMENTS request: version, code 0xE0, param1, param2, nonce[32], slot.
REQ_NONCE = slice(4, 36)


def b64_field(obj, key, where):
    v = obj.get(key)
    if not isinstance(v, dict) or set(v) != {"py/b64"}:
        raise SystemExit(f"{where}.{key}: expected {{\"py/b64\": ...}}")
    return base64.b64decode(v["py/b64"], validate=True)


def chain(certs, where):
    if not isinstance(certs, list) or not certs:
        raise SystemExit(f"{where}: expected a non-empty list of certificates")
    out = b""
    for i, c in enumerate(certs):
        if not isinstance(c, dict) or "pem" not in c:
            raise SystemExit(f"{where}[{i}]: no `pem`")
        pem = base64.b64decode(c["pem"], validate=True)
        if not pem.startswith(b"-----BEGIN CERTIFICATE-----"):
            raise SystemExit(f"{where}[{i}]: not a PEM certificate")
        out += pem
    return out


def interchange(arch, items):
    nonces = {r[REQ_NONCE] for r, _ in items}
    if len(nonces) != 1:
        raise SystemExit(f"{arch}: the requests carry {len(nonces)} different nonces")
    return {
        "nonce": nonces.pop().hex(),
        "arch": arch,
        "evidence_list": [
            {
                "evidence": base64.b64encode(r).decode(),
                "certificate": base64.b64encode(c).decode(),
            }
            for r, c in items
        ],
    }


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        dump = json.loads(f.read())
    gpus = [
        (
            b64_field(g, "AttestationReport", f"gpus[{i}]"),
            chain(
                g["CertificateChains"]["GpuAttestationCertificateChain"],
                f"gpus[{i}].CertificateChains.GpuAttestationCertificateChain",
            ),
        )
        for i, g in enumerate(dump["gpus"])
    ]
    switches = [
        (
            b64_field(s, "attestation_report", f"nvswitches[{i}]"),
            chain(s["attestation_cert_chain"], f"nvswitches[{i}].attestation_cert_chain"),
        )
        for i, s in enumerate(dump["nvswitches"])
    ]
    g = interchange("HOPPER", gpus)
    s = interchange("LS10", switches)
    if g["nonce"] != s["nonce"]:
        raise SystemExit("GPUs and switches were asked different nonces")
    for name, doc in (("nvidia-evidence.json", g), ("nvidia-switch-evidence.json", s)):
        with open(os.path.join(sys.argv[2], name), "w", newline="\n") as f:
            f.write(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
