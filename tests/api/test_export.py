"""The command-line export against the fake gateway: CSV and JSON, three sources, quotas, no Home Assistant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import csv
from datetime import UTC, date, datetime, time, timedelta
import io
import json
from pathlib import Path
import runpy
import sys
import warnings

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.enedis.api.clock import ManualClock
from custom_components.enedis.api.export import main, run
from custom_components.enedis.api.limiter import LimiterRegistry
from tests.fake_enedis import data
from tests.fake_enedis.med import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, med_config
from tests.fake_enedis.server import create_app
from tests.fake_enedis.state import FakeState

from .conftest import TODAY, Gateway
from .test_sources import CLIENT_ID, CLIENT_SECRET

P0 = "22516914714270"
INTEGRATION = Path(__file__).parent.parent.parent / "custom_components" / "enedis"


def truth_hours(start: date, end: date) -> dict[datetime, float]:
    hours: dict[datetime, float] = {}
    day = start
    while day < end:
        for stamp, watts in data.curve_points(P0, data.CONS, day):
            hour = (stamp - timedelta(minutes=30)).replace(minute=0)
            hours[hour] = hours.get(hour, 0.0) + watts / 2
        day += timedelta(days=1)
    return hours


async def export(gw: Gateway, *argv: str) -> tuple[int, str, str]:
    """The command in this process, on the gateway's clock (the fake's today is 2026-11-22)."""
    out, err = io.StringIO(), io.StringIO()
    code = await run(list(argv), stdout=out, stderr=err, registry=gw.registry)
    return code, out.getvalue(), err.getvalue()


async def test_conso_api_hourly_csv_equals_the_ground_truth(gateway: Gateway) -> None:
    start, end = date(2026, 10, 20), date(2026, 11, 3)  # two curve windows, the autumn DST change inside
    code, out, err = await export(
        gateway,
        "--source", "conso_api", "--token", gateway.state.demo_conso_token(), "--base-url", gateway.conso_url,
        "--start", start.isoformat(), "--end", end.isoformat(),
    )  # fmt: skip
    assert code == 0, err
    table = list(csv.DictReader(io.StringIO(out)))
    truth = truth_hours(start, end)
    assert len(table) == len(truth) == 14 * 24 + 1
    for row, (hour, wh) in zip(table, sorted(truth.items()), strict=True):
        assert datetime.fromisoformat(row["start"]).astimezone(UTC) == hour
        assert float(row["energy_wh"]) == pytest.approx(wh, abs=0.1)
    assert "2/2 requests" in err  # the progress bar
    assert gateway.state.demo_conso_token() not in out + err


async def test_data_connect_daily_json_and_max_power(gateway: Gateway) -> None:
    start, end = date(2026, 11, 1), date(2026, 11, 8)
    common = ("--source", "data_connect", "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
              "--base-url", gateway.url, "--prm", P0, "--start", start.isoformat(), "--end", end.isoformat(),
              "--format", "json", "--quiet")  # fmt: skip
    code, out, err = await export(gateway, *common, "--measure", "daily")
    assert code == 0, err
    body = json.loads(out)
    assert body["meta"]["complete"] is True
    assert body["data"] == [
        {"day": (start + timedelta(i)).isoformat(), "energy_wh": data.daily_wh(P0, data.CONS, start + timedelta(i))}
        for i in range(7)
    ]
    assert err == ""
    code, out, _ = await export(gateway, *common, "--measure", "max_power")
    first = json.loads(out)["data"][0]
    value, at = data.max_power(P0, start)  # type: ignore[misc]
    assert first["max_power_va"] == value
    assert datetime.fromisoformat(first["at"]) == at.replace(tzinfo=data.PARIS)


async def test_myelectricaldata_quota_stops_and_says_where_to_resume(gateway: Gateway, tmp_path: Path) -> None:
    med_config(gateway.state).daily_limit = 2
    target = tmp_path / "curve.csv"
    code, _, err = await export(
        gateway,
        "--source", "myelectricaldata", "--client-id", DEMO_CLIENT_ID, "--client-secret", DEMO_CLIENT_SECRET,
        "--base-url", f"{gateway.url}/med/api", "--prm", P0, "--start", "2026-10-01", "--end", "2026-10-29",
        "--output", str(target), "--max-wait", "5",
    )  # fmt: skip
    assert code == 3
    assert "resume with --start 2026-10-15 after 2026-11-23T00:00:00+00:00" in err  # the gateway's midnight UTC
    table = list(csv.DictReader(target.open()))
    assert len(table) == 14 * 24  # the two weeks fetched before the quota
    assert table[0]["start"] == "2026-10-01T00:00:00+02:00"
    assert DEMO_CLIENT_SECRET not in err


async def test_runs_without_home_assistant(gateway: Gateway) -> None:
    """``python -m api.export`` from the integration's folder imports the library only (a real process)."""
    probe = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys, api.export; print(sorted(m for m in sys.modules if 'homeassistant' in m))",
        cwd=INTEGRATION, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    printed, _ = await probe.communicate()
    assert printed.decode().strip() == "[]"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.export", "--source", "conso_api", "--base-url", gateway.conso_url,
        "--measure", "daily", "--start", "2026-11-01", "--end", "2026-11-03", "--quiet",
        cwd=INTEGRATION, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={"ENEDIS_TOKEN": gateway.state.demo_conso_token(), "PATH": ""},
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert out.decode().splitlines() == [
        "day,energy_wh",
        f"2026-11-01,{data.daily_wh(P0, data.CONS, date(2026, 11, 1))}",
        f"2026-11-02,{data.daily_wh(P0, data.CONS, date(2026, 11, 2))}",
    ]


# --- options that are missing or contradictory: a message, no request ------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--source", "conso_api"), "Conso API needs --token (or ENEDIS_TOKEN)"),
        (("--source", "data_connect", "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET),
         "data_connect needs --prm"),
        (("--source", "data_connect", "--prm", P0, "--client-id", CLIENT_ID),
         "Data Connect needs --client-id and --client-secret (or ENEDIS_CLIENT_SECRET)"),
        (("--source", "myelectricaldata", "--prm", P0, "--client-secret", DEMO_CLIENT_SECRET),
         "MyElectricalData's current API needs --client-id and --client-secret"),
        (("--source", "myelectricaldata", "--prm", P0, "--med-api", "legacy"),
         "MyElectricalData's legacy API needs --token (or ENEDIS_TOKEN)"),
    ],
)  # fmt: skip
async def test_missing_credentials_or_prm_stop_with_a_message(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...], message: str
) -> None:
    monkeypatch.delenv("ENEDIS_TOKEN", raising=False)
    monkeypatch.delenv("ENEDIS_CLIENT_SECRET", raising=False)
    with pytest.raises(SystemExit) as exited:
        await export(gateway, *argv, "--base-url", gateway.url, "--start", "2026-11-01", "--end", "2026-11-02")
    assert exited.value.code == message
    assert gateway.state.requests == []


async def test_start_after_end_and_an_unserved_measure_stop_before_any_measure_request(gateway: Gateway) -> None:
    common = ("--source", "data_connect", "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
              "--base-url", gateway.url, "--prm", P0, "--quiet")  # fmt: skip
    with pytest.raises(SystemExit) as exited:
        await export(gateway, *common, "--start", "2026-11-05", "--end", "2026-11-01")
    assert exited.value.code == "--start is after --end"
    with pytest.raises(SystemExit) as exited:  # no source serves a production max power
        await export(gateway, *common, "--direction", "production", "--measure", "max_power",
                     "--start", "2026-11-01", "--end", "2026-11-05")  # fmt: skip
    assert exited.value.code == "data_connect does not serve production max_power"
    assert gateway.state.requests == []


async def test_an_error_exits_2_with_its_kind_and_never_the_secret(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The secret read from ENEDIS_CLIENT_SECRET is refused: exit status 2, the error on stderr, nothing written."""
    wrong = "wrong-datahub-secret-4242"
    monkeypatch.setenv("ENEDIS_CLIENT_SECRET", wrong)
    code, out, err = await export(
        gateway,
        "--source", "data_connect", "--client-id", CLIENT_ID, "--base-url", gateway.url, "--prm", P0,
        "--start", "2026-11-01", "--end", "2026-11-05", "--quiet",
    )  # fmt: skip
    assert code == 2
    assert out == ""
    assert err == "error: AuthError HTTP 401 invalid_client: Client Authentication failed.\n"
    assert wrong not in err
    assert gateway.state.count("/oauth2/v3/token", status=401) == 1
    assert gateway.state.count("mesure_synchrone") == 0


async def test_a_window_without_data_is_skipped_and_the_export_is_complete(gateway: Gateway) -> None:
    """Client 4 has no data on Tuesdays and Wednesdays: the second window (Tue 10, Wed 11) answers 404 no_data_found."""
    holes = "42900589957123"
    code, out, err = await export(
        gateway,
        "--source", "data_connect", "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
        "--base-url", gateway.url, "--prm", holes, "--start", "2026-11-03", "--end", "2026-11-12",
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    body = json.loads(out)
    assert body["meta"] == {
        "source": f"data_connect production {gateway.url}",
        "prm": holes,
        "direction": "consumption",
        "measure": "hourly",
        "start": "2026-11-03",
        "end": "2026-11-12",
        "complete": True,
    }
    days = sorted({row["start"][:10] for row in body["data"]})
    assert days == ["2026-11-05", "2026-11-06", "2026-11-07", "2026-11-08", "2026-11-09"]
    assert len(body["data"]) == 5 * 24
    assert body["data"][0] == {
        "start": "2026-11-05T00:00:00+01:00",
        "end": "2026-11-05T01:00:00+01:00",
        "energy_wh": round(sum(w / 2 for _, w in data.curve_points(holes, data.CONS, date(2026, 11, 5))[:2]), 1),
    }
    assert gateway.state.count("mesure_synchrone", status=404) == 1
    assert err.endswith("2/2 requests \n")


# --- a gateway answering 429 with a short Retry-After in front of the fake --------------------------------------

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
type Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


@pytest.fixture
async def gateway_with(
    clock: ManualClock, socket_enabled: None
) -> AsyncIterator[Callable[[Middleware], Awaitable[Gateway]]]:
    """The fake gateway of `conftest.gateway` with one more middleware (innermost: the fake's log sees its answers)."""
    servers: list[TestServer] = []
    async with aiohttp.ClientSession() as session:

        async def start(middleware: Middleware) -> Gateway:
            state = FakeState(today=TODAY, time_of_day=time(12, 0), clock=clock.monotonic)
            app = create_app(state)
            app.middlewares.append(web.middleware(middleware))
            server = TestServer(app)
            await server.start_server()
            servers.append(server)
            return Gateway(state, str(server.make_url("")).rstrip("/"), session, clock, LimiterRegistry(clock))

        yield start
    for server in servers:
        await server.close()


def throttle_measures(times: int) -> Middleware:
    """Answer the first ``times`` measure requests 429 (WSO2 900807) with ``Retry-After: 0``."""
    left = [times]

    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/mesure_synchrone_auto/") and left[0] > 0:
            left[0] -= 1
            body = {"fault": {"code": 900807, "message": "Message throttled out", "description": "quota"}}
            return web.json_response(body, status=429, headers={"Retry-After": "0"})
        return await handler(request)

    return middleware


DAILY = ("--source", "data_connect", "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
         "--measure", "daily", "--start", "2026-11-01", "--end", "2026-11-04")  # fmt: skip


async def test_a_short_quota_wait_is_waited_and_the_window_asked_again(
    gateway_with: Callable[[Middleware], Awaitable[Gateway]],
) -> None:
    gw = await gateway_with(throttle_measures(2))
    code, out, err = await export(gw, *DAILY, "--base-url", gw.url, "--prm", P0)
    assert code == 0, err
    assert out.splitlines() == ["day,energy_wh"] + [
        f"2026-11-0{d},{data.daily_wh(P0, data.CONS, date(2026, 11, d))}" for d in (1, 2, 3)
    ]
    assert err.count("(quota: waiting 0 s)") == 2
    assert err.endswith("1/1 requests \n")
    assert gw.state.count("mesure_synchrone", status=429) == 2
    assert gw.state.count("mesure_synchrone", status=200) == 1


async def test_a_third_quota_refusal_stops_and_says_where_to_resume(
    gateway_with: Callable[[Middleware], Awaitable[Gateway]],
) -> None:
    """Two waits per window at most: the third 429 stops the export, which writes what it has (nothing here)."""
    gw = await gateway_with(throttle_measures(3))
    code, out, err = await export(gw, *DAILY, "--base-url", gw.url, "--prm", P0, "--quiet", "--format", "json")
    assert code == 3
    assert json.loads(out) == {
        "meta": {
            "source": f"data_connect production {gw.url}",
            "prm": P0,
            "direction": "consumption",
            "measure": "daily",
            "start": "2026-11-01",
            "end": "2026-11-01",
            "complete": False,
        },
        "data": [],
    }
    assert err == (
        "quota reached: data written up to 2026-11-01 (excluded); resume with --start 2026-11-01 "
        "after 2026-11-22T11:00:00+00:00\n"
    )
    assert gw.state.count("mesure_synchrone", status=429) == 3
    assert gw.state.count("mesure_synchrone", status=200) == 0


async def test_a_secret_echoed_by_the_server_is_redacted_from_the_error(
    gateway_with: Callable[[Middleware], Awaitable[Gateway]],
) -> None:
    """A proxy that repeats the refused credentials in its error body: the export never prints them."""
    wrong = "wrong-datahub-secret-4242"

    async def echo(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/oauth2/v3/token":
            body = {"error": "invalid_client", "error_description": f"bad credentials {CLIENT_ID}:{wrong}"}
            return web.json_response(body, status=401)
        return await handler(request)

    gw = await gateway_with(echo)
    code, out, err = await export(gw, *DAILY, "--base-url", gw.url, "--prm", P0, "--client-secret", wrong, "--quiet")
    assert (code, out) == (2, "")
    assert err == f"error: AuthError HTTP 401 invalid_client: bad credentials {CLIENT_ID}:**REDACTED**\n"


# --- the entry point ------------------------------------------------------------------------------------------


def run_as_module() -> None:
    """What ``python -m custom_components.enedis.api.export`` runs (the module again, named ``__main__``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "found in sys.modules": the tests imported it already
        runpy.run_module("custom_components.enedis.api.export", run_name="__main__")


@pytest.mark.parametrize("entry", [main, run_as_module], ids=["main", "python -m"])
def test_the_entry_point_exits_with_the_status_of_the_run(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], entry: Callable[[], None]
) -> None:
    """The command exits 2 when the gateway cannot be reached (a closed local port), the secret unsaid."""
    monkeypatch.setattr(sys, "argv", ["export", *DAILY, "--base-url", "http://127.0.0.1:9", "--prm", P0, "--quiet"])
    with pytest.raises(SystemExit) as exited:
        entry()
    assert exited.value.code == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err == "error: CommunicationError: cannot reach 127.0.0.1:9 oauth2/v3: ClientConnectorError\n"


@pytest.mark.parametrize(
    ("measure", "header"),
    [("hourly", "start,end,energy_wh"), ("daily", "day,energy_wh"), ("max_power", "day,max_power_va,at")],
)
async def test_a_csv_without_rows_still_names_the_measures_columns(gateway: Gateway, measure: str, header: str) -> None:
    """Client 4 has no data on Tuesdays and Wednesdays: a CSV of those days has the measure's header and no row (a
    script reading the columns by name still works)."""
    code, out, err = await export(
        gateway,
        "--source", "data_connect", "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
        "--base-url", gateway.url, "--prm", "42900589957123", "--start", "2026-11-10", "--end", "2026-11-12",
        "--measure", measure,
    )  # fmt: skip
    assert code == 0, err
    assert out == header + "\n"
