"""The command-line export against the fake gateway: CSV and JSON, three sources, quotas, no Home Assistant."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, date, datetime, timedelta
import io
import json
from pathlib import Path
import sys

import pytest

from custom_components.enedis.api.export import run
from tests.fake_enedis import data
from tests.fake_enedis.med import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, med_config

from .conftest import Gateway
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
    assert "resume with --start 2026-10-15 after 2026-11-22T23:00:00+00:00" in err
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
