"""A throwaway trustme CA and a loopback server certificate, written as PEM files."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme

SERVER_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class CertificateFiles:
    """Paths of the PEM files one emulator stack needs."""

    directory: Path
    ca_file: Path  # the CA certificate clients trust
    cert_file: Path  # server certificate chain, for uvicorn's ssl_certfile
    key_file: Path  # server private key, for uvicorn's ssl_keyfile


def load_or_write_certificates(directory: Path | str) -> CertificateFiles:
    """Reuse the PEM files in `directory` when all three exist (a stable CA across restarts)."""
    target = Path(directory)
    files = CertificateFiles(
        directory=target,
        ca_file=target / "ca.pem",
        cert_file=target / "server-cert.pem",
        key_file=target / "server-key.pem",
    )
    if all(path.is_file() for path in (files.ca_file, files.cert_file, files.key_file)):
        return files
    return write_certificates(target)


def write_certificates(directory: Path | str | None = None) -> CertificateFiles:
    """Create a fresh CA and a server cert for the loopback names; write them under `directory`."""
    target = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="entrasync-certs-"))
    target.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA(organization_name="entrasync emulators")
    server_cert = authority.issue_cert(*SERVER_NAMES)
    files = CertificateFiles(
        directory=target,
        ca_file=target / "ca.pem",
        cert_file=target / "server-cert.pem",
        key_file=target / "server-key.pem",
    )
    authority.cert_pem.write_to_path(str(files.ca_file))
    server_cert.private_key_pem.write_to_path(str(files.key_file))
    # Leaf first, then the chain; write_to_path(append=True) keeps them in one file.
    for index, blob in enumerate(server_cert.cert_chain_pems):
        blob.write_to_path(str(files.cert_file), append=index > 0)
    return files
