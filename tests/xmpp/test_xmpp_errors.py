"""The consometers proxy source's error branches: odd SenML, odd proxies, dropped sessions, strangers, quotas.

Against the real Prosody server of ``conftest``: the fake proxy bot where it can play the part, else a minimal
XMPP client logged in as the proxy (`OddProxy`) that answers exactly what a test needs (silence, an error without
details, a command result without ``<command>``...). SenML parsing is checked on the functions themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, timedelta
import logging
import xml.etree.ElementTree as ET

from homeassistant.util.async_ import get_scheduled_timer_handles
import pytest
from slixmpp import ClientXMPP, Iq
from slixmpp.xmlstream import StanzaBase
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from custom_components.enedis.api import (
    CommunicationError,
    Direction,
    EnedisError,
    InvalidResponseError,
    Measure,
    Series,
    ServerError,
)
from custom_components.enedis.api.clock import ManualClock
from custom_components.enedis.api.errors import RateLimitError, RequestError, UnsupportedError
from custom_components.enedis.api.limiter import LimiterRegistry
from custom_components.enedis.api.xmpp import (
    AUTHORIZE,
    CLIENT,
    COMMANDS,
    QUOALISE,
    SENML,
    STANZAS,
    ConsometersProxy,
    Generation,
    ProxyUnreachableError,
    SenmlRecord,
    XmppSession,
    _Block,
    _data_blocks,
    note_error,
    parse_sensml,
    senml_body,
)
from tests.fake_consometers.bot import FakeProxy, curve_truth
from tests.fake_enedis import data
from tests.fake_enedis.state import FakeState
from tests.xmpp.conftest import PASSWORD, PROXY_JID, PROXY_PASSWORD, USER_JID, ProxyFactory, SourceFactory
from tests.xmpp.prosody import Prosody

PRM = "22516914714270"
DAY = date(2026, 11, 10)
DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
QUOALISE_NODES = ("get_authorize_uri", "get_load_curve", "get_daily")


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Wait for ``condition`` (another process's or the network's doing: no event to wait on)."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the state lives in other clients and the server
            await asyncio.sleep(0.05)


# --- SenML and notes, without a server --------------------------------------------------------------------


def _sensml(*records: str) -> ET.Element:
    return ET.fromstring(f'<sensml xmlns="{SENML}">{"".join(records)}</sensml>')  # noqa: S314


def test_senml_numbers_missing_odd_and_infinite() -> None:
    # A record without t (or an empty one) sits at the base time.
    assert parse_sensml(_sensml('<senml bn="urn:dev:prm:1_x" bt="1800" v="5" bu="W"/>', '<senml t="" v="6"/>')) == [
        SenmlRecord("urn:dev:prm:1_x", 1800.0, "5", "W"),
        SenmlRecord("urn:dev:prm:1_x", 1800.0, "6", "W"),
    ]
    with pytest.raises(InvalidResponseError, match=r": SenML t 'half past' is not a number$"):
        parse_sensml(_sensml('<senml bn="urn:dev:prm:1_x" bt="0" t="half past" v="1"/>'))
    with pytest.raises(InvalidResponseError, match=r": SenML bt is not finite$"):
        parse_sensml(_sensml('<senml bn="urn:dev:prm:1_x" bt="inf" t="0" v="1"/>'))
    with pytest.raises(InvalidResponseError, match=r": SenML t is not finite$"):
        parse_sensml(_sensml('<senml bn="urn:dev:prm:1_x" bt="0" t="nan" v="1"/>'))


@pytest.mark.parametrize(
    ("sampling", "step"),
    [
        (None, None),  # no <sampling> at all
        ("", None),
        ("   ", None),
        ("0", None),
        ("every half hour", None),  # neither ISO 8601 nor seconds
        ("PT15M", timedelta(minutes=15)),
        ("900", timedelta(minutes=15)),
    ],
)
def test_sampling_interval_absent_or_odd_falls_back_to_the_spacing(sampling: str | None, step: timedelta) -> None:
    meta = (
        ""
        if sampling is None
        else f'<meta xmlns="{QUOALISE}"><measurement><sampling interval="{sampling}"/></measurement></meta>'
    )
    quoalise = ET.fromstring(  # noqa: S314
        f'<quoalise xmlns="{QUOALISE}"><data>{meta}<sensml xmlns="{SENML}">'
        f'<senml bn="urn:dev:prm:{PRM}_consumption_load" bt="1800000000" t="0" v="10" bu="W"/>'
        '<senml t="900" v="20"/></sensml></data></quoalise>'
    )
    blocks = _data_blocks([quoalise])
    assert [block.step for block in blocks] == [step]
    body = senml_body(
        blocks, prm=PRM, direction=Direction.CONSUMPTION, measure=Measure.LOAD_CURVE, generation=Generation.QUOALISE
    )
    points = body["grandeur"][0]["points"]
    assert [p.get("p") for p in points] == [None if step is None else "PT15M"] * 2
    assert [p["v"] for p in points] == ["10", "20"]


def test_senml_time_out_of_range_is_an_invalid_response() -> None:
    name = f"urn:dev:prm:{PRM}_consumption_load"
    with pytest.raises(InvalidResponseError, match=r": SenML time out of range$"):
        senml_body(
            [_Block((SenmlRecord(name, 1e20, "1", "W"),))],
            prm=PRM,
            direction=Direction.CONSUMPTION,
            measure=Measure.LOAD_CURVE,
            generation=Generation.QUOALISE,
        )


def test_legacy_protocol_serves_no_daily_energy() -> None:
    name = f"urn:dev:prm:{PRM}_daily_consumption"
    with pytest.raises(UnsupportedError, match=r"serves no consumption daily_energy"):
        senml_body(
            [_Block((SenmlRecord(name, 1800000000, "1", "Wh"),))],
            prm=PRM,
            direction=Direction.CONSUMPTION,
            measure=Measure.DAILY_ENERGY,
            generation=Generation.LEGACY,
        )


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("the proxy lost its DataHub token", "the proxy lost its DataHub token"),
        ("bad thing: it broke", "bad thing: it broke"),  # a "code" with a space is no code
        ("  \n ", "the proxy answered an error note"),
        ("[1, 2]", "[1, 2]"),  # JSON, but no object
    ],
)
def test_note_without_a_code_is_a_server_error(text: str, description: str) -> None:
    error = note_error(text)
    assert type(error) is ServerError
    assert error.description == description
    assert error.code is None


async def test_unsupported_requests_and_contract_cost_no_request() -> None:
    source = ConsometersProxy(USER_JID, PASSWORD, proxy_jid=PROXY_JID, generation=Generation.LEGACY)
    for direction, measure in (
        (Direction.CONSUMPTION, Measure.DAILY_ENERGY),
        (Direction.PRODUCTION, Measure.LOAD_CURVE),
    ):
        with pytest.raises(UnsupportedError, match=r": the consometers proxy \(legacy\) serves no ") as refused:
            await source.async_fetch_window(PRM, direction, measure, DAY, DAY + timedelta(days=1))
        assert refused.value.prm == PRM
    with pytest.raises(UnsupportedError, match=r": the consometers proxy serves no contract data$"):
        await source.async_get_contract(PRM)
    assert source.request_count == 0
    assert not source.session.opened  # nothing connected
    session = XmppSession(USER_JID, PASSWORD, PROXY_JID)
    assert repr(session) == "<XmppSession to dataconnect-proxy@localhost>"
    assert PASSWORD not in repr(session)
    assert USER_JID not in repr(session)


# --- an odd proxy on the real server -----------------------------------------------------------------------

type CommandAnswer = Callable[[Iq], None]


class OddProxy(ClientXMPP):
    """A bare XMPP client (no disco, no ad-hoc plugin) logged in on the test server, answering by hand.

    ``nodes``: the command nodes it lists on disco#items (None: it never answers disco#items); ``disco_answer``: when
    set, what it does with a disco#items iq instead; ``answer``: what it does with a command iq; ``errors``: the iq
    errors it received (an error answered with an error breaks RFC 6120). Also serves as a stranger sending messages.
    """

    def __init__(self, jid: str, password: str, port: int) -> None:
        super().__init__(jid, password)
        self.enable_starttls = self.enable_direct_tls = False
        self.enable_plaintext = True
        self.plugin["feature_mechanisms"].unencrypted_plain = True
        self.port = port
        self.nodes: tuple[str, ...] | None = QUOALISE_NODES
        self.disco_answer: CommandAnswer | None = None
        self.errors: list[str] = []
        self.answer: CommandAnswer = lambda iq: iq.reply(clear=True).send()  # type: ignore[no-untyped-call]
        self.commands: list[str] = []
        self._ready = asyncio.Event()
        self.add_event_handler("session_start", self._on_start)
        self.register_handler(
            Callback("odd disco", MatchXPath(f"{{{CLIENT}}}iq/{{{DISCO_ITEMS}}}query"), self._on_disco)
        )
        self.register_handler(
            Callback("odd command", MatchXPath(f"{{{CLIENT}}}iq/{{{COMMANDS}}}command"), self._on_command)
        )
        self.register_handler(Callback("odd error", MatchXPath(f"{{{CLIENT}}}iq/{{{CLIENT}}}error"), self._on_error))

    def _on_start(self, _event: object) -> None:
        self.send_presence()
        self._ready.set()

    def _on_error(self, iq: StanzaBase) -> None:
        if iq.xml.get("type") == "error":
            self.errors.append(str(iq))

    def _on_disco(self, iq: StanzaBase) -> None:
        if iq["type"] == "get" and self.disco_answer is not None:
            assert isinstance(iq, Iq)
            self.disco_answer(iq)
            return
        if self.nodes is None or iq["type"] != "get":
            return  # silence
        reply = iq.reply(clear=True)
        query = ET.SubElement(reply.xml, f"{{{DISCO_ITEMS}}}query", node=COMMANDS)
        for node in self.nodes:
            ET.SubElement(query, f"{{{DISCO_ITEMS}}}item", jid=str(self.boundjid), node=node, name=node)
        reply.send()

    def _on_command(self, iq: StanzaBase) -> None:
        command = iq.xml.find(f"{{{COMMANDS}}}command")
        assert command is not None
        self.commands.append(command.get("node", ""))
        assert isinstance(iq, Iq)
        self.answer(iq)

    async def start(self) -> None:
        self.connect("127.0.0.1", self.port)
        await asyncio.wait_for(self._ready.wait(), 10)

    async def stop(self) -> None:
        await self.disconnect(wait=0)
        task = self._run_out_filters
        if task is not None:
            task.cancel()


def error_answer(condition: str) -> CommandAnswer:
    """An iq error with this stanza condition and a text."""

    def _answer(iq: Iq) -> None:
        reply = iq.reply(clear=True)  # type: ignore[no-untyped-call]
        reply.xml.set("type", "error")
        error = ET.SubElement(reply.xml, f"{{{CLIENT}}}error", type="wait")
        ET.SubElement(error, f"{{{STANZAS}}}{condition}")
        ET.SubElement(error, f"{{{STANZAS}}}text").text = f"{condition} now"
        reply.send()

    return _answer


def bare_error_answer(iq: Iq) -> None:
    """An iq error without any ``<error>`` child: only the request's payload, echoed.

    (Prosody discards an error stanza without any child before routing it, so the echo is what can reach a client.)
    """
    reply = iq.reply(clear=False)  # type: ignore[no-untyped-call]
    reply.xml.set("type", "error")
    reply.send()


# Answers slixmpp's own iq handling cannot read: its `IqError` knows a fixed list of conditions (policy-violation is
# not on it) and fails in its handler on any other, and it makes up feature-not-implemented for an error without
# details. The request must end at once with the condition's own typed error, not at its timeout.
UNUSUAL_ERRORS = [
    pytest.param(
        error_answer("policy-violation"),
        RateLimitError,
        "policy-violation: policy-violation now",
        id="policy-violation",
    ),
    pytest.param(
        error_answer("quota-exhausted"), ServerError, "quota-exhausted: quota-exhausted now", id="unknown-condition"
    ),
    pytest.param(bare_error_answer, ServerError, "the proxy answered an error without details", id="no-error-element"),
]
QUICKLY = 3.0
"""Seconds an iq error may take to end a request (its timeout is 10 s): a behaviour check, not a benchmark."""


@pytest.fixture
async def odd_proxy(prosody: Prosody) -> AsyncIterator[OddProxy]:
    proxy = OddProxy(PROXY_JID, PROXY_PASSWORD, prosody.port)
    await proxy.start()
    yield proxy
    await proxy.stop()


async def test_proxy_silent_on_disco_or_offering_neither_protocol(
    odd_proxy: OddProxy, make_source: SourceFactory
) -> None:
    odd_proxy.nodes = None
    source = make_source()
    with pytest.raises(ProxyUnreachableError, match=r": the proxy did not list its commands within 1.5 s$"):
        await source.async_check(1.5)
    odd_proxy.nodes = ("get_authorize_uri", "get_history")
    with pytest.raises(ProxyUnreachableError) as neither:
        await source.async_check(5)
    assert neither.value.description == (
        "the proxy offers neither protocol (commands: ['get_authorize_uri', 'get_history'])"
    )
    assert source.generation is None
    assert odd_proxy.commands == []


async def test_command_errors_by_stanza_condition(odd_proxy: OddProxy, make_source: SourceFactory) -> None:
    registry = LimiterRegistry(ManualClock())
    source = make_source(registry=registry, generation=Generation.QUOALISE)
    cases: list[tuple[str, type[EnedisError], str]] = [
        ("bad-request", RequestError, "bad-request: bad-request now"),
        ("jid-malformed", RequestError, "jid-malformed: jid-malformed now"),
        ("remote-server-timeout", CommunicationError, "remote-server-timeout: remote-server-timeout now"),
        ("resource-constraint", RateLimitError, "resource-constraint: resource-constraint now"),
    ]
    for condition, kind, description in cases:
        odd_proxy.answer = error_answer(condition)
        with pytest.raises(kind) as raised:
            await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.DAILY_ENERGY, DAY, DAY + timedelta(1))
        assert type(raised.value) is kind, condition
        assert raised.value.description == description
        assert raised.value.prm == PRM
    # The throttling condition blocks the proxy's quota for the default back-off (no hint in a stanza error).
    [limiter] = registry.snapshot().values()
    assert limiter["blocked_for_s"] == 300
    assert odd_proxy.commands == ["get_daily"] * len(cases)
    assert source.request_count == len(cases)


@pytest.mark.parametrize(("answer", "kind", "description"), UNUSUAL_ERRORS)
async def test_unusual_command_errors_end_the_request_at_once(
    odd_proxy: OddProxy,
    make_source: SourceFactory,
    answer: CommandAnswer,
    kind: type[EnedisError],
    description: str,
) -> None:
    registry = LimiterRegistry(ManualClock())
    source = make_source(registry=registry, generation=Generation.QUOALISE, request_timeout=10.0)
    await source.async_open()
    await source.session.async_wait_ready(5)  # the clock measures the request alone
    odd_proxy.answer = answer
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(EnedisError) as raised:
        await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.DAILY_ENERGY, DAY, DAY + timedelta(1))
    elapsed = loop.time() - started
    assert type(raised.value) is kind
    assert raised.value.description == description
    assert raised.value.prm == PRM
    assert elapsed < QUICKLY
    assert odd_proxy.commands == ["get_daily"]
    assert odd_proxy.errors == []  # the proxy's error was not answered with an error
    [limiter] = registry.snapshot().values()
    assert limiter["blocked_for_s"] == (300 if kind is RateLimitError else 0)


@pytest.mark.parametrize(("answer", "kind", "description"), UNUSUAL_ERRORS)
async def test_unusual_listing_errors_end_the_check_at_once(
    odd_proxy: OddProxy,
    make_source: SourceFactory,
    answer: CommandAnswer,
    kind: type[EnedisError],
    description: str,
) -> None:
    source = make_source()
    await source.async_open()
    await source.session.async_wait_ready(5)
    odd_proxy.disco_answer = answer
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(EnedisError) as raised:
        await source.async_check(10.0)
    elapsed = loop.time() - started
    assert type(raised.value) is kind
    assert raised.value.description == description
    assert elapsed < QUICKLY
    assert source.generation is None
    assert odd_proxy.errors == []


async def test_command_result_without_command_element(odd_proxy: OddProxy, make_source: SourceFactory) -> None:
    odd_proxy.answer = lambda iq: iq.reply(clear=True).send()  # type: ignore[no-untyped-call]
    source = make_source()
    assert await source.async_check(5) is Generation.QUOALISE
    with pytest.raises(InvalidResponseError) as odd:
        await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, DAY, DAY + timedelta(1))
    assert odd.value.description == "the proxy answered get_load_curve without a command"
    assert odd.value.prm == PRM
    assert odd_proxy.commands == ["get_load_curve"]


async def test_stranger_cannot_grant_consent(
    prosody: Prosody, make_proxy: ProxyFactory, make_source: SourceFactory
) -> None:
    bot = await make_proxy("head")
    prosody.add_account("mallory", "mallory-pw")
    stranger = OddProxy("mallory@localhost/x", "mallory-pw", prosody.port)
    await stranger.start()
    try:
        source = make_source()
        await source.async_open()
        await source.async_get_authorize_uri("state-1")
        message = stranger.make_message(mto=USER_JID, mbody="Access granted", mtype="chat")
        x = ET.SubElement(message.xml, f"{{{AUTHORIZE}}}x")
        ET.SubElement(x, f"{{{AUTHORIZE}}}usage-point").text = "99999999999999"
        ET.SubElement(x, f"{{{AUTHORIZE}}}state")
        message.send()
        with pytest.raises(TimeoutError):
            await source.async_wait_authorization("state-1", 1.0)
        bot.complete_authorization([PRM])
        assert await source.async_wait_authorization("state-1", 5.0) == (PRM,)
        assert await source.async_get_prms() == [PRM]
    finally:
        await stranger.stop()


# --- the fake proxy bot ------------------------------------------------------------------------------------


async def test_insecure_authorize_page_is_refused(
    prosody: Prosody, fake_state: FakeState, make_source: SourceFactory
) -> None:
    bot = FakeProxy(
        PROXY_JID,
        PROXY_PASSWORD,
        fake_state,
        address=("127.0.0.1", prosody.port),
        authorize_page="http://fake-proxy.invalid/authorize",
    )
    await bot.start()
    try:
        source = make_source()
        with pytest.raises(InvalidResponseError) as refused:
            await source.async_get_authorize_uri("state-1")
        assert refused.value.description == "the proxy answered get_authorize_uri without an https authorize_uri"
        assert [call.node for call in bot.behaviour.calls] == ["get_authorize_uri"]
        assert source.request_count == 1
    finally:
        await bot.stop()


async def test_rate_limit_relayed_by_the_proxy_blocks_its_quota(
    make_proxy: ProxyFactory, make_source: SourceFactory, clock: ManualClock
) -> None:
    bot = await make_proxy("head")
    bot.allowed.add((USER_JID, PRM))
    registry = LimiterRegistry(clock)
    source = make_source(registry=registry)
    bot.behaviour.fail_next = ("LIMIT-REACHED", "Quota Q3 reached")
    with pytest.raises(RateLimitError) as hinted:
        await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.DAILY_ENERGY, DAY, DAY + timedelta(1))
    assert hinted.value.code == "LIMIT-REACHED"
    assert hinted.value.retry_after == 1.0
    [limiter] = registry.snapshot().values()
    assert limiter["blocked_for_s"] == 1
    clock.advance(1.5)
    bot.behaviour.fail_next = ("LIMIT-REACHED", "Too many requests")
    with pytest.raises(RateLimitError) as bare:
        await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.DAILY_ENERGY, DAY, DAY + timedelta(1))
    assert bare.value.retry_after is None
    [limiter] = registry.snapshot().values()
    assert limiter["blocked_for_s"] == 300
    with pytest.raises(RateLimitError) as blocked:  # refused here: the proxy is not asked during the block
        await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.DAILY_ENERGY, DAY, DAY + timedelta(1))
    assert blocked.value.retry_after == pytest.approx(300)
    assert len(bot.behaviour.calls) == 2
    clock.advance(301)
    series = await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.DAILY_ENERGY, DAY, DAY + timedelta(1))
    assert [r.value for r in series.readings] == [data.daily_wh(PRM, data.CONS, DAY)]
    assert len(bot.behaviour.calls) == 3
    assert source.request_count == 3


async def test_late_legacy_data_is_not_given_to_the_next_request(
    make_proxy: ProxyFactory, make_source: SourceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.enedis.api.xmpp")
    bot = await make_proxy("seed")
    bot.allowed.add((USER_JID, PRM))
    bot.behaviour.delay = 1.5
    source = make_source(request_timeout=1.0, generation=Generation.LEGACY)
    late_day = DAY - timedelta(days=3)
    with pytest.raises(CommunicationError, match=r": the proxy did not answer get_consumption_load_curve within 1 s$"):
        await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, late_day, DAY - timedelta(2))
    await until(lambda: "data message outside a request: ignored" in caplog.text)
    bot.behaviour.delay = 0
    series = await source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, DAY, DAY + timedelta(1))
    truth = curve_truth(PRM, data.CONS, DAY, DAY + timedelta(1))
    assert [r.end.astimezone(UTC) for r in series.readings] == [end for end, _ in truth]
    assert [r.value for r in series.readings] == [watts for _, watts in truth]


# --- dropped sessions ----------------------------------------------------------------------------------------


async def _in_flight(source: ConsometersProxy) -> asyncio.Task[Series]:
    """Start a load-curve request and return once it was sent (the bot holds its answer for ``delay``)."""
    task = asyncio.ensure_future(
        source.async_fetch_window(PRM, Direction.CONSUMPTION, Measure.LOAD_CURVE, DAY, DAY + timedelta(1))
    )
    await asyncio.sleep(0.4)
    assert not task.done()
    return task


async def _reconnected(source: ConsometersProxy, connections: int) -> None:
    await until(lambda: source.session.connections >= connections and source.session.ready, 10)


def _handlers(client: ClientXMPP) -> list[str]:
    """The names of the stream handlers slixmpp holds (one per iq awaiting its answer, among others)."""
    return sorted(handler.name for handler in client._XMLStream__handlers)  # type: ignore[attr-defined]


def _iq_timers(client: ClientXMPP) -> list[str]:
    """Iq timeouts still armed: in slixmpp's schedule and in the event loop."""
    scheduled = [name for name in client.scheduled_events if name.startswith("IqTimeout_")]
    handles = get_scheduled_timer_handles(asyncio.get_running_loop())
    return scheduled + [repr(handle) for handle in handles if not handle.cancelled() and "IqTimeout_" in repr(handle)]


async def test_request_cut_by_a_drop_leaves_nothing_pending(
    make_proxy: ProxyFactory, make_source: SourceFactory
) -> None:
    bot = await make_proxy("head")
    bot.allowed.add((USER_JID, PRM))
    bot.behaviour.delay = 1.0
    source = make_source(request_timeout=10.0)
    assert await source.async_check(5) is Generation.QUOALISE
    client = source.session._client  # the slixmpp client, kept across reconnections
    assert client is not None
    handlers = _handlers(client)
    task = await _in_flight(source)
    source.session.abort()
    await asyncio.wait_for(task, 15)  # answered after the resend
    assert source.session.connections == 2
    # Neither the cut iq nor its resend left a handler or a timeout behind (the cut one's would fire in 10 s).
    assert _handlers(client) == handlers
    assert _iq_timers(client) == []


async def test_request_cut_by_closing_ends_without_reopening(
    make_proxy: ProxyFactory, make_source: SourceFactory
) -> None:
    bot = await make_proxy("head")
    bot.allowed.add((USER_JID, PRM))
    bot.behaviour.delay = 3.0
    source = make_source(request_timeout=10.0)
    assert await source.async_check(5) is Generation.QUOALISE
    client = source.session._client  # the slixmpp client, kept across reconnections
    assert client is not None
    handlers = _handlers(client)
    task = await _in_flight(source)
    await source.async_close()
    with pytest.raises(CommunicationError) as closed:
        await asyncio.wait_for(task, 3)
    assert closed.value.description == "the XMPP session was closed during get_load_curve"
    assert closed.value.prm == PRM
    assert not source.session.opened  # not sent again: that would log in anew after the close
    assert source.session.connections == 1
    assert _handlers(client) == handlers
    assert _iq_timers(client) == []


async def test_listing_cut_by_a_drop_is_a_communication_error(odd_proxy: OddProxy, make_source: SourceFactory) -> None:
    odd_proxy.nodes = None  # it never answers: only the drop ends the listing
    source = make_source()
    await source.async_open()
    await source.session.async_wait_ready(5)
    client = source.session._client  # the slixmpp client, kept across reconnections
    assert client is not None
    handlers = _handlers(client)
    task = asyncio.ensure_future(source.async_check(10.0))
    await asyncio.sleep(0.3)
    assert not task.done()
    source.session.abort()
    with pytest.raises(CommunicationError) as dropped:
        await asyncio.wait_for(task, 3)
    assert type(dropped.value) is CommunicationError
    assert dropped.value.description == "the XMPP session dropped while listing the proxy's commands"
    assert _handlers(client) == handlers
    assert _iq_timers(client) == []
    await _reconnected(source, 2)


async def test_request_cut_by_a_drop_is_sent_again_once(
    make_proxy: ProxyFactory, make_source: SourceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot = await make_proxy("head")
    bot.allowed.add((USER_JID, PRM))
    bot.behaviour.delay = 1.0
    source = make_source()
    assert await source.async_check(5) is Generation.QUOALISE
    task = await _in_flight(source)
    source.session.abort()
    series = await asyncio.wait_for(task, 15)
    truth = curve_truth(PRM, data.CONS, DAY, DAY + timedelta(1))
    assert [r.value for r in series.readings] == [watts for _, watts in truth]
    assert source.session.connections == 2
    assert source.request_count == 1  # one quota slot for the request and its resend
    await until(lambda: len(bot.behaviour.calls) == 2)  # the lost first call is recorded when its delay ends
    assert [call.node for call in bot.behaviour.calls] == ["get_load_curve", "get_load_curve"]
    assert "XMPP session dropped during get_load_curve: sending it again once reconnected" in caplog.text
    assert "SEND:" in caplog.text  # the stream log of both logins was captured, without the password
    assert PASSWORD not in caplog.text


async def test_request_cut_twice_is_a_communication_error(make_proxy: ProxyFactory, make_source: SourceFactory) -> None:
    bot = await make_proxy("head")
    bot.allowed.add((USER_JID, PRM))
    bot.behaviour.delay = 8.0
    source = make_source()
    assert await source.async_check(5) is Generation.QUOALISE
    task = await _in_flight(source)
    source.session.abort()
    await _reconnected(source, 2)
    await asyncio.sleep(0.4)  # the request went again
    assert not task.done()
    source.session.abort()
    with pytest.raises(CommunicationError) as twice:
        await asyncio.wait_for(task, 5)
    assert twice.value.description == "the XMPP session dropped twice during get_load_curve"
    assert twice.value.prm == PRM
    assert PASSWORD not in str(twice.value)
    assert source.request_count == 1
    await _reconnected(source, 3)  # the session itself recovers


async def test_open_twice_keeps_one_session(make_proxy: ProxyFactory, make_source: SourceFactory) -> None:
    await make_proxy("head")
    source = make_source()
    await source.async_open()
    await source.async_open()
    assert await source.async_check(5) is Generation.QUOALISE
    await asyncio.sleep(0.5)
    assert source.session.connections == 1


async def test_without_host_the_jid_domain_is_dialled_on_5222(make_source: SourceFactory) -> None:
    """No host nor port: slixmpp dials the JID's domain on the standard port (an IP literal: no DNS query)."""
    headers: list[bytes] = []

    async def _accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers.append(await reader.read(400))
        writer.close()

    try:
        server = await asyncio.start_server(_accept, "127.0.0.1", 5222)
    except OSError as err:
        pytest.fail(f"127.0.0.1:5222 is taken: {err}")
    async with server:
        source = make_source(jid="home@127.0.0.1", host=None, port=None)
        with pytest.raises(CommunicationError, match=r": no XMPP session with the server within 1 s"):
            await source.async_check(1.0)
        await source.async_close()
    assert headers
    assert b"to='127.0.0.1'" in headers[0] or b'to="127.0.0.1"' in headers[0]
