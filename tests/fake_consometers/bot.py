"""A fake consometers Data Connect proxy: an XMPP bot (slixmpp) serving both protocol generations.

The data comes from the fake Enedis gateway's ground truth (`tests.fake_enedis`): the bot validates a request with
``measures.validate`` (Enedis' rules and error codes: consent, direction, activation, history, 7-day curve) and
builds it with ``measures.build``, then converts the Data Connect body into SenML the way the real proxy does
(``../shared/reference/xmpp-proxy-sge-grtgaz.md`` part A):

- ``head`` (the proxy's final protocol): ``get_authorize_uri`` (``name``...) → ``authorize_uri``; ``get_load_curve``
  and ``get_daily`` (``usage_point_id``, ``direction``, ``start_date``, ``end_date``) answer with the data inside the
  completed iq as ``<quoalise><data><sensml>``: ``bt`` = the requested start day's Paris midnight in UTC seconds,
  ``t`` = Data Connect's stamp (load curve: the END of the interval; daily: the day) minus ``bt``. Errors are iq
  errors with ``<upstream-error issuer="enedis-data-connect" code=…/>``; the authorize message's ``<state/>`` is
  empty (the proxy hard-wires it).
- ``seed`` (the documented 2020 protocol): ``get_authorize_uri`` (``redirect_uri``, ``duration``, ``state``);
  ``get_consumption_load_curve`` sends the records in a ``<message>`` (absolute ``t`` = the END of the interval as
  Paris wall-clock seconds labelled UTC, ``u="W"``), then the completed iq; errors as ``<note type="error">`` JSON.

A request is served only for a (bare JID, PRM) whose consent was completed (`complete_authorization`), as the proxy
keys its tokens; otherwise ``not-authorized``. Test switches: ``chunk`` (records per stanza or data block: a payload
split over several stanzas), ``fail_next`` (the next data request answers this upstream error), ``delay`` (seconds
before answering: timeouts).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import itertools
import json
from typing import Any, Literal
import xml.etree.ElementTree as ET

from slixmpp import ClientXMPP, Iq
from slixmpp.exceptions import XMPPError
from slixmpp.plugins.xep_0004 import Form
from slixmpp.xmlstream import ElementBase

from tests.fake_enedis import data, measures
from tests.fake_enedis.state import FakeState

type Generation = Literal["head", "seed"]

SENML = "urn:ietf:params:xml:ns:senml"
QUOALISE = "urn:quoalise:0"
AUTHORIZE = "https://consometers.org/dataconnect#authorize"
COMMANDS = "http://jabber.org/protocol/commands"
AUTHORIZE_PAGE = "https://fake-proxy.invalid/dataconnect-proxy/authorize"
UPSTREAM_ISSUER = "enedis-data-connect"


class Quoalise(ElementBase):
    """``<quoalise xmlns="urn:quoalise:0">``: a command payload holding ``<data>`` blocks."""

    namespace = QUOALISE
    name = "quoalise"
    plugin_attrib = "quoalise"


@dataclass
class Authorization:
    """An authorize page handed out: who asked, with which state."""

    jid: str
    state: str | None


@dataclass
class Call:
    """A command the bot received."""

    node: str
    jid: str
    fields: dict[str, str]


@dataclass
class ProxyBehaviour:
    """Switches a test flips."""

    chunk: int | None = None
    fail_next: tuple[str | None, str] | None = None
    """(code, description) of an upstream error the next data request answers (code None: Enedis' body was not
    JSON)."""
    delay: float = 0.0
    state_in_message: bool = True
    """Seed generation: echo the client's state in the authorize message (HEAD never does)."""
    id_attribute: bool = False
    """Write ``<usage-point id="…"/>`` (the earliest code) instead of element text."""
    commands_error: str | None = None
    """An XMPP error condition (e.g. ``internal-server-error``) the bot answers to the listing of its commands."""
    calls: list[Call] = field(default_factory=list)


class FakeProxy(ClientXMPP):  # type: ignore[misc]
    """The bot: log it in with `start`, stop it with `stop`."""

    def __init__(
        self,
        jid: str,
        password: str,
        state: FakeState,
        *,
        generation: Generation = "head",
        address: tuple[str, int] | None = None,
        authorize_page: str = AUTHORIZE_PAGE,
    ) -> None:
        """A bot logged in as ``jid`` (a client account, like the real proxy), serving ``state``'s ground truth."""
        super().__init__(jid, password)
        self.authorize_page = authorize_page
        self.state = state
        self.generation: Generation = generation
        self.behaviour = ProxyBehaviour()
        self.allowed: set[tuple[str, str]] = set()
        self.authorizations: dict[str, Authorization] = {}
        self._address = address
        self._ids = itertools.count(0xAD35A140)
        self._ready = asyncio.Event()
        self.enable_starttls = self.enable_direct_tls = False
        self.enable_plaintext = True
        for plugin in ("xep_0030", "xep_0004", "xep_0050", "xep_0199"):
            self.register_plugin(plugin)
        self.plugin["xep_0030"].api.register(self._get_items, "get_items")
        self.plugin["feature_mechanisms"].unencrypted_plain = True
        self._stopping = False
        self._released = asyncio.Event()
        self.add_event_handler("session_start", self._on_session_start)
        self.add_event_handler("disconnected", self._on_disconnected)

    def _on_disconnected(self, _reason: object) -> None:
        """The server went away (restart): log in again, as the real proxy's supervisor would."""
        self._ready.clear()
        if not self._stopping:
            host, port = self._address or (None, None)
            asyncio.get_running_loop().call_later(0.2, self.connect, host, port)

    async def _on_session_start(self, _event: object) -> None:
        self.send_presence()
        if self._ready.is_set() or self.plugin["xep_0050"].commands:
            self._ready.set()  # a reconnection: the commands are registered already
            return
        adhoc = self.plugin["xep_0050"]
        adhoc.add_command(self.boundjid, "get_authorize_uri", "Get authorize URI", self._authorize)
        if self.generation == "head":
            adhoc.add_command(self.boundjid, "get_load_curve", "Get load curve", self._load_curve)
            adhoc.add_command(self.boundjid, "get_daily", "Get daily", self._daily)
        else:
            adhoc.add_command(self.boundjid, "get_consumption_load_curve", "Consumption load curve", self._seed_curve)
        self._ready.set()

    def _get_items(self, jid: Any, node: str | None, ifrom: Any, data: Any) -> Any:
        """disco#items: the commands listed (slixmpp's stored items), or the error a test chose."""
        if node == COMMANDS and self.behaviour.commands_error:
            raise XMPPError(self.behaviour.commands_error, text="the proxy failed to list its commands")
        return self.plugin["xep_0030"].static.get_items(jid, node, ifrom, data)

    async def start(self, within: float = 10.0) -> None:
        """Connect and wait for the session (commands registered)."""
        self._stopping = False
        self._ready.clear()
        host, port = self._address or (None, None)
        self.connect(host, port)
        await asyncio.wait_for(self._ready.wait(), within)

    async def stop(self) -> None:
        """Disconnect (the proxy goes offline)."""
        self._stopping = True
        self._ready.clear()
        self._released.set()  # a delayed answer goes now
        for _ in range(5):
            await asyncio.sleep(0)
        # No timer: under a test's frozen clock the loop's timers never fire.
        await self.disconnect(wait=0)
        task = self._run_out_filters  # slixmpp cancels its filter task only in __del__
        if task is not None:
            task.cancel()

    async def _delay(self) -> None:
        if self.behaviour.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), self.behaviour.delay)

    # --- consent ---------------------------------------------------------------------------------

    async def _authorize(self, iq: Iq, session: dict[str, Any]) -> dict[str, Any]:
        fields = _fields(session)
        requester = iq["from"].bare
        self.behaviour.calls.append(Call("get_authorize_uri", requester, fields))
        page = f"{next(self._ids):08x}"
        if self.generation == "head":
            if not fields.get("name"):
                raise XMPPError("bad-request", text="name is required", etype="modify")
            self.authorizations[page] = Authorization(requester, None)
            uri = f"{self.authorize_page}?id={page}"
        else:
            self.authorizations[page] = Authorization(requester, fields.get("state") or None)
            duration = fields.get("duration") or "P1Y"
            uri = (
                "https://gw.fake.invalid/dataconnect/v1/oauth2/authorize?client_id=fake-proxy"
                f"&response_type=code&duration={duration}&state={page}"
            )
        form: Form = self.plugin["xep_0004"].make_form(ftype="result", title="Authorize URI")
        form.add_field(
            var="authorize_uri", ftype="text-single", label="Adresse pour recueillir le consentement", value=uri
        )
        session["payload"] = form
        session["next"] = None
        return session

    def complete_authorization(self, prms: list[str], page: str | None = None) -> str:
        """The holder consented on the page ``page`` (default: the latest): grant and send the authorize message.

        Returns the page id. PRMs are granted to the bare JID that asked for the page.
        """
        if page is None:
            page = list(self.authorizations)[-1]
        authorization = self.authorizations[page]
        for prm in prms:
            self.allowed.add((authorization.jid, prm))
        message = self.make_message(
            mto=authorization.jid, mbody=f"Access granted for usage points {', '.join(prms)}", mtype="chat"
        )
        x = ET.Element(f"{{{AUTHORIZE}}}x")
        for prm in prms:
            point = ET.SubElement(x, f"{{{AUTHORIZE}}}usage-point")
            if self.behaviour.id_attribute:
                point.set("id", prm)
            else:
                point.text = prm
        state = ET.SubElement(x, f"{{{AUTHORIZE}}}state")
        if self.generation == "seed" and self.behaviour.state_in_message:
            state.text = authorization.state or ""
        message.xml.append(x)
        message.send()
        return page

    # --- data ------------------------------------------------------------------------------------

    async def _load_curve(self, iq: Iq, session: dict[str, Any]) -> dict[str, Any]:
        return await self._head_data(iq, session, "curve")

    async def _daily(self, iq: Iq, session: dict[str, Any]) -> dict[str, Any]:
        return await self._head_data(iq, session, "daily")

    def _request(self, iq: Iq, node: str, fields: dict[str, str], kind: measures.Kind) -> measures.Reply | Any:
        requester = iq["from"].bare
        self.behaviour.calls.append(Call(node, requester, fields))
        prm = fields.get("usage_point_id", "")
        if (requester, prm) not in self.allowed:
            raise XMPPError("not-authorized", text=f"User {requester} is not allowed to access {prm}")
        direction = data.PROD if fields.get("direction") == "production" else data.CONS
        failure, self.behaviour.fail_next = self.behaviour.fail_next, None
        if failure is not None:
            code, description = failure
            return measures.Reply(400 if code else 500, {"error": code, "error_description": description})
        request = measures.validate(
            self.state,
            kind=kind,
            direction=direction,
            prm=prm,
            start_s=fields.get("start_date", ""),
            end_s=fields.get("end_date", ""),
            flavour="v2",
        )
        if isinstance(request, measures.Reply):
            return request
        return measures.build(self.state, request)

    async def _head_data(self, iq: Iq, session: dict[str, Any], kind: measures.Kind) -> dict[str, Any]:
        node = "get_load_curve" if kind == "curve" else "get_daily"
        fields = _fields(session)
        await self._delay()
        reply = self._request(iq, node, fields, kind)
        if reply.status != 200:
            raise _upstream_error(reply)
        start = date.fromisoformat(fields["start_date"])
        direction = fields.get("direction") or "consumption"
        prm = fields["usage_point_id"]
        records = _records(reply.body, kind)
        base_time = int(data.local_midnight_utc(start).timestamp())
        if kind == "curve":
            name, unit, quantity, interval = f"{direction}_load", "W", "power", "PT30M"
        else:
            name, unit, quantity, interval = f"daily_{direction}", "Wh", "energy", "P1D"
        quoalise = Quoalise()
        size = self.behaviour.chunk or max(1, len(records))
        for offset in range(0, len(records), size):
            block = ET.SubElement(quoalise.xml, f"{{{QUOALISE}}}data")
            meta = ET.SubElement(block, f"{{{QUOALISE}}}meta")
            device = ET.SubElement(meta, f"{{{QUOALISE}}}device", type="electricity-meter")
            ET.SubElement(device, f"{{{QUOALISE}}}identifier", authority="enedis", type="prm", value=prm)
            measurement = ET.SubElement(meta, f"{{{QUOALISE}}}measurement")
            ET.SubElement(measurement, f"{{{QUOALISE}}}physical", quantity=quantity, type="electrical", unit=unit)
            ET.SubElement(measurement, f"{{{QUOALISE}}}business", direction=direction)
            ET.SubElement(measurement, f"{{{QUOALISE}}}sampling", interval=interval)
            sensml = ET.SubElement(block, f"{{{SENML}}}sensml")
            for index, (instant, value) in enumerate(records[offset : offset + size]):
                attributes = {"t": str(int(instant.timestamp()) - base_time), "v": value}
                if index == 0:
                    attributes = {
                        "bn": f"urn:dev:prm:{prm}_{name}",
                        "bt": str(base_time),
                        **attributes,
                        "bu": unit,
                    }
                ET.SubElement(sensml, f"{{{SENML}}}senml", attributes)
        form: Form = self.plugin["xep_0004"].make_form(ftype="result", title=f"Get {direction} data")
        form.add_field(var="result", ftype="fixed", label=f"{direction} for {prm}", value="Success")
        session["payload"] = [form, quoalise]
        session["next"] = None
        return session

    async def _seed_curve(self, iq: Iq, session: dict[str, Any]) -> dict[str, Any]:
        fields = _fields(session)
        await self._delay()
        reply = self._request(iq, "get_consumption_load_curve", fields, "curve")
        session["next"] = None
        session["payload"] = None
        if reply.status != 200:
            body = reply.body if isinstance(reply.body, dict) else {}
            note = {"error": body.get("error"), "error_description": body.get("error_description", "")}
            session["notes"] = [("error", json.dumps(note, indent=4))]
            return session
        prm = fields["usage_point_id"]
        records = _records(reply.body, "curve")
        size = self.behaviour.chunk or max(1, len(records))
        for offset in range(0, len(records), size):
            message = self.make_message(
                mto=iq["from"], mbody="{raw data}", msubject=f"Consumption load curve for {prm}"
            )
            sensml = ET.Element(f"{{{SENML}}}sensml")
            for instant, value in records[offset : offset + size]:
                # Paris wall clock labelled UTC, as the 2020 proxy did.
                wall = instant.astimezone(data.PARIS).replace(tzinfo=UTC)
                ET.SubElement(
                    sensml,
                    f"{{{SENML}}}senml",
                    {"n": f"urn:dev:prm:{prm}_consumption_load", "t": f"{wall.timestamp():.1f}", "v": value, "u": "W"},
                )
            message.xml.append(sensml)
            message.send()
        return session


def _fields(session: dict[str, Any]) -> dict[str, str]:
    """The submitted form's values (one value per field)."""
    payload = session.get("payload")
    forms = payload if isinstance(payload, list) else [payload]
    values: dict[str, str] = {}
    for form in forms:
        if isinstance(form, Form):
            for var, value in form.get_values().items():
                values[var] = "\n".join(value) if isinstance(value, list) else str(value or "")
    return values


def _upstream_error(reply: measures.Reply) -> XMPPError:
    body = reply.body if isinstance(reply.body, dict) else {}
    code = body.get("error") or body.get("code")
    args = {"issuer": UPSTREAM_ISSUER}
    if reply.status < 500 and code:
        args["code"] = str(code)
    return XMPPError(
        "undefined-condition",
        text=str(body.get("error_description") or body.get("message") or "upstream error"),
        etype="cancel",
        extension="upstream-error",
        extension_ns=QUOALISE,
        extension_args=args,
    )


def _records(body: object, kind: measures.Kind) -> list[tuple[datetime, str]]:
    """(instant, value) of each point of a Data Connect 2026 body: the curve's END instants, the days' midnights.

    Naive Paris stamps are resolved by order (the autumn hour repeats), as Enedis' clients must.
    """
    assert isinstance(body, dict)
    points = body["grandeur"][0]["points"]
    out: list[tuple[datetime, str]] = []
    previous: datetime | None = None
    for point in points:
        if kind == "daily":
            instant = data.local_midnight_utc(date.fromisoformat(point["d"]))
        else:
            naive = datetime.fromisoformat(point["d"])
            candidates = sorted({naive.replace(tzinfo=data.PARIS, fold=fold).astimezone(UTC) for fold in (0, 1)})
            instant = next((c for c in candidates if previous is None or c > previous), candidates[-1])
        out.append((instant, str(point["v"])))
        previous = instant
    return out


def curve_truth(prm: str, direction: data.Direction, start: date, end: date) -> list[tuple[datetime, int]]:
    """The ground truth of ``[start, end)``: (interval END in UTC, W), for the tests' expectations."""
    days = (end - start).days
    return [p for i in range(days) for p in data.curve_points(prm, direction, start + timedelta(days=i))]
