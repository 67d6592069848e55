"""The consometers Data Connect proxy: Enedis Data Connect through an XMPP bot that holds a DataHub application.

A homeowner without a DataHub application logs in with any XMPP account; the proxy (``dataconnect-proxy@
breizh-sen2.eu/proxy`` by default, itself an ordinary XMPP client) answers XEP-0050 ad-hoc commands with
``jabber:x:data`` forms and SenML payloads. Protocol facts: ``../shared/reference/xmpp-proxy-sge-grtgaz.md`` part A
and ``../shared/seeds/000_…``. The session runs on slixmpp (asyncio-native).

Two protocol generations, chosen from what the proxy lists in ``disco#items`` on the commands node:

- `Generation.QUOALISE` (the proxy's final protocol): ``get_load_curve`` / ``get_daily`` with ``direction``; the
  data sits inside the completed iq as ``<quoalise><data><sensml>`` with ``bn``/``bt``/``bu`` and relative ``t``;
  errors are iq errors, Enedis' code in ``<upstream-error issuer=… code=…/>``.
- `Generation.LEGACY` (the documented 2020 protocol): ``get_consumption_load_curve`` only (consumption load
  curve); the records come in ``<message>`` stanzas (absolute ``t``, ``u="W"``) before the completed iq; errors
  as ``<note type="error">{"error": …, "error_description": …}</note>``.

**Which instant a record marks, in which clock** (the decision; ``tests/xmpp/test_senml.py`` pins it):

- Load curve, quoalise: ``bt + t`` is a true UTC instant (the proxy converts Paris to UTC since 2021-02-15) and
  marks the **END** of the interval. The proxy's README claims "start of period", but its code passes Data
  Connect's stamp through unshifted (``t = date - bt``), and Data Connect's load-curve stamps mark the end of
  each interval (the v4 capture's first point of a day is ``00:30``, SGE's ``COURBE`` likewise). The interval's
  length is the ``<sampling interval>`` of the block (``PT30M`` or seconds), else the records' spacing.
- Daily energy, quoalise: ``bt + t`` is the Paris midnight starting the day (``t`` a multiple of 86 400 from the
  requested start); the record is the local day holding that instant (robust to the pre-2021 proxy, which wrote
  Paris midnight labelled UTC: that is 01:00 or 02:00 of the same Paris day).
- Load curve, legacy: ``t`` is the **END** of the interval (``start_date + rank x 30 min``, rank from 1) in
  **Paris wall-clock seconds labelled UTC** (the 2020 proxy's bug, kept by that protocol): the record is read as
  a naive Paris stamp, and the repeated autumn hour is resolved by order, as Data Connect's own naive stamps are.

Several messages or data blocks answering one request are merged: quoalise records by absolute time (an exact
repeat is dropped; two values for one instant are an invalid answer), legacy records in arrival order. Every
record is validated: its name is ``urn:dev:prm:<PRM>_…`` for the PRM and direction asked, its unit the
measure's (``W`` or ``Wh``). The records become a Data Connect 2026 body read by the same parser as Data Connect
(`parsers.parse_measure`: steps, holes, DST).

Consent: ``get_authorize_uri`` answers a page; when the holder consents, the proxy sends a ``<message>`` with
``<x xmlns="https://consometers.org/dataconnect#authorize">``, one ``<usage-point>`` per PRM (element text or
``id`` attribute) and a ``<state>``: it is matched to the pending request by that state, or, when the state is
empty (the final proxy hard-wires it), by the JID (the proxy keys consent on the requester's bare JID).

Errors: Enedis' codes map to the same typed errors as Data Connect (`parsers.parse_error` decides); XMPP
conditions map to `AuthError` (login refused), `ConsentError` (``not-authorized`` on a PRM: the proxy holds no
consent of this JID for it), `ProxyUnreachableError` (``service-unavailable``, ``item-not-found``…: the proxy is
offline), `RateLimitError` (``resource-constraint``, ``policy-violation``), `RequestError` (``bad-request``…) and
`ServerError` (any other condition, one slixmpp does not know included, or an error without ``<error>``);
`CommunicationError` covers no server, timeouts and a session lost under a request. The iq answers are read here,
not by slixmpp's ``Iq.send`` (it fails on a condition outside its fixed list, leaving the request to its timeout):
an error ends its request at once, and a request leaves no handler nor timer behind, however it ends. The password
is never logged: it is only handed to slixmpp, and `redact_xmpp_logs` strips SASL payloads from slixmpp's stream
log.

Quotas: the proxy spends one DataHub application's quota for all its users, so the source is frugal
(`CONSOMETERS_CONTRACT`): one request at a time (``Quota(1, 1.0)`` holds the slot until 1.1 s after the answer),
and the history import paced at one request a minute after the first.

Session: one XMPP session per source, opened by `ConsometersProxy.async_open` (it connects in the background) and
closed by `async_close`. When the connection drops (server restart), it reconnects with back-off; a request waits
for the session (up to its timeout) instead of failing, and a request cut by the drop is sent again once (one cut
by `async_close` ends with `CommunicationError` instead: it would log in anew).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import enum
import json
import logging
import math
import re
import ssl
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
import xml.etree.ElementTree as ET

from slixmpp import JID, ClientXMPP
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath
from slixmpp.xmlstream.matcher.idsender import MatchIDSender  # the package does not re-export it

from .base import REQUEST_TIMEOUT, MeteringSource, about_prm
from .calendar import local_midnight_utc
from .contract import CredentialExpiry, DirectionDiscovery, QuotaPolicy, SourceContract
from .dataconnect import check_prm
from .errors import (
    AuthError,
    CommunicationError,
    ConsentError,
    EnedisError,
    InvalidResponseError,
    RateLimitError,
    RequestError,
    ServerError,
    UnsupportedError,
    scrub,
)
from .limiter import LimiterRegistry, Quota
from .models import Contract, Direction, Measure
from .parsers import parse_error, parse_step
from .prm import PRM_DIGITS
from .windows import ENEDIS_WINDOWS

if TYPE_CHECKING:
    from slixmpp.stanza import Iq
    from slixmpp.xmlstream import StanzaBase

_LOGGER = logging.getLogger(__name__)

PROXY_JID = "dataconnect-proxy@breizh-sen2.eu/proxy"
"""The consometers proxy's public instance (its last commit is from 2021: whether it still runs is not known)."""
COMMANDS = "http://jabber.org/protocol/commands"
DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
DATA_FORMS = "jabber:x:data"
SENML = "urn:ietf:params:xml:ns:senml"
QUOALISE = "urn:quoalise:0"
AUTHORIZE = "https://consometers.org/dataconnect#authorize"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
CLIENT = "jabber:client"
API_NAME = "consometers-proxy"
CONNECT_TIMEOUT = 20.0
"""Seconds a login check waits for the session."""
RECONNECT_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Seconds before each reconnection attempt after the session dropped (the last one repeats)."""
DEFAULT_STEP = timedelta(minutes=30)
_PRM_NAME = re.compile(rf"^urn:dev:prm:({PRM_DIGITS})_(.+)$")


class Generation(enum.StrEnum):
    """Which protocol the proxy speaks (from its ``disco#items``)."""

    QUOALISE = "quoalise"
    """``get_load_curve`` / ``get_daily``, data inside the iq result (the proxy's final protocol)."""
    LEGACY = "legacy"
    """``get_consumption_load_curve``, data in messages (the documented 2020 protocol)."""


NODES: Mapping[Generation, frozenset[str]] = MappingProxyType(
    {
        Generation.QUOALISE: frozenset({"get_load_curve", "get_daily"}),
        Generation.LEGACY: frozenset({"get_consumption_load_curve"}),
    }
)


def generation_of(nodes: Iterable[str]) -> Generation | None:
    """The generation a proxy offering these command nodes speaks (the final one first); None: neither."""
    offered = set(nodes)
    for generation in (Generation.QUOALISE, Generation.LEGACY):
        if NODES[generation] <= offered:
            return generation
    return None


def valid_jid(text: str, *, account: bool) -> bool:
    """Whether ``text`` is a JID a session can use: it parses and has a domain.

    An ``account`` (the user's, which logs in) needs its user part too; the proxy's may be a bare domain.
    """
    try:
        jid = JID(text)
    except ValueError:  # slixmpp's InvalidJID
        return False
    return bool(jid.domain) and (bool(jid.user) or not account)


_POLICY = QuotaPolicy(quotas=(Quota(1, 1.0),), batch=1, burst=1, pace=timedelta(minutes=1))
"""One request at a time (the short quota's slot is held until 1.1 s after the answer), the history import paced
at one request a minute after the first: the proxy's DataHub quota is shared by all its users."""

CONSOMETERS_CONTRACT = SourceContract(
    name="ConsometersProxy",
    measures=MappingProxyType(
        {direction: frozenset({Measure.DAILY_ENERGY, Measure.LOAD_CURVE}) for direction in Direction}
    ),
    windows=ENEDIS_WINDOWS,
    policy=_POLICY,
    serves_contract=False,
    directions=DirectionDiscovery.PROBE,
    expiry=CredentialExpiry.CONSENT,
)
"""The final protocol: daily energy and load curve in both directions (no max power, no index, no contract data:
the proxy calls only those Data Connect APIs), Enedis' window limits; production is learnt by probing."""

CONSOMETERS_LEGACY_CONTRACT = SourceContract(
    name="ConsometersProxy",
    measures=MappingProxyType(
        {Direction.CONSUMPTION: frozenset({Measure.LOAD_CURVE}), Direction.PRODUCTION: frozenset()}
    ),
    windows=ENEDIS_WINDOWS,
    policy=_POLICY,
    serves_contract=False,
    directions=DirectionDiscovery.PROBE,
    expiry=CredentialExpiry.CONSENT,
)
"""The 2020 protocol: the consumption load curve only."""


class ProxyUnreachableError(CommunicationError):
    """The XMPP server accepted the login, but the proxy does not answer (offline, wrong JID, no command)."""


# --- SenML ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SenmlRecord:
    """One resolved SenML record (RFC 8428 base fields applied): full name, absolute time, value, unit."""

    name: str
    time: float
    value: str | None
    unit: str | None


def _number(raw: str | None, what: str) -> float:
    if raw is None or not raw.strip():
        return 0.0
    try:
        value = float(raw)
    except ValueError as err:
        raise InvalidResponseError(f"SenML {what} {raw[:20]!r} is not a number") from err
    if not math.isfinite(value):
        raise InvalidResponseError(f"SenML {what} is not finite")
    return value


def parse_sensml(sensml: ET.Element) -> list[SenmlRecord]:
    """The records of one ``<sensml>`` pack: ``bn``/``bt``/``bu`` apply to the records that follow until changed."""
    records: list[SenmlRecord] = []
    base_name, base_time, base_unit = "", 0.0, None
    for item in sensml.findall(f"{{{SENML}}}senml"):
        if "bn" in item.attrib:
            base_name = item.attrib["bn"]
        if "bt" in item.attrib:
            base_time = _number(item.attrib["bt"], "bt")
        if "bu" in item.attrib:
            base_unit = item.attrib["bu"] or None
        name = base_name + item.attrib.get("n", "")
        time = base_time + _number(item.attrib.get("t"), "t")
        unit = item.attrib.get("u") or base_unit
        records.append(SenmlRecord(name, time, item.attrib.get("v"), unit))
    return records


@dataclass(frozen=True, slots=True)
class _Block:
    """Records of one ``<data>`` block or message, with the block's sampling interval when it says one."""

    records: tuple[SenmlRecord, ...]
    step: timedelta | None = None


def _sampling(raw: str | None) -> timedelta | None:
    """``PT30M`` (ISO 8601) or ``1800`` (seconds, the proxy's README): the interval; None when absent or odd."""
    if not raw or not raw.strip():
        return None
    text = raw.strip()
    if text.isdigit():
        return timedelta(seconds=int(text)) if int(text) > 0 else None
    try:
        return parse_step(text)
    except EnedisError:
        return None


def _iso_step(step: timedelta) -> str:
    return f"PT{int(step.total_seconds()) // 60}M"


_MEASURE_NAMES: Mapping[tuple[Generation, Measure], Callable[[Direction], str]] = {
    (Generation.QUOALISE, Measure.LOAD_CURVE): lambda d: f"{d.value}_load",
    (Generation.QUOALISE, Measure.DAILY_ENERGY): lambda d: f"daily_{d.value}",
    (Generation.LEGACY, Measure.LOAD_CURVE): lambda d: f"{d.value}_load",
}
_UNITS = {Measure.LOAD_CURVE: "W", Measure.DAILY_ENERGY: "Wh"}


def _records(blocks: Iterable[_Block], expected: str, unit: str) -> list[tuple[float, str | None, timedelta | None]]:
    """Every record of the blocks, checked: named for the PRM and measure asked (``urn:dev:prm:<PRM>_…``), in unit."""
    merged: list[tuple[float, str | None, timedelta | None]] = []
    for block in blocks:
        for record in block.records:
            if _PRM_NAME.match(record.name) is None:
                raise InvalidResponseError(f"SenML name {record.name[:60]!r} is not urn:dev:prm:<PRM>_…")
            if record.name != expected:
                raise InvalidResponseError(f"SenML record for {record.name[:60]!r}, expected {expected!r}")
            if record.unit != unit:
                raise InvalidResponseError(f"SenML unit {record.unit!r} where {unit!r} was expected")
            merged.append((record.time, record.value, block.step))
    return merged


def _by_instant(
    merged: list[tuple[float, str | None, timedelta | None]],
) -> list[tuple[float, str | None, timedelta | None]]:
    """One record per instant, in time order (a repeated block is merged; two values for one instant are refused)."""
    by_time: dict[float, tuple[float, str | None, timedelta | None]] = {}
    for item in merged:
        known = by_time.get(item[0])
        if known is not None and known[1] != item[1]:
            raise InvalidResponseError("two SenML values for one instant")
        by_time[item[0]] = item
    return [by_time[t] for t in sorted(by_time)]


def _point(
    time: float, value: str | None, step: timedelta | None, measure: Measure, generation: Generation
) -> dict[str, str | None]:
    """A record as a Data Connect 2026 point (``v``, ``d``, and ``p`` for a curve with a known step)."""
    try:
        instant = datetime.fromtimestamp(time, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise InvalidResponseError("SenML time out of range") from err
    if measure is Measure.DAILY_ENERGY:
        stamp = _paris_day(instant).isoformat()
    elif generation is Generation.LEGACY:
        stamp = instant.replace(tzinfo=None).isoformat(sep=" ")  # Paris wall clock labelled UTC
    else:
        stamp = instant.isoformat()
    point: dict[str, str | None] = {"v": value, "d": stamp}
    if measure is Measure.LOAD_CURVE and step is not None:
        point["p"] = _iso_step(step)
    return point


def senml_body(
    blocks: Iterable[_Block],
    *,
    prm: str,
    direction: Direction,
    measure: Measure,
    generation: Generation,
) -> dict[str, Any]:
    """Validate and merge the records answering one request into a Data Connect 2026 body (see the module docs)."""
    naming = _MEASURE_NAMES.get((generation, measure))
    if naming is None:
        raise UnsupportedError(f"the consometers proxy ({generation}) serves no {direction} {measure}")
    unit = _UNITS[measure]
    merged = _records(blocks, f"urn:dev:prm:{prm}_{naming(direction)}", unit)
    if generation is Generation.QUOALISE:
        merged = _by_instant(merged)
    return {
        "idPrm": prm,
        "grandeur": [
            {
                "grandeurMetier": "CONS" if direction is Direction.CONSUMPTION else "PROD",
                "unite": unit,
                "points": [_point(time, value, step, measure, generation) for time, value, step in merged],
            }
        ],
    }


def _paris_day(instant: datetime) -> date:
    """The Paris day holding ``instant``."""
    day = instant.date()
    for candidate in (day + timedelta(days=1), day, day - timedelta(days=1)):
        if local_midnight_utc(candidate) <= instant:
            return candidate
    return day - timedelta(days=1)  # pragma: no cover - one of the three holds


# --- consent --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Authorization:
    """An authorize message: the PRMs the holder shared and the state it carries ("" when empty)."""

    prms: tuple[str, ...]
    state: str = ""


def parse_authorization(x: ET.Element) -> Authorization:
    """Read ``<x xmlns="https://consometers.org/dataconnect#authorize">`` (PRM as element text or ``id``)."""
    prms: list[str] = []
    for point in x.findall(f"{{{AUTHORIZE}}}usage-point"):
        prm = (point.get("id") or point.text or "").strip()
        if prm and prm not in prms:
            prms.append(prm)
    state = x.find(f"{{{AUTHORIZE}}}state")
    return Authorization(tuple(prms), (state.text or "").strip() if state is not None else "")


# --- errors ---------------------------------------------------------------------------------------------

_UNREACHABLE = frozenset(
    {"service-unavailable", "recipient-unavailable", "item-not-found", "remote-server-not-found", "gone"}
)


def upstream_error(code: str | None, description: str) -> EnedisError:
    """Enedis' error (relayed by the proxy) as the same typed error Data Connect raises for it."""
    if not code:
        return ServerError(description or "Enedis answered an error the proxy could not read")
    error = parse_error(400, json.dumps({"error": code, "error_description": description}))
    if isinstance(error, RateLimitError):
        return RateLimitError(error.description, code=error.code, retry_after=error.retry_after)
    return type(error)(error.description, code=error.code)


def note_error(text: str) -> EnedisError:
    """A legacy ``<note type="error">``: JSON ``{"error", "error_description"}`` or ``"code: message"``."""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = body.get("error") or body.get("code")
        return upstream_error(str(code) if code else None, str(body.get("error_description") or ""))
    code, sep, message = text.partition(":")
    if sep and code.strip() and " " not in code.strip():
        return upstream_error(code.strip(), message.strip())
    return ServerError(text.strip() or "the proxy answered an error note")


def stanza_error(error: ET.Element | None, *, about_prm: bool) -> EnedisError:
    """An iq ``<error>``: the upstream code when there is one, else the XMPP condition's meaning."""
    if error is None:
        return ServerError("the proxy answered an error without details")
    text_node = error.find(f"{{{STANZAS}}}text")
    text = (text_node.text or "").strip() if text_node is not None else ""
    upstream = error.find(f"{{{QUOALISE}}}upstream-error")
    if upstream is not None:
        return upstream_error(upstream.get("code"), text)
    conditions = [child.tag.split("}", 1)[-1] for child in error if child.tag.startswith(f"{{{STANZAS}}}")]
    condition = next((c for c in conditions if c != "text"), "undefined-condition")
    detail = f"{condition}: {text}" if text else condition
    if condition in {"not-authorized", "forbidden", "registration-required"}:
        return ConsentError(detail) if about_prm else AuthError(detail)
    if condition in _UNREACHABLE:
        return ProxyUnreachableError(f"the proxy does not answer ({detail})")
    if condition in {"bad-request", "not-acceptable", "jid-malformed"}:
        return RequestError(detail)
    if condition in {"resource-constraint", "policy-violation"}:
        return RateLimitError(detail)
    if condition == "remote-server-timeout":
        return CommunicationError(detail)
    return ServerError(detail)


# --- logging --------------------------------------------------------------------------------------------

_SASL_PAYLOAD = re.compile(
    r"(<(?:auth|response|success|challenge)\b[^>]*urn:ietf:params:xml:ns:xmpp-sasl[^>]*>)[^<]*(</)", re.DOTALL
)


class _SaslRedactor(logging.Filter):
    """Removes SASL payloads (a PLAIN ``auth`` is the password in base64) and known passwords from stream logs."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # pragma: no cover - a record that cannot format
            return True
        cleaned = scrub(_SASL_PAYLOAD.sub(r"\1**REDACTED**\2", message), self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_REDACTOR = _SaslRedactor()


def redact_xmpp_logs(password: str) -> None:
    """Make slixmpp's stream loggers unable to show ``password`` or a SASL payload (idempotent)."""
    if password:
        _REDACTOR.secrets.add(password)
    for name in ("slixmpp.xmlstream.xmlstream", "slixmpp.features.feature_mechanisms.mechanisms"):
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)


# --- the session ----------------------------------------------------------------------------------------


class _SessionLostError(Exception):
    """The connection dropped while a command was in flight (the caller may send it again)."""


@dataclass
class _Pending:
    """Data messages collected while one command is in flight."""

    blocks: list[ET.Element] = field(default_factory=list)


class XmppSession:
    """One XMPP login (slixmpp `ClientXMPP`), reconnected with back-off, with the proxy's messages routed.

    One command at a time (a lock): the legacy protocol's data messages are attributed to the command in flight.
    """

    def __init__(
        self,
        jid: str,
        password: str,
        proxy_jid: str = PROXY_JID,
        *,
        host: str | None = None,
        port: int | None = None,
        plain: bool = False,
        reconnect_delays: tuple[float, ...] = RECONNECT_DELAYS,
    ) -> None:
        """Configure the login; nothing connects until `async_start`."""
        self._jid = jid
        self._password = password
        self.proxy = JID(proxy_jid)
        self._host = host
        self._port = port
        self._plain = plain
        self._delays = reconnect_delays
        self._client: ClientXMPP | None = None
        self._ready = asyncio.Event()
        self._auth_failed = False
        self._login_error: EnedisError = AuthError("the XMPP server refused the login")
        self._closing = False
        self._last_failure: str | None = None
        self._lost: asyncio.Future[None] | None = None
        self._attempt = 0
        self._reconnect_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._pending: _Pending | None = None
        self._authorizations: list[Authorization] = []
        self._authorization_event = asyncio.Event()
        self.connections = 0
        """Sessions established so far (reconnections included)."""
        redact_xmpp_logs(password)

    def __repr__(self) -> str:
        """Never show the password."""
        return f"<XmppSession to {self.proxy.bare}>"

    @property
    def ready(self) -> bool:
        """Whether the session is established now."""
        return self._ready.is_set() and not self._auth_failed

    @property
    def opened(self) -> bool:
        """Whether `async_start` ran and `async_close` did not (the session connects or reconnects)."""
        return self._client is not None

    async def async_start(self) -> None:
        """Start connecting (in the background): `async_wait_ready` says when the session is up."""
        if self._client is not None:
            return
        self._closing = False
        if self._plain:
            client = ClientXMPP(self._jid, self._password)
        else:
            # slixmpp would load the system's CA certificates in the event loop: load them in a thread.
            context = await asyncio.to_thread(ssl.create_default_context)
            client = ClientXMPP(self._jid, self._password, ssl_context=context)
        if self._plain:
            client.enable_starttls = client.enable_direct_tls = False
            client.enable_plaintext = True
        for plugin in ("xep_0030", "xep_0004", "xep_0050"):
            client.register_plugin(plugin)
        if self._plain:
            # A local test server without TLS: SCRAM (the password never travels), PLAIN only if it offers no SCRAM.
            client.plugin["feature_mechanisms"].unencrypted_scram = True
            client.plugin["feature_mechanisms"].unencrypted_plain = True
        client.add_event_handler("session_start", self._on_session_start)
        client.add_event_handler("failed_all_auth", self._on_failed_auth)
        client.add_event_handler("connection_failed", self._on_connection_failed)
        client.add_event_handler("disconnected", self._on_disconnected)
        for name, path in (
            ("authorize", f"{{{CLIENT}}}message/{{{AUTHORIZE}}}x"),
            ("sensml", f"{{{CLIENT}}}message/{{{SENML}}}sensml"),
            ("quoalise", f"{{{CLIENT}}}message/{{{QUOALISE}}}quoalise"),
        ):
            client.register_handler(Callback(f"consometers {name}", MatchXPath(path), self._on_message))
        self._client = client
        self._connect()

    def _connect(self) -> None:
        assert self._client is not None
        if self._host and self._port:
            self._client.connect(self._host, self._port)
        else:
            self._client.connect()  # SRV records, else the JID's domain

    async def _on_session_start(self, _event: object) -> None:
        assert self._client is not None
        self._client.send_presence()  # messages to the bare JID (consent, legacy data) reach available resources
        self._attempt = 0
        self._last_failure = None
        self._lost = asyncio.get_running_loop().create_future()
        self.connections += 1
        self._ready.set()
        _LOGGER.debug("XMPP session established (%s)", self.connections)

    def _on_failed_auth(self, _event: object) -> None:
        client = self._client
        encrypted = client is not None and (
            "starttls" in client.features or isinstance(client.socket, ssl.SSLSocket | ssl.SSLObject)
        )
        if not encrypted and not self._plain:
            # slixmpp sends no credentials over an unencrypted stream: the server offered no TLS.
            self._login_error = CommunicationError("the XMPP server offers no TLS (plain is for a local test server)")
        else:
            self._login_error = AuthError("the XMPP server refused the login (JID or password)")
        self._auth_failed = True
        self._ready.set()  # wake the waiters: they raise AuthError
        if self._client is not None:
            self._client.disconnect(wait=0.5)

    def _on_connection_failed(self, error: object) -> None:
        self._last_failure = type(error).__name__ if isinstance(error, BaseException) else "connection failed"
        _LOGGER.debug("XMPP connection failed: %s", self._last_failure)

    def _on_disconnected(self, _reason: object) -> None:
        if not self._auth_failed:
            self._ready.clear()
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        if self._closing or self._auth_failed or self._client is None:
            return
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = self._delays[min(self._attempt, len(self._delays) - 1)]
        self._attempt += 1
        _LOGGER.debug("XMPP session lost; reconnecting in %s s", delay)
        await asyncio.sleep(delay)
        if not self._closing and self._client is not None and not self._ready.is_set():
            self._connect()

    async def async_wait_ready(self, within: float) -> None:
        """Wait for the session: `AuthError` when the login is refused, `CommunicationError` after ``within`` s."""
        if self._client is None:
            await self.async_start()
        try:
            await asyncio.wait_for(self._ready.wait(), within)
        except TimeoutError as err:
            reason = f" ({self._last_failure})" if self._last_failure else ""
            msg = f"no XMPP session with the server within {within:g} s{reason}"
            raise CommunicationError(msg) from err
        if self._auth_failed:
            raise self._login_error

    async def async_close(self) -> None:
        """Log out and stop reconnecting."""
        self._closing = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnect_task
        client, self._client = self._client, None
        self._ready.clear()
        if client is not None:
            client.cancel_connection_attempt()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(wait=1.0), 3.0)
            client.abort()
            _stop_filters(client)

    def abort(self) -> None:
        """Drop the connection without logging out (tests: a network cut); the session then reconnects."""
        if self._client is not None:
            self._client.abort()

    # --- messages ------------------------------------------------------------------------------------

    def _on_message(self, message: StanzaBase) -> None:
        if message["from"].bare != self.proxy.bare:
            return  # only the proxy speaks for the proxy
        x = message.xml.find(f"{{{AUTHORIZE}}}x")
        if x is not None:
            authorization = parse_authorization(x)
            _LOGGER.debug("authorize message for %s PRM(s)", len(authorization.prms))
            self._authorizations.append(authorization)
            self._authorization_event.set()
            return
        if self._pending is None:
            _LOGGER.debug("data message outside a request: ignored")
            return
        for child in message.xml:
            if child.tag in {f"{{{SENML}}}sensml", f"{{{QUOALISE}}}quoalise"}:
                self._pending.blocks.append(child)

    async def async_wait_authorization(self, state: str, within: float) -> Authorization:
        """The authorize message for ``state`` (or one with an empty state: it names our JID); `TimeoutError`."""

        def _take() -> Authorization | None:
            for index, authorization in enumerate(self._authorizations):
                if authorization.state in {"", state} and authorization.prms:
                    return self._authorizations.pop(index)
            return None

        async with asyncio.timeout(within):
            while (found := _take()) is None:
                self._authorization_event.clear()
                await self._authorization_event.wait()
        return found

    # --- commands ------------------------------------------------------------------------------------

    async def _async_ask(
        self, client: ClientXMPP, iq: Iq, lost: asyncio.Future[None], within: float, *, about_prm: bool
    ) -> ET.Element:
        """Send ``iq`` and return its answer's ``<iq type="result">`` element.

        The answer is read here, not by slixmpp's ``Iq.send``: slixmpp builds its ``IqError`` from a fixed list of
        conditions and fails inside its own handler on any other (``policy-violation`` is not on it, nor a condition
        it does not know), which left the request to wait for its timeout; it makes up ``feature-not-implemented``
        for an error without ``<error>``; and its timeout timer outlived a request cut by a drop. Here one handler
        waits for this id and is removed when the request ends, however it ends; the only timer is this coroutine's
        wait.

        Raises the mapped error of an iq error (`stanza_error`), `TimeoutError` after ``within`` s without an
        answer, `_SessionLostError` when the connection dropped first.
        """
        answer: asyncio.Future[ET.Element] = asyncio.get_running_loop().create_future()

        def _on_answer(stanza: StanzaBase) -> None:
            if stanza.xml.get("type") in {"result", "error"} and not answer.done():
                answer.set_result(stanza.xml)

        name = f"consometers answer {iq['id']}"
        matcher = MatchIDSender({"id": iq["id"], "self": client.boundjid, "peer": iq["to"]})
        client.register_handler(Callback(name, matcher, _on_answer))
        try:
            client.send(iq)
            done, _ = await asyncio.wait((answer, lost), timeout=within, return_when=asyncio.FIRST_COMPLETED)
        finally:
            client.remove_handler(name)
            answer.cancel()
        if answer not in done:
            raise _SessionLostError if lost in done else TimeoutError
        result = answer.result()
        if result.get("type") == "error":
            raise stanza_error(result.find(f"{{{CLIENT}}}error"), about_prm=about_prm)
        return result

    async def async_command_nodes(self, within: float) -> set[str]:
        """The command nodes the proxy lists (``disco#items``); `ProxyUnreachableError` when it does not answer."""
        await self.async_wait_ready(within)
        client, lost = self._client, self._lost
        assert client is not None
        assert lost is not None
        iq = client.make_iq_get(ito=self.proxy)
        ET.SubElement(iq.xml, f"{{{DISCO_ITEMS}}}query", node=COMMANDS)
        try:
            result = await self._async_ask(client, iq, lost, within, about_prm=False)
        except TimeoutError:
            msg = f"the proxy did not list its commands within {within:g} s"
            raise ProxyUnreachableError(msg) from None
        except _SessionLostError:
            msg = f"the XMPP session {'was closed' if self._closing else 'dropped'} while listing the proxy's commands"
            raise CommunicationError(msg) from None
        items = result.findall(f"{{{DISCO_ITEMS}}}query/{{{DISCO_ITEMS}}}item")
        return {node for item in items if (node := item.get("node"))}

    async def async_command(
        self, node: str, fields: Mapping[str, str], *, within: float, about_prm: bool = False
    ) -> tuple[ET.Element, list[ET.Element]]:
        """Execute ``node`` with a submitted form in one step: (the ``<command>`` of the result, data messages).

        Raises the mapped error of an iq error, `CommunicationError` on a timeout or when `async_close` ended the
        session while it was in flight, `_SessionLostError` when the connection dropped while it was in flight.
        """
        async with self._lock:
            await self.async_wait_ready(within)
            client, lost = self._client, self._lost
            assert client is not None
            assert lost is not None
            iq = client.make_iq_set(ito=self.proxy)
            command = ET.SubElement(iq.xml, f"{{{COMMANDS}}}command", node=node, action="execute")
            form = ET.SubElement(command, f"{{{DATA_FORMS}}}x", type="submit")
            for var, value in fields.items():
                ET.SubElement(
                    ET.SubElement(form, f"{{{DATA_FORMS}}}field", var=var), f"{{{DATA_FORMS}}}value"
                ).text = value
            pending = self._pending = _Pending()
            try:
                result = await self._async_ask(client, iq, lost, within, about_prm=about_prm)
            except TimeoutError:
                msg = f"the proxy did not answer {node} within {within:g} s"
                raise CommunicationError(msg) from None
            except _SessionLostError:
                if self._closing:  # not sent again: that would log in anew after the close
                    msg = f"the XMPP session was closed during {node}"
                    raise CommunicationError(msg) from None
                raise
            finally:
                self._pending = None
        answer = result.find(f"{{{COMMANDS}}}command")
        if answer is None:
            msg = f"the proxy answered {node} without a command"
            raise InvalidResponseError(msg)
        return answer, pending.blocks


def _stop_filters(client: ClientXMPP) -> None:
    """Cancel slixmpp's outgoing-filter task: it outlives the connection, and slixmpp cancels it only in ``__del__``."""
    task = client._run_out_filters  # noqa: SLF001 - slixmpp offers no public way to end it
    if task is not None and not task.done():
        task.cancel()


# --- the source -----------------------------------------------------------------------------------------


def _data_blocks(elements: Iterable[ET.Element]) -> list[_Block]:
    """SenML records of ``<quoalise><data>`` blocks and bare ``<sensml>`` packs, each with its sampling interval."""
    blocks: list[_Block] = []
    for element in elements:
        if element.tag == f"{{{SENML}}}sensml":
            blocks.append(_Block(tuple(parse_sensml(element))))
            continue
        for data in element.findall(f"{{{QUOALISE}}}data"):
            sampling = data.find(f"{{{QUOALISE}}}meta/{{{QUOALISE}}}measurement/{{{QUOALISE}}}sampling")
            step = _sampling(sampling.get("interval") if sampling is not None else None)
            blocks.extend(_Block(tuple(parse_sensml(sensml)), step) for sensml in data.findall(f"{{{SENML}}}sensml"))
    return blocks


class ConsometersProxy(MeteringSource):
    """Enedis data through the consometers Data Connect proxy (XMPP): see the module docstring."""

    def __init__(
        self,
        jid: str,
        password: str,
        *,
        proxy_jid: str = PROXY_JID,
        host: str | None = None,
        port: int | None = None,
        plain: bool = False,
        prms: tuple[str, ...] = (),
        generation: Generation | None = None,
        registry: LimiterRegistry | None = None,
        request_timeout: float = REQUEST_TIMEOUT,
        reconnect_delays: tuple[float, ...] = RECONNECT_DELAYS,
    ) -> None:
        """Configure the source; `async_open` logs in (in the background)."""
        self._proxy = JID(proxy_jid)
        super().__init__(None, base_url=f"xmpp:{self._proxy.domain}", registry=registry)
        self._password = password
        self._request_timeout = request_timeout
        self._prms = prms
        self.generation = generation
        self.session = XmppSession(
            jid, password, proxy_jid, host=host, port=port, plain=plain, reconnect_delays=reconnect_delays
        )

    def __repr__(self) -> str:
        """Never show credentials (nor the user's JID)."""
        return f"<ConsometersProxy {self._proxy.domain}>"

    @property
    def location(self) -> str:
        """``consometers_xmpp <proxy JID>``, where the cache's data comes from.

        Stable whatever the generation (learnt after login) and the account (another JID reads the same meters
        through the same proxy).
        """
        return f"consometers_xmpp {self._proxy.bare}"

    @property
    def contract(self) -> SourceContract:
        """Frugal (one request at a time, paced); the measures of the generation the proxy speaks."""
        return CONSOMETERS_LEGACY_CONTRACT if self.generation is Generation.LEGACY else CONSOMETERS_CONTRACT

    def _secrets(self) -> tuple[str | None, ...]:
        return (self._password,)

    def api_name(self, direction: Direction, measure: Measure) -> str:
        """One proxy, one budget."""
        return API_NAME

    # --- lifecycle -----------------------------------------------------------------------------------

    async def async_open(self) -> None:
        """Start the XMPP session (connects in the background; requests wait for it)."""
        await self.session.async_start()

    async def async_close(self) -> None:
        """Log out."""
        await self.session.async_close()

    async def async_check(self, within: float = CONNECT_TIMEOUT) -> Generation:
        """Log in and ask the proxy for its commands: the generation it speaks.

        `AuthError` (login refused), `CommunicationError` (no server), `ProxyUnreachableError` (the proxy does not
        answer, or offers neither protocol).
        """
        nodes = await self.session.async_command_nodes(within)
        generation = generation_of(nodes)
        if generation is None:
            msg = f"the proxy offers neither protocol (commands: {sorted(nodes)[:6]})"
            raise ProxyUnreachableError(msg)
        self.generation = generation
        return generation

    async def _async_generation(self) -> Generation:
        if self.generation is None:
            return await self.async_check(self._request_timeout)
        return self.generation

    # --- consent -------------------------------------------------------------------------------------

    async def async_get_authorize_uri(
        self, state: str, *, name: str = "Home Assistant", redirect_uri: str | None = None, duration: str = "P1Y"
    ) -> str:
        """The page where the PRM holder consents (``get_authorize_uri``)."""
        generation = await self._async_generation()
        if generation is Generation.QUOALISE:
            fields = {"name": name}
        else:
            fields = {"duration": duration, "state": state}
            if redirect_uri:
                fields["redirect_uri"] = redirect_uri
        command, _ = await self._async_command("get_authorize_uri", fields, about_prm=False)
        form = command.find(f"{{{DATA_FORMS}}}x")
        value = None
        if form is not None:
            for item in form.findall(f"{{{DATA_FORMS}}}field"):
                if item.get("var") == "authorize_uri":
                    value = item.findtext(f"{{{DATA_FORMS}}}value")
        if not value or not value.startswith("https://"):
            msg = "the proxy answered get_authorize_uri without an https authorize_uri"
            raise InvalidResponseError(msg)
        if generation is Generation.QUOALISE and redirect_uri:
            value += ("&" if "?" in value else "?") + "redirect_uri=" + quote(redirect_uri, safe="")
        return value

    async def async_wait_authorization(self, state: str, within: float) -> tuple[str, ...]:
        """The PRMs of the authorize message matching ``state`` (or our JID); `TimeoutError` after ``within`` s."""
        authorization = await self.session.async_wait_authorization(state, within)
        self._prms = tuple(dict.fromkeys((*self._prms, *authorization.prms)))
        return authorization.prms

    # --- the interface -------------------------------------------------------------------------------

    async def async_get_prms(self) -> list[str]:
        """The PRMs the holder shared (from the authorize message, kept by the config entry)."""
        return list(self._prms)

    async def async_get_contract(self, prm: str) -> Contract:
        """The proxy serves no contract data."""
        raise UnsupportedError("the consometers proxy serves no contract data")

    async def _async_command(
        self, node: str, fields: Mapping[str, str], *, about_prm: bool
    ) -> tuple[ET.Element, list[ET.Element]]:
        """One command under the proxy's quota; sent again once when the session dropped while in flight."""
        limiter = self._registry.get(self._host, API_NAME, self.contract.policy.quotas)
        async with limiter.slot():
            self.requests[API_NAME] += 1
            for attempt in range(2):
                try:
                    return await self.session.async_command(
                        node, fields, within=self._request_timeout, about_prm=about_prm
                    )
                except _SessionLostError:
                    if attempt:
                        msg = f"the XMPP session dropped twice during {node}"
                        raise CommunicationError(msg) from None
                    _LOGGER.debug("XMPP session dropped during %s: sending it again once reconnected", node)
                except RateLimitError as err:
                    limiter.block_for(err.retry_after)
                    raise
        raise AssertionError  # pragma: no cover - the loop returns or raises

    async def _async_fetch_body(
        self, prm: str, direction: Direction, measure: Measure, start: date, end: date
    ) -> object:
        check_prm(prm)
        generation = await self._async_generation()
        if not (CONSOMETERS_LEGACY_CONTRACT if generation is Generation.LEGACY else CONSOMETERS_CONTRACT).serves(
            direction, measure
        ):
            raise UnsupportedError(f"the consometers proxy ({generation}) serves no {direction} {measure}")
        fields = {"usage_point_id": prm, "start_date": start.isoformat(), "end_date": end.isoformat()}
        if generation is Generation.QUOALISE:
            node = "get_load_curve" if measure is Measure.LOAD_CURVE else "get_daily"
            fields["direction"] = direction.value
        else:
            node = "get_consumption_load_curve"
        with about_prm(prm):
            command, messages = await self._async_command(node, fields, about_prm=True)
            note = command.find(f"{{{COMMANDS}}}note[@type='error']")
            if note is not None:
                raise note_error(note.text or "")
            blocks = _data_blocks([*messages, *command.findall(f"{{{QUOALISE}}}quoalise")])
            return senml_body(blocks, prm=prm, direction=direction, measure=measure, generation=generation)
