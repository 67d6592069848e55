"""Enedis SGE: the suppliers' B2B SOAP web services, over mutual TLS or behind an API gateway.

Two services are requested, each with its envelope written as a template (no SOAP stack):

- ``ConsultationMesuresDetaillees`` v3.0 (SOAPAction ``…/consultationmesuresdetaillees/v3.0``): ``COURBE``/``PA``
  (load curve), ``ENERGIE``/``EA`` (daily energy), ``PMAX``/``PMA`` with ``mesuresPas=P1D`` (daily max power and
  the time of the peak), ``INDEX``/``EA`` (registers); ``sens`` SOUTIRAGE (consumption) or INJECTION
  (production); ``cadreAcces`` the access framework (``ACCORD_CLIENT``: the customer agreed). ``dateFin`` is
  exclusive, as for Data Connect.
- ``ConsultationDonneesTechniquesContractuelles`` v1.0 (SOAPAction ``""``): subscribed power, off-peak hours,
  meter, tariff and power change dates -> `Contract`.

Transport: either mutual TLS with the supplier's certificate and key (`SgeTls`, whose `ssl.SSLContext` is built
once, off the event loop, by `SgeTls.async_load`), or an API gateway in front of SGE (WSO2-style: a base URL and
a header carrying a key). Enedis allows about one call per second (`SGE_CONTRACT`). The answers are parsed by
`sge_parsers` (hardened XML, local names); faults become typed errors with their SGT code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
import logging
import os
from pathlib import Path
import re
import ssl
import tempfile
from types import MappingProxyType
from typing import Final, cast
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import aiohttp

from .base import REQUEST_TIMEOUT, USER_AGENT, MeteringSource, about_prm
from .contract import ENEDIS_MEASURES, CredentialExpiry, DirectionDiscovery, QuotaPolicy, SourceContract
from .dataconnect import check_prm
from .errors import (
    AuthError,
    CommunicationError,
    EnedisError,
    InvalidResponseError,
    RateLimitError,
    RequestError,
    scrub,
)
from .limiter import LimiterRegistry, Quota
from .models import Contract, Direction, IndexSeries, Measure, Series
from .parsers import parse_error
from .sge_parsers import (
    XmlNode,
    looks_like_xml,
    parse_sge_contract,
    parse_sge_fault,
    parse_sge_index,
    parse_sge_measure,
    parse_xml,
)
from .windows import WindowLimits

_LOGGER = logging.getLogger(__name__)

PRODUCTION_URL: Final = "https://sge-ws.enedis.fr"
"""Production (since 2024-09-23; formerly ``sge-b2b.enedis.fr``)."""
HOMOLOGATION_URL: Final = "https://sge-homologation-ws.enedis.fr"
ENVIRONMENTS: Final = MappingProxyType({"production": PRODUCTION_URL, "homologation": HOMOLOGATION_URL})
"""Named presets of the direct (mutual TLS) endpoints."""

CMD_SERVICE: Final = "ConsultationMesuresDetaillees/v3.0"
CDTC_SERVICE: Final = "ConsultationDonneesTechniquesContractuelles/v1.0"
SOAP_ACTIONS: Final = MappingProxyType(
    {
        CMD_SERVICE: "http://www.enedis.fr/sge/b2b/services/consultationmesuresdetaillees/v3.0",
        CDTC_SERVICE: "",
    }
)
"""The SOAPAction of each service (the WSDLs': empty for CDTC)."""
SGE_API: Final = "sge"
"""The limiter key's API: one budget of 1 call/s shared by both services."""
DEFAULT_GATEWAY_HEADER: Final = "apikey"
ACCESS_FRAMEWORKS: Final = ("ACCORD_CLIENT", "SERVICE_ACCES", "EST_TITULAIRE")
"""``cadreAcces``: the customer agreed (the integration's case), a subscribed access service, or the holder."""

SGE_QUOTAS: Final = (Quota(1, 1.0),)
SGE_WINDOWS: Final = MappingProxyType(
    {
        Measure.LOAD_CURVE: WindowLimits(7, 24, margin_days=0),
        Measure.DAILY_ENERGY: WindowLimits(365, 36, margin_days=0),
        Measure.MAX_POWER: WindowLimits(365, 36, margin_days=0),
        Measure.INDEX: WindowLimits(365, 36, margin_days=0),
    }
)
"""7-day curve windows within 24 months, daily data within 36 months (no margin: SGE's published limits)."""

SGE_CONTRACT: Final = SourceContract(
    name="Sge",
    measures=ENEDIS_MEASURES,
    windows=SGE_WINDOWS,
    policy=QuotaPolicy(quotas=SGE_QUOTAS, batch=5, interval=timedelta(seconds=1)),
    serves_contract=True,
    directions=DirectionDiscovery.PROBE,
    expiry=CredentialExpiry.CONSENT,
)
"""Enedis SGE: at most 1 call per second (a slot is held until 1.1 s after each answer, so never two in flight);
the contract service answers, but says nothing reliable about production, so each direction is probed; what
expires is the customer's agreement (known to the entry), not the source's certificate as far as SGE says."""

_MEASURE_CODES: Final = MappingProxyType(
    {
        Measure.LOAD_CURVE: ("COURBE", "PA", None),
        Measure.DAILY_ENERGY: ("ENERGIE", "EA", None),
        Measure.MAX_POWER: ("PMAX", "PMA", "P1D"),
        Measure.INDEX: ("INDEX", "EA", None),
    }
)
_SENS: Final = MappingProxyType({Direction.CONSUMPTION: "SOUTIRAGE", Direction.PRODUCTION: "INJECTION"})

_CMD_TEMPLATE: Final = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns:v3="http://www.enedis.fr/sge/b2b/services/consultationmesuresdetaillees/common">
<soapenv:Header/>
<soapenv:Body>
<v3:consulterMesuresDetailleesV3>
<demande>
<initiateurLogin>{login}</initiateurLogin>
<pointId>{prm}</pointId>
<mesuresTypeCode>{type_code}</mesuresTypeCode>
<grandeurPhysique>{physical}</grandeurPhysique>
<dateDebut>{start}</dateDebut>
<dateFin>{end}</dateFin>
{step}<mesuresCorrigees>false</mesuresCorrigees>
<sens>{sens}</sens>
<cadreAcces>{access}</cadreAcces>
</demande>
</v3:consulterMesuresDetailleesV3>
</soapenv:Body>
</soapenv:Envelope>
"""
"""CMD v3.0 (the XSD's element order: SGE refuses other orders)."""

_CDTC_TEMPLATE: Final = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns:tec="http://www.enedis.fr/sge/b2b/technique/v1.0" \
xmlns:v1="http://www.enedis.fr/sge/b2b/services/consulterdonneestechniquescontractuelles/v1.0">
<soapenv:Header>
<tec:entete><version>1.0</version><infoDemandeur><loginDemandeur>{login}</loginDemandeur></infoDemandeur></tec:entete>
</soapenv:Header>
<soapenv:Body>
<v1:consulterDonneesTechniquesContractuelles>
<pointId>{prm}</pointId>
<loginUtilisateur>{login}</loginUtilisateur>
<autorisationClient>{agreed}</autorisationClient>
</v1:consulterDonneesTechniquesContractuelles>
</soapenv:Body>
</soapenv:Envelope>
"""


class CertificateError(AuthError):
    """The TLS layer refused the connection: the supplier's certificate was refused, or the server's is untrusted."""


class InvalidCertificateError(CertificateError):
    """The certificate or key PEM does not load (malformed, encrypted, or the key does not match the certificate)."""


def cmd_envelope(
    *,
    login: str,
    prm: str,
    direction: Direction,
    measure: Measure,
    start: date,
    end: date,
    access: str = "ACCORD_CLIENT",
) -> str:
    """The ``consulterMesuresDetailleesV3`` envelope of one window ``[start, end)``."""
    type_code, physical, step = _MEASURE_CODES[measure]
    return _CMD_TEMPLATE.format(
        login=escape(login),
        prm=escape(prm),
        type_code=type_code,
        physical=physical,
        start=start.isoformat(),
        end=end.isoformat(),
        step=f"<mesuresPas>{step}</mesuresPas>\n" if step else "",
        sens=_SENS[direction],
        access=escape(access),
    )


def cdtc_envelope(*, login: str, prm: str, agreed: bool = True) -> str:
    """The ``consulterDonneesTechniquesContractuelles`` envelope (``autorisationClient``: the customer agreed)."""
    return _CDTC_TEMPLATE.format(login=escape(login), prm=escape(prm), agreed="true" if agreed else "false")


# --------------------------------------------------------------------------------------------- TLS


_PEM_RE: Final = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)


def normalize_pem(text: str) -> str:
    """PEM blocks rewritten in canonical form: a PEM pasted in a one-line field (its new lines lost) loads again.

    Text without PEM block is returned stripped (loading it then fails with `InvalidCertificateError`).
    """
    blocks = []
    for kind, body in _PEM_RE.findall(text):
        data = "".join(body.split())
        lines = [data[i : i + 64] for i in range(0, len(data), 64)]
        blocks.append("\n".join([f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----"]))
    return "\n".join(blocks) + "\n" if blocks else text.strip()


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def build_ssl_context(cert_pem: str, key_pem: str, *, ca_pem: str | None = None) -> ssl.SSLContext:
    """A client `ssl.SSLContext` presenting ``cert_pem``/``key_pem`` (BLOCKING: file writes, trust store load).

    The PEMs are written to a private temporary directory only for `ssl.SSLContext.load_cert_chain` and removed at
    once. ``ca_pem`` replaces the system trust store (a private gateway, the tests' CA). An encrypted key is
    refused (no password prompt). Raises `InvalidCertificateError`, never with the key in its message.
    """
    try:
        context = ssl.create_default_context(cadata=normalize_pem(ca_pem)) if ca_pem else ssl.create_default_context()
    except (ssl.SSLError, ValueError) as err:
        raise InvalidCertificateError(f"the CA certificate does not load ({type(err).__name__})") from None
    with tempfile.TemporaryDirectory(prefix="enedis-sge-") as folder:
        cert_path, key_path = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        _write_private(cert_path, normalize_pem(cert_pem))
        _write_private(key_path, normalize_pem(key_pem))
        try:
            context.load_cert_chain(cert_path, key_path, password=_no_password)
        except (ssl.SSLError, ValueError, OSError) as err:
            reason = getattr(err, "reason", None) or type(err).__name__
            raise InvalidCertificateError(f"the certificate and key do not load ({reason})") from None
    return context


def _no_password() -> bytes:
    return b""


@dataclass(frozen=True, slots=True)
class SgeTls:
    """The supplier's client certificate and key, and the `ssl.SSLContext` built from them once."""

    cert_pem: str = field(repr=False)
    key_pem: str = field(repr=False)
    context: ssl.SSLContext = field(repr=False)

    @classmethod
    async def async_load(
        cls,
        cert_pem: str,
        key_pem: str,
        *,
        ca_pem: str | None = None,
        executor: Callable[[Callable[[], ssl.SSLContext]], asyncio.Future[ssl.SSLContext]] | None = None,
    ) -> SgeTls:
        """Build the context off the event loop (``executor``: Home Assistant's ``async_add_executor_job``)."""

        def build() -> ssl.SSLContext:
            return build_ssl_context(cert_pem, key_pem, ca_pem=ca_pem)

        context = await (executor(build) if executor else asyncio.to_thread(build))
        return cls(cert_pem=cert_pem, key_pem=key_pem, context=context)


def _ssl_failure(err: BaseException) -> bool:
    """Whether a connection error came from the TLS layer (handshake refused, certificate alert)."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError | aiohttp.ClientSSLError):
            return True
        nested = getattr(current, "os_error", None)
        if isinstance(nested, ssl.SSLError):
            return True
        current = current.__cause__ or current.__context__
    return False


# --------------------------------------------------------------------------------------------- source


class SgeSource(MeteringSource):
    """Enedis SGE for a supplier (or a local authority, a service company) with an SGE contract.

    Give either ``tls`` (direct access, mutual TLS; ``environment`` picks production or homologation, or
    ``base_url`` another host) or ``gateway_key`` with ``base_url`` (an API gateway in front of SGE; the key goes
    in the ``gateway_header`` header). ``prms`` are the meters the customer agreed to share; ``contract_id`` is
    the supplier's SGE contract (kept for the services that take it; the two requested here do not).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        login: str,
        prms: tuple[str, ...],
        *,
        tls: SgeTls | None = None,
        environment: str = "production",
        base_url: str | None = None,
        gateway_key: str | None = None,
        gateway_header: str = DEFAULT_GATEWAY_HEADER,
        contract_id: str | None = None,
        access_framework: str = "ACCORD_CLIENT",
        registry: LimiterRegistry | None = None,
        user_agent: str = USER_AGENT,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        """Configure the source; nothing is sent until the first call."""
        if (tls is None) == (gateway_key is None):
            msg = "give either a TLS certificate (direct access) or a gateway key, not both nor neither"
            raise ValueError(msg)
        if gateway_key is not None and not base_url:
            msg = "a gateway key needs the gateway's base URL"
            raise ValueError(msg)
        if base_url is None and environment not in ENVIRONMENTS:
            msg = f"unknown SGE environment {environment!r} (expected one of {sorted(ENVIRONMENTS)})"
            raise ValueError(msg)
        if access_framework not in ACCESS_FRAMEWORKS:
            msg = f"unknown access framework {access_framework!r}"
            raise ValueError(msg)
        super().__init__(
            session,
            base_url=base_url or ENVIRONMENTS[environment],
            registry=registry,
            user_agent=user_agent,
            request_timeout=request_timeout,
        )
        self._login = login.strip()
        self._prms = tuple(p.strip() for p in prms)
        self._tls = tls
        self._environment = environment
        self._custom_base_url = base_url
        self._gateway_key = gateway_key
        self._gateway_header = gateway_header.strip() or DEFAULT_GATEWAY_HEADER
        self.contract_id = contract_id
        self._access = access_framework

    @property
    def contract(self) -> SourceContract:
        """1 call/s, 7-day curve windows within 24 months, daily data within 36 months; contract data; probing."""
        return SGE_CONTRACT

    @property
    def location(self) -> str:
        """``sge <environment>``, or ``sge <base URL>`` for a gateway or another host (never a credential)."""
        return f"sge {self._custom_base_url}" if self._custom_base_url else f"sge {self._environment}"

    def _secrets(self) -> tuple[str | None, ...]:
        return (self._tls.key_pem if self._tls else None, self._gateway_key)

    def api_name(self, direction: Direction, measure: Measure) -> str:
        """Every SGE service shares one pace."""
        return SGE_API

    async def async_get_prms(self) -> list[str]:
        """The PRMs configured (SGE has no list of a customer's meters)."""
        return list(self._prms)

    async def async_get_contract(self, prm: str) -> Contract:
        """``consulterDonneesTechniquesContractuelles`` of one PRM."""
        with about_prm(prm):
            check_prm(prm)
            root = await self._async_soap(CDTC_SERVICE, cdtc_envelope(login=self._login, prm=prm))
            return parse_sge_contract(root, prm=prm)

    async def _async_fetch_body(
        self, prm: str, direction: Direction, measure: Measure, start: date, end: date
    ) -> XmlNode:
        check_prm(prm)
        if start >= end:
            raise RequestError("dateDebut must precede dateFin", code="invalid_dates")
        envelope = cmd_envelope(
            login=self._login,
            prm=prm,
            direction=direction,
            measure=measure,
            start=start,
            end=end,
            access=self._access,
        )
        return await self._async_soap(CMD_SERVICE, envelope)

    def _parse_window(self, body: object, *, measure: Measure, direction: Direction, prm: str) -> Series:
        """One ``consulterMesuresDetailleesV3`` answer (a fault raised its typed error before)."""
        return parse_sge_measure(cast("XmlNode", body), measure=measure, direction=direction, prm=prm)

    def _parse_index(self, body: object, *, direction: Direction, prm: str) -> IndexSeries:
        """``INDEX``/``EA`` registers (where the contract allows them)."""
        return parse_sge_index(cast("XmlNode", body), direction=direction, prm=prm)

    # --- transport ---------------------------------------------------------------------------------

    def _headers(self, service: str) -> dict[str, str]:
        headers = {
            "User-Agent": self._user_agent,
            "Content-Type": "text/xml; charset=utf-8",
            "Accept": "text/xml",
            "SOAPAction": f'"{SOAP_ACTIONS[service]}"',
        }
        if self._gateway_key is not None:
            headers[self._gateway_header] = self._gateway_key
        return headers

    async def _async_soap(self, service: str, envelope: str) -> XmlNode:
        """POST one envelope under the 1 call/s limiter; the parsed answer, or the typed error of its fault."""
        limiter = self._registry.get(self._host, SGE_API, self.contract.policy.quotas)
        url = f"{self._base_url}/{service}"
        session = self._session
        if session is None:  # pragma: no cover - the integration always gives Home Assistant's session
            msg = "SgeSource has no HTTP session"
            raise CommunicationError(msg)
        async with limiter.slot():
            self.requests[SGE_API] += 1
            _LOGGER.debug("POST %s", service)
            try:
                async with session.post(
                    url,
                    data=envelope.encode("utf-8"),
                    headers=self._headers(service),
                    timeout=self._timeout,
                    ssl=self._tls.context if self._tls is not None else True,
                ) as response:
                    status = response.status
                    response_headers = dict(response.headers)
                    raw = await response.read()
            except TimeoutError as err:
                raise CommunicationError(f"timeout calling {self._host} {service}") from err
            except aiohttp.ClientError as err:
                if _ssl_failure(err):
                    raise CertificateError(
                        f"the TLS connection to {self._host} was refused: the client certificate is not accepted "
                        "or the server's certificate is not trusted"
                    ) from None
                if self._tls is not None and await self._closed_after_handshake(self._tls.context):
                    raise CertificateError(
                        f"{self._host} drops the TLS connection before answering: it refused the client certificate"
                    ) from None
                raise CommunicationError(
                    scrub(f"cannot reach {self._host} {service}: {type(err).__name__}", self.secrets())
                ) from err
        return self._answer(service, status, raw, response_headers, limiter.block_for)

    async def _closed_after_handshake(self, context: ssl.SSLContext) -> bool:
        """Whether the server, reachable over TCP, drops every TLS connection before answering: a refused certificate.

        A server refusing the client's certificate may reset the connection during the handshake (TLS 1.2) or,
        with TLS 1.3 (where it checks the certificate after the client finished its side of the handshake), close
        it before any answer: aiohttp then reports a reset or a disconnection, not an SSL error. One bare
        connection (no SOAP call) tells that from an unreachable host (the TCP connection fails) and from a
        transient disconnection (a server that accepts the certificate answers).
        """
        url = urlsplit(self._base_url)
        host, port = url.hostname or "", url.port or 443
        limit = min(self._timeout.total or 10.0, 10.0)
        try:
            async with asyncio.timeout(limit):
                _, plain = await asyncio.open_connection(host, port)
                plain.close()
        except (OSError, TimeoutError):
            return False  # not a TLS matter: the host cannot be reached
        try:
            async with asyncio.timeout(limit):
                reader, writer = await asyncio.open_connection(host, port, ssl=context, server_hostname=host)
                try:
                    writer.write(f"HEAD / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("ascii"))
                    await writer.drain()
                    answered = await reader.read(1)
                finally:
                    writer.close()
        except (ssl.SSLError, ConnectionError):
            return True
        except (OSError, TimeoutError):
            return False
        return not answered

    def _answer(
        self,
        service: str,
        status: int,
        raw: bytes,
        headers: dict[str, str],
        block_for: Callable[[float | None], None],
    ) -> XmlNode:
        text = raw.decode("utf-8", errors="replace")
        error: EnedisError | None = None
        root: XmlNode | None = None
        if looks_like_xml(text):
            try:
                root = parse_xml(raw)
            except InvalidResponseError as err:
                error = err
            else:
                error = parse_sge_fault(root, status=status)
        if error is None and status >= 400:
            error = parse_error(status, text, headers=headers, api=service, now=self.clock.now())
        if error is None and root is None:
            error = InvalidResponseError(f"{service} answered HTTP {status} with a body that is not XML", status=status)
        if error is not None:
            self._scrub_error(error)
            if isinstance(error, RateLimitError):
                block_for(error.retry_after)
            _LOGGER.debug("%s -> %s", service, error)
            raise error
        if root is None:  # pragma: no cover - error is None only when the XML parsed
            raise InvalidResponseError(f"{service}: no answer")
        return root
