"""End-to-end: a real ``hass`` process, the fake gateway, the REST config flow, statistics over the websocket.

Skipped unless ``ENEDIS_E2E=1`` (``tests/e2e/run`` sets it). What it does, as a user's installation would:

1. starts the fake gateway (``tests.e2e.gateway``: measure answers delayed by ``DELAY`` s) and ``hass`` on a
   fresh config dir; onboards the owner through the onboarding REST API;
2. adds the integration through the REST config-flow endpoints: menu ``conso_api``, a malformed token (form
   error), then the sandbox client 0 token and the gateway's Conso API base URL; then sets the options to a
   short history (1 month of load curve, 2 months of daily energy) through the REST options flow, so that the
   whole backfill (about 8 requests) fits in the first burst (Conso API pacing: 10 requests, then one every
   8 minutes);
3. stops ``hass`` (SIGTERM) in the middle of that burst, starts it again on the same config;
4. waits until the gateway has been quiet for ``QUIET`` s, checks in the diagnostics that the backfill is
   complete, and reads the hourly statistics with ``recorder/statistics_during_period``;
5. compares them, hour by hour, with the gateway's ground truth (``tests/fake_enedis/data.py``) for exactly
   the windows the gateway served: nothing lost, nothing counted twice, running sums continuous;
6. checks the Home Assistant log: no ERROR, no traceback, no secret (token, password, access token).
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
import itertools
import os
import re
import shutil
import time
from typing import Any

import aiohttp
import pytest

from tests.e2e.harness import ROOT, Process, WebSocket, onboard, rest, wait_until_up, write_config
from tests.fake_enedis import data
from tests.fake_enedis.state import FakeState

pytestmark = pytest.mark.skipif(
    os.environ.get("ENEDIS_E2E") != "1", reason="end-to-end test of a real hass: run tests/e2e/run (ENEDIS_E2E=1)"
)

HA_PORT = int(os.environ.get("ENEDIS_E2E_HA_PORT", "8124"))
GW_PORT = int(os.environ.get("ENEDIS_E2E_GATEWAY_PORT", "8789"))
HA = f"http://127.0.0.1:{HA_PORT}"
GW = f"http://127.0.0.1:{GW_PORT}"
DELAY = 1.0
"""Seconds the gateway adds to each measure answer: the burst lasts ~10 s, long enough to restart inside it."""
CLIENT = 0
PRM = "22516914714270"
OPTIONS = {"curve_history_months": 1, "daily_history_months": 2}
"""A short history (the entry's options, as a user would set them): the whole backfill fits in the first burst."""
BURST = 10
RESTART_AFTER = 3
"""Backfill requests seen by the gateway before ``hass`` is stopped."""
QUIET = 12.0
"""Seconds without a gateway request that mean the burst is over (the next paced request is 8 minutes away)."""
PASSWORD = "e2e-Owner-Passw0rd!"  # the throwaway owner of a throwaway instance
RESOURCES: dict[str, tuple[str, str]] = {
    "courbe_de_charge_consommation": ("curve", data.CONS),
    "courbe_de_charge_production": ("curve", data.PROD),
    "consommation_quotidienne": ("daily", data.CONS),
    "production_quotidienne": ("daily", data.PROD),
    "puissance_conso_max_quotidienne": ("pmax", data.CONS),
}
STAT_IDS = {data.CONS: f"enedis:{PRM}_consumption", data.PROD: f"enedis:{PRM}_production"}
FIGURES: dict[str, Any] = {}


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


async def _gateway_requests(session: aiohttp.ClientSession) -> list[dict[str, Any]]:
    async with session.get(f"{GW}/_e2e/requests") as response:
        return [r for r in await response.json() if r["path"].startswith("/conso/api/")]


async def _wait_requests(session: aiohttp.ClientSession, count: int, limit: float) -> list[dict[str, Any]]:
    began = time.monotonic()
    while time.monotonic() - began < limit:
        requests = await _gateway_requests(session)
        if len(requests) >= count:
            return requests
        await asyncio.sleep(0.2)
    msg = f"the gateway saw fewer than {count} Conso API requests in {limit} s"
    raise AssertionError(msg)


async def _wait_quiet(session: aiohttp.ClientSession, minimum: int, limit: float) -> list[dict[str, Any]]:
    """Wait until at least ``minimum`` requests were seen and none came for ``QUIET`` seconds."""
    began = time.monotonic()
    last_count, last_change = -1, time.monotonic()
    while time.monotonic() - began < limit:
        requests = await _gateway_requests(session)
        if len(requests) != last_count:
            last_count, last_change = len(requests), time.monotonic()
        elif len(requests) >= minimum and time.monotonic() - last_change >= QUIET:
            return requests
        await asyncio.sleep(0.5)
    msg = f"the backfill burst did not end within {limit} s ({last_count} requests)"
    raise AssertionError(msg)


def _expected(requests: list[dict[str, Any]]) -> dict[str, dict[datetime, int]]:
    """Ground truth: Wh per UTC hour of each statistic, for exactly the windows the gateway answered (200).

    A day inside a load-curve window gives its half-hours (``curve_points``); a day only inside a daily window
    gives ONE row at its local midnight (the ledger's daily fallback, once the curve backfill is done: until
    then such days are held as PENDING). Unpublished days give nothing.
    """
    truth = FakeState()
    curve_days: dict[str, set[date]] = defaultdict(set)
    daily_days: dict[str, set[date]] = defaultdict(set)
    for request in requests:
        kind, direction = RESOURCES.get(request["path"].rsplit("/", 1)[-1], ("", ""))
        if request["status"] != 200 or kind not in {"curve", "daily"}:
            continue
        query = request["query"]
        days = _days(date.fromisoformat(query["dateDebut"]), date.fromisoformat(query["dateFin"]))
        (curve_days if kind == "curve" else daily_days)[direction].update(d for d in days if truth.is_published(d))
    expected: dict[str, dict[datetime, int]] = {}
    for direction, stat_id in STAT_IDS.items():
        hours: dict[datetime, int] = defaultdict(int)
        for day in curve_days[direction]:
            for end, watts in data.curve_points(PRM, direction, day):
                start = end - timedelta(minutes=30)
                hours[start.replace(minute=0)] += watts // 2  # every value is even: W x 0.5 h is whole Wh
        for day in daily_days[direction] - curve_days[direction]:
            hours[data.local_midnight_utc(day)] += data.daily_wh(PRM, direction, day)
        expected[stat_id] = {hour: wh for hour, wh in hours.items() if wh}
    return expected


async def _statistics(ws: WebSocket, start: datetime) -> dict[str, list[dict[str, Any]]]:
    result = await ws.call(
        {
            "type": "recorder/statistics_during_period",
            "start_time": start.isoformat(),
            "end_time": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            "statistic_ids": list(STAT_IDS.values()),
            "period": "hour",
            "types": ["state", "sum"],
            "units": {"energy": "kWh"},
        }
    )
    return {stat_id: result.get(stat_id, []) for stat_id in STAT_IDS.values()}


def _actual(rows: list[dict[str, Any]]) -> dict[datetime, int]:
    """Wh per UTC hour (rounded: the ledger writes whole Wh, kWh floats carry 1e-12 noise)."""
    out: dict[datetime, int] = {}
    for row in rows:
        wh = round(row["state"] * 1000)
        if wh:
            out[datetime.fromtimestamp(row["start"] / 1000, UTC)] = wh
    return out


def _sum_breaks(rows: list[dict[str, Any]]) -> list[str]:
    """Rows whose running sum does not move by exactly their state (a duplicate or a lost row would)."""
    breaks: list[str] = []
    for previous, row in itertools.pairwise(rows):
        if abs((row["sum"] - previous["sum"]) - row["state"]) > 1e-6:
            breaks.append(f"{row['start']}: sum {previous['sum']} -> {row['sum']}, state {row['state']}")
    return breaks


def _log_errors(log: str) -> tuple[list[str], list[str]]:
    """(ERROR/CRITICAL records and tracebacks that concern this integration or the core, the other ones).

    Records of other integrations that fail for lack of a system tool in the test environment (ffmpeg, the
    voice assistant's wheels, libpcap) are counted, not failed on: they are not this project's.
    """
    ours: list[str] = []
    others: list[str] = []
    record: list[str] = []

    def flush() -> None:
        if not record:
            return
        text = "\n".join(record)
        head = record[0]
        if re.search(r" (ERROR|CRITICAL) ", head) or "Traceback" in text:
            logger = re.search(r"\[([\w.]+)\]", head)
            name = logger.group(1) if logger else ""
            if "enedis" in text or name in {"homeassistant.core", "homeassistant.components.recorder"}:
                ours.append(text)
            else:
                others.append(text)
        record.clear()

    for line in log.splitlines():
        if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line):
            flush()
        record.append(line)
    flush()
    return ours, others


def _find(node: Any, key: str) -> list[Any]:
    """Every value of ``key`` anywhere in a JSON document."""
    found: list[Any] = []
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                found.append(value)
            found.extend(_find(value, key))
    elif isinstance(node, list):
        for item in node:
            found.extend(_find(item, key))
    return found


def _diagnostics_summary(diagnostics: dict[str, Any]) -> str:
    """A few coordinator figures from the entry's diagnostics (wherever the integration puts them)."""
    found: dict[str, Any] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in {"backfill_requests", "rows_written", "requests_today"}:
                    found.setdefault(key, value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(diagnostics)
    return ", ".join(f"{key}={value}" for key, value in sorted(found.items()))


async def test_real_hass_backfill_restart_statistics_and_log() -> None:
    began = time.monotonic()
    work = ROOT / "tests" / "e2e" / ".work" / "e2e"
    shutil.rmtree(work, ignore_errors=True)
    config = work / "config"
    write_config(config, HA_PORT)
    gateway = Process(
        "gateway", ["-m", "tests.e2e.gateway", "--port", str(GW_PORT), "--delay", str(DELAY)], work / "gateway.log"
    )
    hass = Process("hass", ["-m", "homeassistant", "--config", str(config), "--skip-pip"], work / "hass.out")
    conso_token = FakeState().conso_token_for_client(CLIENT)
    secrets = {"Conso API token": conso_token, "owner password": PASSWORD}
    timeout = aiohttp.ClientTimeout(total=30)
    problems: list[str] = []
    gateway.start()
    hass.start()
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await wait_until_up(session, f"{GW}/_e2e/requests", gateway, 60)
            FIGURES["hass first start (s)"] = round(await wait_until_up(session, f"{HA}/api/onboarding", hass), 1)
            access_token = await onboard(session, HA, "owner", PASSWORD)
            secrets["access token"] = access_token

            # --- the config flow, through the REST endpoints the frontend uses
            status, flow = await rest(session, "POST", f"{HA}/api/config/config_entries/flow", access_token,
                                      {"handler": "enedis", "show_advanced_options": False})  # fmt: skip
            assert status == 200, flow
            assert flow["type"] == "menu", flow
            assert set(flow["menu_options"]) == {
                "conso_api",
                "data_connect",
                "consometers_xmpp",
                "sge",
                "myelectricaldata",
            }
            url = f"{HA}/api/config/config_entries/flow/{flow['flow_id']}"
            status, form = await rest(session, "POST", url, access_token, {"next_step_id": "conso_api"})
            assert status == 200, form
            assert (form["type"], form["step_id"]) == ("form", "conso_api"), form
            assert [field["name"] for field in form["data_schema"]] == ["token", "base_url"]
            status, bad = await rest(session, "POST", url, access_token,
                                     {"token": "not-a-token", "base_url": f"{GW}/conso/api"})  # fmt: skip
            assert (status, bad["type"], bad["errors"]) == (200, "form", {"token": "invalid_token"}), bad
            created_at = time.monotonic()
            status, entry = await rest(session, "POST", url, access_token,
                                       {"token": conso_token, "base_url": f"{GW}/conso/api"})  # fmt: skip
            assert status == 200, entry
            assert entry["type"] == "create_entry", entry
            assert entry["title"] == f"Linky {PRM}"
            entry_id = entry["result"]["entry_id"]
            status, options = await rest(session, "POST", f"{HA}/api/config/config_entries/options/flow",
                                         access_token, {"handler": entry_id})  # fmt: skip
            assert status == 200, options
            options_url = f"{HA}/api/config/config_entries/options/flow/{options['flow_id']}"
            if options["type"] == "menu":  # options split in sections: the history one
                status, options = await rest(session, "POST", options_url, access_token, {"next_step_id": "history"})
            assert (status, options.get("type")) == (200, "form"), options
            defaults = {field["name"]: field.get("default") for field in options["data_schema"]}
            status, saved = await rest(session, "POST", options_url, access_token, {**defaults, **OPTIONS})
            assert (status, saved.get("type")) == (200, "create_entry"), saved
            flow_requests = 1  # the config flow's live check (one daily-energy call)
            FIGURES["config flow live-check requests"] = flow_requests

            # --- restart hass in the middle of the backfill's first burst
            before = await _wait_requests(session, flow_requests + RESTART_AFTER, 60)
            FIGURES["backfill requests before the restart"] = len(before) - flow_requests
            FIGURES["hass stop (s)"] = round(hass.stop(), 1)
            FIGURES["requests seen while stopping"] = len(await _gateway_requests(session)) - len(before)
            hass.start()
            FIGURES["hass second start (s)"] = round(await wait_until_up(session, f"{HA}/api/onboarding", hass), 1)
            requests = await _wait_quiet(session, flow_requests + 6, 120)
            FIGURES["backfill burst, entry created -> quiet (s)"] = round(time.monotonic() - created_at - QUIET, 1)
            backfill = requests[flow_requests:]
            FIGURES["backfill requests in all"] = len(backfill)

            # Nothing asked twice, except at most the one request in flight when hass was stopped.
            asked = Counter(
                (r["path"], r["query"].get("dateDebut"), r["query"].get("dateFin"), r["status"]) for r in backfill
            )
            repeated = {key: n for key, n in asked.items() if n > 1}
            FIGURES["backfill requests repeated"] = sum(n - 1 for n in repeated.values())
            if sum(n - 1 for n in repeated.values()) > 1 or len(backfill) > BURST + 1:
                problems.append(
                    f"the restart lost the backfill's progress: {len(backfill)} backfill requests for a burst of "
                    f"{BURST}, asked twice: {sorted((k[0].rsplit('/', 1)[-1], k[1], k[2]) for k in repeated)}"
                )

            # --- statistics versus the ground truth
            expected = _expected(requests)
            oldest = min(min(hours) for hours in expected.values() if hours)
            async with WebSocket(session, HA, access_token) as ws:
                deadline = time.monotonic() + 30
                while True:
                    rows = await _statistics(ws, oldest - timedelta(days=1))
                    actual = {stat_id: _actual(r) for stat_id, r in rows.items()}
                    if actual == expected or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(1)
                status, diagnostics = await rest(
                    session, "GET", f"{HA}/api/diagnostics/config_entry/{entry_id}", access_token
                )
            assert status == 200, diagnostics
            for stat_id, hours in expected.items():
                got = actual[stat_id]
                missing = sorted(set(hours) - set(got))
                extra = sorted(set(got) - set(hours))
                wrong = sorted(h for h in set(hours) & set(got) if hours[h] != got[h])
                FIGURES[f"{stat_id} hours (expected/actual)"] = f"{len(hours)}/{len(got)}"
                FIGURES[f"{stat_id} kWh (expected/actual)"] = (
                    f"{sum(hours.values()) / 1000:.3f}/{sum(got.values()) / 1000:.3f}"
                )
                if hours:
                    FIGURES[f"{stat_id} span"] = f"{min(hours):%Y-%m-%d} .. {max(hours):%Y-%m-%d %H:%M}Z"
                breaks = _sum_breaks(rows[stat_id])
                FIGURES[f"{stat_id} lost/unexpected/wrong hours, sum breaks"] = (
                    f"{len(missing)}/{len(extra)}/{len(wrong)}, {len(breaks)}"
                )
                if missing:
                    problems.append(f"{stat_id}: {len(missing)} hours lost, first {missing[:3]}")
                if extra:
                    problems.append(f"{stat_id}: {len(extra)} unexpected hours, first {extra[:3]}")
                if wrong:
                    sample = [(h, hours[h], got[h]) for h in wrong[:3]]
                    problems.append(f"{stat_id}: {len(wrong)} wrong hours, e.g. {sample}")
                if breaks:
                    problems.append(f"{stat_id}: running sum breaks {breaks[:3]}")
            FIGURES["diagnostics"] = _diagnostics_summary(diagnostics)
            done = _find(diagnostics, "curve_done") + _find(diagnostics, "daily_history_done")
            FIGURES["diagnostics curve_done/daily_history_done"] = done
            if not done or not all(done):
                problems.append(f"the backfill is not complete after the burst: {done}")
            if any(rows[STAT_IDS[data.PROD]]):
                problems.append(f"production statistics for a consumption-only PRM: {len(rows[STAT_IDS[data.PROD]])}")
            if conso_token in str(diagnostics):
                problems.append("the Conso API token is in the diagnostics")
    finally:
        stop_seconds = hass.stop() if hass.running() else 0.0
        FIGURES["hass final stop (s)"] = round(stop_seconds, 1)
        gateway.stop(10)
        FIGURES["total (s)"] = round(time.monotonic() - began, 1)
        print("\n[e2e] figures:")
        for key, value in FIGURES.items():
            print(f"[e2e]   {key}: {value}")

    # --- the log: no error, no secret
    # hass.out: the console of both runs; home-assistant.log(.1): the log files (rotated at each start).
    logs = [hass.log, config / "home-assistant.log", config / "home-assistant.log.1"]
    log = "\n".join(path.read_text(errors="replace") for path in logs if path.exists())
    errors, others = _log_errors(log)
    FIGURES["log ERROR lines of other integrations (environment)"] = len(others)
    if errors:
        problems.append("errors in the Home Assistant log:\n" + "\n".join(errors[:20]))
    leaked = [name for name, secret in secrets.items() if secret in log]
    if leaked:
        problems.append(f"secrets in the Home Assistant log: {leaked}")
    assert "custom_components.enedis" in log  # debug logging was on: the checks above did look at our lines
    print(f"[e2e] log: {len(log.splitlines())} lines, {len(errors)} ERROR/traceback lines, secrets leaked: {leaked}")
    assert not problems, "\n".join(problems)
