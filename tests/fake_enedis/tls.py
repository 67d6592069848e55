"""A throw-away PKI for the mutual-TLS tests: a CA, a server certificate for 127.0.0.1, client certificates.

Generated with ``cryptography`` (a Home Assistant dependency) at run time, never stored in the repository.
`server_context` requires a client certificate issued by the CA: the TLS layer refuses any other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import gc
import ipaddress
from pathlib import Path
import ssl
import threading

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, as PEM text."""

    cert_pem: str
    key_pem: str = field(repr=False)


@dataclass(frozen=True)
class Pki:
    """The test CA, the server's certificate, a client certificate it trusts and one from another CA."""

    ca_pem: str
    server: Issued
    client: Issued
    stranger: Issued
    """A client certificate issued by another CA: the server refuses it."""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def _ca(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _issue(ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], common_name: str, *, server: bool) -> Issued:
    ca_cert, ca_key = ca
    key = _key()
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
    cert = builder.sign(ca_key, hashes.SHA256())
    return Issued(cert.public_bytes(serialization.Encoding.PEM).decode("ascii"), _key_pem(key))


def make_pki() -> Pki:
    """A fresh CA with a server (127.0.0.1) and a client certificate, plus a client of an unrelated CA."""
    ca = _ca("Fake SGE test CA")
    other = _ca("Another CA")
    return Pki(
        ca_pem=ca[0].public_bytes(serialization.Encoding.PEM).decode("ascii"),
        server=_issue(ca, "127.0.0.1", server=True),
        client=_issue(ca, "fournisseur.example", server=False),
        stranger=_issue(other, "fournisseur.example", server=False),
    )


def server_context(pki: Pki, folder: Path) -> ssl.SSLContext:
    """The fake SGE's TLS context: its certificate, and a client certificate from the test CA REQUIRED."""
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_text(pki.server.cert_pem, encoding="ascii")
    key_path.write_text(pki.server.key_pem, encoding="ascii")
    key_path.chmod(0o600)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    context.load_verify_locations(cadata=pki.ca_pem)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


@contextmanager
def serve_in_thread(app: web.Application, context: ssl.SSLContext) -> Iterator[str]:
    """Serve ``app`` over TLS on 127.0.0.1 from its own thread and event loop; yields its base URL.

    Home Assistant's test harness fails a test on any error logged by its event loop: the refused handshakes the
    mutual-TLS tests provoke are logged by the server's loop, so the server must not run on Home Assistant's.
    """
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    started = threading.Event()
    address: list[str] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        host, port = runner.addresses[0][:2]
        address.append(f"https://{host}:{port}")

    async def stop() -> None:
        # Collect the transports of refused handshakes while the server is open: collected after it closed, each
        # would make asyncio's Server._detach fail (an "exception ignored" warning in CPython 3.14).
        gc.collect()
        await runner.cleanup()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(lambda _loop, _context: None)  # refused handshakes are the point
        loop.run_until_complete(start())
        started.set()
        loop.run_forever()
        loop.close()

    thread = threading.Thread(target=run, name="fake-sge-tls", daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the fake SGE server did not start")
    try:
        yield address[0]
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
