#!/usr/bin/env python3
"""Verifies a blyss-evidence bundle's DSSE signature with a third-party
library (pyca/cryptography), independently of blyss-evidence itself.

Usage: python3 scripts/verify-dsse.py BUNDLE.zip EXPECTED_KEYID_HEX

EXPECTED_KEYID_HEX is the collector fingerprint you trust (what
`blyss-evidence keygen` prints and `audit --signer` takes): sha256 of the
signer's SubjectPublicKeyInfo DER. It is NOT securesystemslib's default
keyid (which hashes a JSON key representation), so DSSE tooling must be given
it explicitly. Exit 0 when the envelope's one signature verifies over the
DSSE pre-authentication encoding with a key whose SPKI sha256 is the expected
keyid; 1 otherwise. It checks the signature only: bundle integrity (members =
signed statement) and every other rule is `blyss-evidence audit`'s job.
"""
import base64
import hashlib
import json
import sys
import zipfile

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def pae(payload_type: bytes, payload: bytes) -> bytes:
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(payload), payload)


def main() -> int:
    bundle, expected = sys.argv[1], sys.argv[2].lower()
    with zipfile.ZipFile(bundle) as z:
        env = json.loads(z.read("envelope.dsse.json"))
        key = serialization.load_pem_public_key(z.read("signer.pem"))
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    keyid = hashlib.sha256(spki).hexdigest()
    sigs = env["signatures"]
    if len(sigs) != 1:
        print(f"FAIL: {len(sigs)} signatures, expected exactly 1")
        return 1
    if keyid != expected or sigs[0]["keyid"] != expected:
        print(f"FAIL: signer keyid {keyid} (envelope says {sigs[0]['keyid']}), expected {expected}")
        return 1
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
        print("FAIL: the signer key is not ECDSA P-384")
        return 1
    msg = pae(env["payloadType"].encode(), base64.b64decode(env["payload"]))
    try:
        key.verify(base64.b64decode(sigs[0]["sig"]), msg, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        print("FAIL: the DSSE signature does not verify")
        return 1
    print(f"OK: DSSE signature by {keyid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
