"""The SGE source through the fake gateway served over real mutual TLS (a CA, server and client certificates
generated for the test): ground truth, contract, faults, refused certificates, the gateway mode, pacing,
configuration errors, unreachable or silent hosts, odd answers (truncated XML, pages, 429), redacted secrets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
import itertools
import logging
from pathlib import Path
import socket
import ssl
import time as _time

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
import pytest

from custom_components.enedis.api import Direction, Measure
from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.api.clock import ManualClock, SystemClock
from custom_components.enedis.api.errors import (
    AuthError,
    CommunicationError,
    InvalidResponseError,
    NoDataError,
    NotHolderError,
    RateLimitError,
    RequestError,
    ServerError,
    WrongDirectionError,
)
from custom_components.enedis.api.limiter import LimiterRegistry
from custom_components.enedis.api.sge import (
    CDTC_SERVICE,
    SGE_CONTRACT,
    CertificateError,
    InvalidCertificateError,
    SgeSource,
    SgeTls,
)
from custom_components.enedis.api.sge_parsers import LoginRefusedError, OutOfPerimeterError, UnknownPrmError
from tests.fake_enedis import data
from tests.fake_enedis.server import create_app
from tests.fake_enedis.sge import DEMO_LOGIN, SGE_KEY, SgeConfig, fault, request_times
from tests.fake_enedis.state import FakeState
from tests.fake_enedis.tls import Pki, make_pki, server_context

TODAY = date(2026, 11, 22)
P0 = "22516914714270"  # consumption, load curve on
P2 = "32320647321714"  # no load curve
P_PROD = "24880057139941"  # production only
P_AUTO = "12655648759651"  # self-consumption
C, P = Direction.CONSUMPTION, Direction.PRODUCTION


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@dataclass
class Sge:
    state: FakeState
    config: SgeConfig
    url: str
    session: aiohttp.ClientSession
    registry: LimiterRegistry
    pki: Pki
    tls: SgeTls

    def source(self, *, tls: SgeTls | None = None, login: str = DEMO_LOGIN, prms: tuple[str, ...] = (P0,)) -> SgeSource:
        return SgeSource(self.session, login, prms, tls=tls or self.tls, base_url=self.url, registry=self.registry)


async def _serve(app: web.Application, context: ssl.SSLContext) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"https://{host}:{port}"


@pytest.fixture
async def sge(pki: Pki, tmp_path: Path, socket_enabled: None) -> AsyncIterator[Sge]:
    """The fake gateway over HTTPS on 127.0.0.1, requiring a client certificate of the test CA."""
    clock = ManualClock(datetime(2026, 11, 22, 11, 0, tzinfo=UTC))
    state = FakeState(today=TODAY, time_of_day=time(12, 0), clock=clock.monotonic)
    app = create_app(state)
    runner, url = await _serve(app, server_context(pki, tmp_path))
    tls = await SgeTls.async_load(pki.client.cert_pem, pki.client.key_pem, ca_pem=pki.ca_pem)
    async with aiohttp.ClientSession() as session:
        yield Sge(state, app[SGE_KEY], url, session, LimiterRegistry(clock), pki, tls)
    await runner.cleanup()


# --------------------------------------------------------------------------------------------- ground truth


def _local(instant: datetime) -> datetime:
    return instant.astimezone(PARIS)


async def test_load_curve_is_the_ground_truth(sge: Sge) -> None:
    start, end = date(2026, 10, 24), date(2026, 10, 31)  # 2026-10-25: the autumn change (50 half-hours)
    series = await sge.source().async_fetch_window(P0, C, Measure.LOAD_CURVE, start, end)
    expected = [
        (end_utc, watts)
        for day in (start + timedelta(days=i) for i in range(7))
        for end_utc, watts in data.curve_points(P0, data.CONS, day)
    ]
    assert [(r.end, r.value) for r in series.readings] == expected
    assert len(series.readings) == 7 * 48 + 2
    assert series.readings[0].start == datetime(2026, 10, 24, tzinfo=PARIS)


async def test_daily_energy_max_power_and_index_are_the_ground_truth(sge: Sge) -> None:
    source = sge.source()
    start, end = date(2026, 9, 1), date(2026, 11, 1)
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    daily = await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, start, end)
    assert [r.value for r in daily.readings] == [data.daily_wh(P0, data.CONS, d) for d in days]
    peaks = await source.async_fetch_window(P0, C, Measure.MAX_POWER, start, end)
    expected_peaks = [data.max_power(P0, d) for d in days]
    assert [(r.value, r.at) for r in peaks.readings] == [
        (p[0], p[1].replace(tzinfo=PARIS)) for p in expected_peaks if p is not None
    ]
    index = await source.async_get_index(P0, C, start, end)
    assert index.totaliser is not None
    first = index.totaliser.values[0]
    assert first.at == datetime(2026, 9, 1, tzinfo=PARIS)
    assert first.value_wh == sum(data.index_registers(P0, data.CONS, start).values())


async def test_production_is_injection(sge: Sge) -> None:
    start, end = date(2026, 11, 1), date(2026, 11, 8)
    series = await sge.source(prms=(P_AUTO,)).async_fetch_window(P_AUTO, P, Measure.DAILY_ENERGY, start, end)
    assert [r.value for r in series.readings] == [
        data.daily_wh(P_AUTO, data.PROD, start + timedelta(days=i)) for i in range(7)
    ]


async def test_series_cut_in_seven_day_windows(sge: Sge) -> None:
    source = sge.source()
    series = await source.async_get_series(P0, C, Measure.LOAD_CURVE, date(2026, 10, 1), date(2026, 10, 21))
    assert source.request_count == 3
    assert len(series.readings) == 20 * 48
    assert sge.state.count("ConsultationMesuresDetaillees") == 3


async def test_contract_is_the_ground_truth(sge: Sge) -> None:
    contract = await sge.source().async_get_contract(P0)
    truth = data.contract(P0)
    assert truth is not None
    assert contract.subscribed_power_kva == truth.subscribed_power_kva
    assert contract.offpeak_hours == truth.offpeak_hours
    assert contract.distribution_tariff == truth.distribution_tariff
    assert contract.meter_type == truth.meter_type
    assert contract.segment == truth.segment


# --------------------------------------------------------------------------------------------- refusals


async def test_refusals_are_typed_and_name_the_prm(sge: Sge) -> None:
    sge.config.out_of_perimeter.add(P0)
    source = sge.source(prms=(P0, P2, "99999999999999"))
    with pytest.raises(OutOfPerimeterError) as perimeter:
        await source.async_get_contract(P0)
    assert perimeter.value.prm == P0
    assert perimeter.value.code == "SGT403"
    assert isinstance(perimeter.value, NotHolderError)
    with pytest.raises(UnknownPrmError) as unknown:
        await source.async_fetch_window("99999999999999", C, Measure.DAILY_ENERGY, date(2026, 11, 1), date(2026, 11, 2))
    assert unknown.value.prm == "99999999999999"
    with pytest.raises(NoDataError) as no_curve:
        await source.async_fetch_window(P2, C, Measure.LOAD_CURVE, date(2026, 11, 1), date(2026, 11, 2))
    assert no_curve.value.code == "SGT4G3"
    with pytest.raises(WrongDirectionError):
        await source.async_fetch_window(P2, P, Measure.DAILY_ENERGY, date(2026, 11, 1), date(2026, 11, 2))
    with pytest.raises(LoginRefusedError) as login:
        await sge.source(login="someone@else.example").async_get_contract(P2)
    assert isinstance(login.value, AuthError)
    with pytest.raises(RequestError):  # a date in the future: SGT400
        await source.async_fetch_window(P2, C, Measure.DAILY_ENERGY, TODAY, TODAY + timedelta(days=2))


async def test_malformed_prm_sends_nothing(sge: Sge) -> None:
    source = sge.source()
    with pytest.raises(RequestError):
        await source.async_get_contract("1234")
    assert source.request_count == 0
    assert not sge.state.requests


async def test_technical_faults_and_plain_5xx_are_server_errors(sge: Sge) -> None:
    source = sge.source()
    sge.state.add_fault("technical_error")
    with pytest.raises(ServerError) as technical:
        await source.async_get_contract(P0)
    assert technical.value.code == "SGT500"
    assert technical.value.retryable
    sge.state.add_fault("plain_500")
    with pytest.raises(ServerError) as plain:
        await source.async_get_contract(P0)
    assert plain.value.status == 503
    assert (await source.async_get_contract(P0)).prm == P0


# --------------------------------------------------------------------------------------------- TLS


async def test_a_certificate_of_another_ca_is_refused_by_the_tls_layer(sge: Sge) -> None:
    stranger = await SgeTls.async_load(sge.pki.stranger.cert_pem, sge.pki.stranger.key_pem, ca_pem=sge.pki.ca_pem)
    with pytest.raises(CertificateError) as caught:
        await sge.source(tls=stranger).async_get_contract(P0)
    assert isinstance(caught.value, AuthError)
    assert not sge.state.requests  # refused before HTTP: the application never saw it


async def test_a_tls12_server_refuses_it_in_the_handshake(pki: Pki, tmp_path: Path, socket_enabled: None) -> None:
    context = server_context(pki, tmp_path)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    state = FakeState(today=TODAY, time_of_day=time(12, 0))
    runner, url = await _serve(create_app(state), context)
    try:
        async with aiohttp.ClientSession() as session:
            for issued, ok in ((pki.stranger, False), (pki.client, True)):
                tls = await SgeTls.async_load(issued.cert_pem, issued.key_pem, ca_pem=pki.ca_pem)
                source = SgeSource(session, DEMO_LOGIN, (P0,), tls=tls, base_url=url, registry=LimiterRegistry())
                if ok:
                    assert (await source.async_get_contract(P0)).prm == P0
                else:
                    with pytest.raises(CertificateError):
                        await source.async_get_contract(P0)
    finally:
        await runner.cleanup()


async def test_an_untrusted_server_is_refused(sge: Sge) -> None:
    system_trust = await SgeTls.async_load(sge.pki.client.cert_pem, sge.pki.client.key_pem)  # no test CA
    with pytest.raises(CertificateError):
        await sge.source(tls=system_trust).async_get_contract(P0)


async def test_bad_pems_are_refused_without_showing_the_key(pki: Pki) -> None:
    with pytest.raises(InvalidCertificateError) as garbage:
        await SgeTls.async_load("not a certificate", pki.client.key_pem)
    assert "PRIVATE KEY" not in str(garbage.value)
    with pytest.raises(InvalidCertificateError):  # the key of another certificate
        await SgeTls.async_load(pki.client.cert_pem, pki.stranger.key_pem)
    with pytest.raises(InvalidCertificateError):
        await SgeTls.async_load(pki.client.cert_pem, pki.client.key_pem, ca_pem="not a CA")


async def test_an_encrypted_key_is_refused_without_a_prompt(pki: Pki) -> None:
    """No password can be typed in Home Assistant: the key is read with an empty one and refused."""
    key = serialization.load_pem_private_key(pki.client.key_pem.encode("ascii"), password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"phrase-secrete"),
    ).decode("ascii")
    assert "ENCRYPTED PRIVATE KEY" in encrypted
    with pytest.raises(InvalidCertificateError) as caught:
        await SgeTls.async_load(pki.client.cert_pem, encrypted, ca_pem=pki.ca_pem)
    assert str(caught.value).startswith("InvalidCertificateError: the certificate and key do not load (")
    assert "PRIVATE KEY" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


async def test_pems_pasted_on_one_line_still_load(sge: Sge) -> None:
    """A PEM typed in a one-line (password) field loses its new lines: it is rebuilt, and the server accepts it."""
    tls = await SgeTls.async_load(
        sge.pki.client.cert_pem.replace("\n", ""),
        sge.pki.client.key_pem.replace("\n", " "),
        ca_pem=sge.pki.ca_pem.replace("\n", ""),
    )
    assert (await sge.source(tls=tls).async_get_contract(P0)).prm == P0


async def test_secrets_and_location(sge: Sge) -> None:
    source = sge.source()
    assert source.secrets() == (sge.pki.client.key_pem,)
    assert "PRIVATE KEY" not in repr(source)
    assert "PRIVATE KEY" not in repr(sge.tls)
    assert source.location == f"sge {sge.url}"
    assert SgeSource(sge.session, DEMO_LOGIN, (P0,), tls=sge.tls, environment="homologation").location == (
        "sge homologation"
    )
    assert source.contract is SGE_CONTRACT
    with pytest.raises(ValueError, match="either"):
        SgeSource(sge.session, DEMO_LOGIN, (P0,), tls=sge.tls, gateway_key="k", base_url=sge.url)


# --------------------------------------------------------------------------------------------- gateway


async def test_api_gateway_with_a_key_header(socket_enabled: None) -> None:
    state = FakeState(today=TODAY, time_of_day=time(12, 0))
    app = create_app(state)
    app[SGE_KEY].gateway_key = "gw-secret-key-123"
    app[SGE_KEY].gateway_header = "X-Api-Key"
    server = TestServer(app)
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    try:
        async with aiohttp.ClientSession() as session:

            def source(key: str) -> SgeSource:
                return SgeSource(
                    session,
                    DEMO_LOGIN,
                    (P0,),
                    base_url=url,
                    gateway_key=key,
                    gateway_header="X-Api-Key",
                    registry=LimiterRegistry(),
                )

            assert (await source("gw-secret-key-123").async_get_contract(P0)).prm == P0
            wrong = source("wrong-key-456")
            with pytest.raises(AuthError) as caught:
                await wrong.async_get_contract(P0)
            assert caught.value.status == 401
            assert "wrong-key-456" not in str(caught.value)
            assert wrong.secrets() == ("wrong-key-456",)
            assert wrong.location == f"sge {url}"
    finally:
        await server.close()


# --------------------------------------------------------------------------------------------- pacing


async def test_at_most_one_call_per_second_on_the_fake_s_log(pki: Pki, tmp_path: Path, socket_enabled: None) -> None:
    """Real clocks: sequential and concurrent calls reach the server at least 1 s apart."""
    state = FakeState(today=TODAY, time_of_day=time(12, 0), clock=_time.monotonic)
    runner, url = await _serve(create_app(state), server_context(pki, tmp_path))
    try:
        tls = await SgeTls.async_load(pki.client.cert_pem, pki.client.key_pem, ca_pem=pki.ca_pem)
        async with aiohttp.ClientSession() as session:
            source = SgeSource(
                session, DEMO_LOGIN, (P0,), tls=tls, base_url=url, registry=LimiterRegistry(SystemClock())
            )
            await source.async_get_contract(P0)
            await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, date(2026, 11, 1), date(2026, 11, 8))
            await asyncio.gather(
                source.async_fetch_window(P0, C, Measure.LOAD_CURVE, date(2026, 11, 1), date(2026, 11, 8)),
                source.async_fetch_window(P0, C, Measure.MAX_POWER, date(2026, 11, 1), date(2026, 11, 8)),
            )
    finally:
        await runner.cleanup()
    times = request_times(state)
    assert len(times) == 4
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1.0, gaps


# --------------------------------------------------------------------------------------------- configuration


async def test_incomplete_or_unknown_configurations_are_refused(sge: Sge) -> None:
    with pytest.raises(ValueError, match=r"^a gateway key needs the gateway's base URL$") as no_url:
        SgeSource(sge.session, DEMO_LOGIN, (P0,), gateway_key="gw-secret-key-123")
    assert "gw-secret-key-123" not in str(no_url.value)
    with pytest.raises(ValueError, match=r"^unknown SGE environment 'staging' \(expected one of"):
        SgeSource(sge.session, DEMO_LOGIN, (P0,), tls=sge.tls, environment="staging")
    with pytest.raises(ValueError, match=r"^unknown access framework 'TOUT'$"):
        SgeSource(sge.session, DEMO_LOGIN, (P0,), tls=sge.tls, access_framework="TOUT")
    # A base URL makes the environment's name irrelevant; the other frameworks of the XSD are accepted.
    other = SgeSource(
        sge.session,
        DEMO_LOGIN,
        (P0,),
        tls=sge.tls,
        environment="staging",
        base_url=sge.url,
        access_framework="SERVICE_ACCES",
    )
    assert other.location == f"sge {sge.url}"


async def test_configured_prms_are_listed_without_a_request(sge: Sge) -> None:
    source = sge.source(prms=(f" {P0} ", P2))
    assert await source.async_get_prms() == [P0, P2]
    assert source.request_count == 0
    assert not sge.state.requests


async def test_both_services_spend_one_budget_of_one_call_per_second(sge: Sge) -> None:
    source = sge.source()
    assert {source.api_name(d, m) for d in Direction for m in Measure} == {"sge"}
    assert source.budget_wait(1) == 0
    await source.async_get_contract(P0)  # the contract service...
    assert source.budget_wait(1) == pytest.approx(1.1)  # ...holds the measures' slot 1 s (+0.1 s) after its answer
    assert source.requests == {"sge": 1}


async def test_an_empty_or_reversed_window_sends_nothing(sge: Sge) -> None:
    source = sge.source()
    for start, end in ((date(2026, 11, 1), date(2026, 11, 1)), (date(2026, 11, 2), date(2026, 11, 1))):
        with pytest.raises(RequestError) as caught:
            await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, start, end)
        assert caught.value.code == "invalid_dates"
        assert caught.value.prm == P0
    assert source.request_count == 0
    assert not sge.state.requests


# --------------------------------------------------------------------------------------------- transport failures


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_slow_answer_is_a_communication_error(sge: Sge) -> None:
    sge.state.arrival_delay = lambda _path: 1.0
    source = SgeSource(
        sge.session, DEMO_LOGIN, (P0,), tls=sge.tls, base_url=sge.url, registry=sge.registry, request_timeout=0.2
    )
    with pytest.raises(CommunicationError) as caught:
        await source.async_get_contract(P0)
    assert type(caught.value) is CommunicationError
    assert caught.value.description == f"timeout calling {sge.url.removeprefix('https://')} {CDTC_SERVICE}"
    assert caught.value.retryable
    assert caught.value.prm == P0
    assert source.request_count == 1


async def test_an_unreachable_host_is_no_certificate_refusal(sge: Sge, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing listens: a communication error (retried later), not a refused certificate (a repair)."""
    caplog.set_level(logging.DEBUG)
    host = f"127.0.0.1:{_closed_port()}"
    direct = SgeSource(sge.session, DEMO_LOGIN, (P0,), tls=sge.tls, base_url=f"https://{host}", registry=sge.registry)
    gateway = SgeSource(
        sge.session,
        DEMO_LOGIN,
        (P0,),
        base_url=f"http://{host}",
        gateway_key="gw-secret-key-123",
        registry=sge.registry,
    )
    for source in (direct, gateway):
        with pytest.raises(CommunicationError) as caught:
            await source.async_get_contract(P0)
        assert type(caught.value) is CommunicationError
        assert caught.value.description == f"cannot reach {host} {CDTC_SERVICE}: ClientConnectorError"
        assert source.request_count == 1
    for secret in ("gw-secret-key-123", "PRIVATE KEY"):
        assert secret not in caplog.text


async def test_a_host_dropping_the_call_then_silent_is_no_certificate_refusal(sge: Sge) -> None:
    """The call is reset, the TCP probe connects, the TLS probe gets no answer: not a refused certificate."""
    connections: list[int] = []
    release = asyncio.Event()

    async def drop_then_hang(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections) + 1)
        if len(connections) > 1:
            await release.wait()
        writer.transport.abort()

    server = await asyncio.start_server(drop_then_hang, "127.0.0.1", 0)
    host = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        source = SgeSource(
            sge.session,
            DEMO_LOGIN,
            (P0,),
            tls=sge.tls,
            base_url=f"https://{host}",
            registry=sge.registry,
            request_timeout=0.3,
        )
        with pytest.raises(CommunicationError) as caught:
            await source.async_get_contract(P0)
    finally:
        release.set()
        server.close()
        await server.wait_closed()
    assert type(caught.value) is CommunicationError
    assert caught.value.description == f"cannot reach {host} {CDTC_SERVICE}: ClientConnectorError"
    assert connections == [1, 2, 3]  # the call, the bare TCP connection, the TLS handshake left unanswered


# --------------------------------------------------------------------------------------------- odd answers


@asynccontextmanager
async def _answering(
    replies: list[web.Response], context: ssl.SSLContext | None
) -> AsyncIterator[tuple[str, list[str]]]:
    """A server answering each POST with the next of ``replies`` (over TLS with ``context``); yields its URL and
    the paths it was asked."""
    asked: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        asked.append(request.path)
        return replies.pop(0)

    app = web.Application()
    app.router.add_post("/{service:.*}", answer)
    if context is None:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}"
    else:
        runner, url = await _serve(app, context)
    try:
        yield url, asked
    finally:
        await runner.cleanup()


async def test_a_truncated_or_non_xml_answer_is_invalid(sge: Sge, tmp_path: Path) -> None:
    truncated = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><point id="'
    )
    replies = [
        web.Response(text=truncated, content_type="text/xml"),
        web.Response(text="<html><body>Maintenance</body></html>", content_type="text/html"),
    ]
    async with _answering(replies, server_context(sge.pki, tmp_path)) as (url, asked):
        source = SgeSource(sge.session, DEMO_LOGIN, (P0,), tls=sge.tls, base_url=url, registry=sge.registry)
        with pytest.raises(InvalidResponseError) as malformed:
            await source.async_get_contract(P0)
        with pytest.raises(InvalidResponseError) as page:
            await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, date(2026, 11, 1), date(2026, 11, 2))
    assert type(malformed.value) is InvalidResponseError
    assert malformed.value.description == "malformed XML answer: unclosed token"
    assert malformed.value.prm == P0
    assert malformed.value.retryable
    assert type(page.value) is InvalidResponseError
    assert str(page.value) == (
        "InvalidResponseError HTTP 200: "
        "ConsultationMesuresDetaillees/v3.0 answered HTTP 200 with a body that is not XML"
    )
    assert asked == [f"/{CDTC_SERVICE}", "/ConsultationMesuresDetaillees/v3.0"]


async def test_a_429_blocks_the_host_for_its_retry_after(sge: Sge, tmp_path: Path) -> None:
    throttled = web.json_response(
        {"fault": {"code": 900807, "message": "Message throttled out", "description": "You have exceeded your quota"}},
        status=429,
        headers={"Retry-After": "30"},
    )
    async with _answering([throttled], server_context(sge.pki, tmp_path)) as (url, asked):
        source = SgeSource(sge.session, DEMO_LOGIN, (P0,), tls=sge.tls, base_url=url, registry=sge.registry)
        with pytest.raises(RateLimitError) as first:
            await source.async_get_contract(P0)
        with pytest.raises(RateLimitError) as second:
            await source.async_fetch_window(P0, C, Measure.DAILY_ENERGY, date(2026, 11, 1), date(2026, 11, 2))
    assert (first.value.status, first.value.retry_after, first.value.local) == (429, 30.0, False)
    assert (second.value.retry_after, second.value.local) == (30.0, True)  # refused here: nothing sent
    assert asked == [f"/{CDTC_SERVICE}"]
    assert source.request_count == 1
    assert source.quota_status()[f"{url.removeprefix('https://')} sge"]["blocked_for_s"] == 30


async def test_a_fault_quoting_the_gateway_key_never_shows_it(sge: Sge, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key = "gw-secret-key-123"
    echo = fault("SGT402", f"Le login n'est pas habilité (clé {key})")
    async with _answering([echo], None) as (url, asked):
        source = SgeSource(sge.session, DEMO_LOGIN, (P0,), base_url=url, gateway_key=key, registry=sge.registry)
        with pytest.raises(LoginRefusedError) as caught:
            await source.async_get_contract(P0)
    assert caught.value.description == "Le login n'est pas habilité (clé **REDACTED**)"
    assert (caught.value.code, caught.value.status) == ("SGT402", 500)
    assert key not in str(caught.value)
    assert key not in repr(source)
    assert "SGT402" in caplog.text  # the error was logged...
    assert key not in caplog.text  # ...without the key
    assert asked == [f"/{CDTC_SERVICE}"]
