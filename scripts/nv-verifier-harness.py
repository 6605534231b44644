#!/usr/bin/env python3
"""Runs NVIDIA's nv-local-gpu-verifier (PyPI, installed into .cache/nv-verifier
by scripts/install-nv-verifier.sh) OFFLINE on a saved H100 case, for
scripts/bench-gpu.sh: the same report, chain, RIMs and OCSP responses our
audit reads, judged at the same instant.

Its own `--test_no_gpu` path is used (no NVML), with four substitutions made
here by monkeypatching, nothing else changed:
  * the report and chain are read from CASE_DIR (attestation_report.hex,
    device_cert_chain.pem) instead of the package's samples, and the nonce
    is CASE_DIR/nonce.hex;
  * the driver and VBIOS RIMs are CASE_DIR's (its --driver_rim/--vbios_rim);
  * every OCSP request is answered from CASE_DIR/*ocsp_response.dat (base64
    DER, as saved from NVIDIA's responder) by the CertID serial number; no
    socket is opened (--ocsp_nonce_disabled: the saved answers carry no
    nonce); a request with no saved answer fails the run;
  * OpenSSL's chain verifications (the verifier's own and signxml's for the
    RIM signers) run at AT (default 2025-08-21T00:00:00Z, when the
    device-chain answers were produced) via X509Store.set_time.

usage: nv-verifier-harness.py CASE_DIR [AT]
Exit code and output are the verifier's ("GPU Attestation is Successful").
"""
import base64
import datetime
import glob
import os
import sys

from cryptography.x509 import ocsp
from OpenSSL import crypto

from verifier import cc_admin
from verifier import cc_admin_utils
from verifier.config import BaseSettings, HopperSettings


def main() -> None:
    case = sys.argv[1]
    at = datetime.datetime.fromisoformat(
        (sys.argv[2] if len(sys.argv) > 2 else "2025-08-21T00:00:00Z").replace("Z", "+00:00")
    ).replace(tzinfo=None)
    HopperSettings.ATTESTATION_REPORT_PATH = os.path.join(case, "attestation_report.hex")
    HopperSettings.GPU_ATTESTATION_CERTIFICATES_PATH = os.path.join(case, "device_cert_chain.pem")
    with open(os.path.join(case, "nonce.hex")) as f:
        BaseSettings.NONCE = f.read().strip()

    answers = {}
    for p in glob.glob(os.path.join(case, "*ocsp_response.dat")):
        with open(p, "rb") as f:
            r = ocsp.load_der_ocsp_response(base64.b64decode(f.read()))
        answers[r.serial_number] = r

    def send_ocsp_request(data):
        serial = ocsp.load_der_ocsp_request(data).serial_number
        if serial not in answers:
            raise Exception(f"no saved OCSP response for serial {serial:x}")
        return answers[serial]

    cc_admin_utils.CcAdminUtils.send_ocsp_request = staticmethod(send_ocsp_request)

    class Store(crypto.X509Store):
        def __init__(self):
            super().__init__()
            self.set_time(at)

    cc_admin_utils.crypto.X509Store = Store
    # signxml checks the RIM signer's chain in the store of an SSL context.
    from OpenSSL import SSL

    get_store = SSL.Context.get_cert_store

    def get_cert_store(self):
        store = get_store(self)
        store.set_time(at)
        return store

    SSL.Context.get_cert_store = get_cert_store

    drv = glob.glob(os.path.join(case, "NV_GPU_DRIVER_*.xml"))
    vb = glob.glob(os.path.join(case, "NV_GPU_VBIOS_*.xml"))
    # Its --driver_rim flag only selects the local-file branch, which then
    # reads the settings' path.
    HopperSettings.DRIVER_RIM_PATH = drv[0]
    sys.argv = [
        "nv-local-gpu-verifier",
        "--test_no_gpu",
        "--ocsp_nonce_disabled",
        "--driver_rim",
        drv[0],
        "--vbios_rim",
        vb[0],
    ]
    cc_admin.main()


if __name__ == "__main__":
    main()
