"""The Zuora simulator served over https, for a host that is not loopback: a customer's base URL
may use plain http only on a loopback host, as real Zuora is https only.

``python -m zuora_pipeline_tests.deploy.tls_simulator HOST PORT CERTFILE KEYFILE TENANTS WORKFLOWS TASKS``
serves until killed. ``self_signed(address, directory)`` writes a certificate for an IP address
(its own trust anchor: hand it to clients as ``SSL_CERT_FILE``, which httpx reads) and its key.
"""

from __future__ import annotations

import ipaddress
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from zuora_pipeline.simulator.app import SimulatorApp
from zuora_pipeline.simulator.config import SimulatorConfig
from zuora_pipeline.simulator.state import SimulatorState


def self_signed(address: str, directory: Path) -> tuple[Path, Path]:
    """(certificate, key) files for ``address``, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "zuora simulator")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "zuora-cert.pem", directory / "zuora-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def main(host: str, port: str, certfile: str, keyfile: str, tenants: str, workflows: str, tasks: str) -> None:
    config = SimulatorConfig(tenants=int(tenants), workflows=int(workflows), tasks=int(tasks), seed=3)
    app = SimulatorApp(SimulatorState(config))
    uvicorn.run(
        app, host=host, port=int(port), ssl_certfile=certfile, ssl_keyfile=keyfile, log_level="warning", lifespan="off"
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
