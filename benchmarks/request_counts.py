"""Benchmark: requests and simulated wall time of a full backfill, library level, per source.

A full backfill = for each PRM and direction it measures: 24 months of load curve (newest first, 7-day windows),
36 months of daily energy and (consumption) of daily max power (365-day windows). The library's sources run
directly against the fake gateway (real HTTP on 127.0.0.1) with a `ManualClock` shared by the limiters and the
fake's quotas, so the 5 requests/s bound and Conso API's 90 per 12 h budget cost simulated time, not real time.
When a local quota refuses (``RateLimitError(local=True)``), the clock jumps by its ``retry_after``: nothing is
sent against an exhausted quota, and the simulated time is what a real installation would wait.

Directions: Data Connect reads them from the contract (2026 contract APIs: 3 requests per PRM); Conso API has no
contract data, so a production curve request is tried once per PRM (it answers ADAM-ERR0069 when the PRM does
not produce), as the integration does.

With a ``cache`` dict, the readings are kept as the integration's cache keeps them (per local day: the curve as a
`DayCurve`, the daily energy as a number, the max power as a `Reading`): ``benchmarks/memory.py`` measures it.

Run: ``scripts/run python benchmarks/request_counts.py``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
import math
from pathlib import Path
import sys
import time as walltime

# This file's own folder must not be on the path: its name would shadow the ``requests`` package HA imports.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import aiohttp  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402

from custom_components.enedis.api import ConsoApi, DataConnect, Direction, LimiterRegistry, ManualClock, Measure  # noqa: E402
from custom_components.enedis.api.calendar import local_day, months_before  # noqa: E402
from custom_components.enedis.api.errors import NoDataError, RateLimitError, WrongDirectionError  # noqa: E402
from custom_components.enedis.api.windows import MAX_WINDOW_DAYS  # noqa: E402
from custom_components.enedis.ledger import DayCurve  # noqa: E402
from tests.fake_enedis import data  # noqa: E402
from tests.fake_enedis.server import create_app  # noqa: E402
from tests.fake_enedis.state import FakeState  # noqa: E402

TODAY = date(2026, 11, 22)
START = datetime(2026, 11, 22, 11, tzinfo=UTC)  # 12:00 in Paris
SCENARIOS: dict[str, int] = {
    "client 0 (consumption)": 0,
    "client 3 (cons. PRM + prod. PRM)": 3,
    "client 6 (self-consumption)": 6,
}
CURVE_MONTHS, DAILY_MONTHS = 24, 36


@dataclass
class Result:
    scenario: str
    source: str
    requests: int
    minimum: int
    by_kind: dict[str, int]
    simulated_s: float
    real_s: float
    local_waits: int
    errors_429: int
    wh: float


def minimum_requests(prms: list[str]) -> int:
    """ceil(days/7) curve windows + ceil(days/365) daily windows, per direction measured (max power: consumption)."""
    curve_days = (TODAY - months_before(TODAY, CURVE_MONTHS)).days
    daily_days = (TODAY - months_before(TODAY, DAILY_MONTHS)).days
    total = 0
    for prm in prms:
        info = data.prm_info(prm)
        assert info is not None
        for direction in info.directions:
            total += math.ceil(curve_days / MAX_WINDOW_DAYS[Measure.LOAD_CURVE])
            total += math.ceil(daily_days / MAX_WINDOW_DAYS[Measure.DAILY_ENERGY])
            if direction == data.CONS:
                total += math.ceil(daily_days / MAX_WINDOW_DAYS[Measure.MAX_POWER])
    return total


def keep(cache: dict[tuple[str, Direction, Measure, date], object], prm: str, direction: Direction, series) -> None:
    """Keep ``series`` as the coordinator's `_store_result` does (per local day)."""
    by_day: dict[date, list] = {}
    for reading in series.readings:
        by_day.setdefault(local_day(reading.start), []).append(reading)
    for day, readings in by_day.items():
        key = (prm, direction, series.measure, day)
        if series.measure is Measure.LOAD_CURVE:
            cache[key] = DayCurve.of(readings)
        elif series.measure is Measure.DAILY_ENERGY:
            cache[key] = readings[-1].value
        else:
            cache[key] = readings[-1]


async def run(scenario: str, client: int, source_kind: str, cache: dict | None = None) -> Result:
    clock = ManualClock(START)
    state = FakeState(today=TODAY, time_of_day=time(12), clock=clock.monotonic)
    server = TestServer(create_app(state))
    await server.start_server()
    prms = data.prms_for_client(client)
    waits = 0
    wh = 0.0
    t0 = walltime.perf_counter()
    async with aiohttp.ClientSession() as session:
        registry = LimiterRegistry(clock)
        base = str(server.make_url("")).rstrip("/")
        if source_kind == "Data Connect":
            source: ConsoApi | DataConnect = DataConnect(
                session, "demo-client-id", "demo-client-secret", base_url=base, registry=registry
            )
        else:
            token = state.conso_token_for_client(client)
            source = ConsoApi(session, token, base_url=f"{base}/conso/api", registry=registry)

        async def call(make):
            nonlocal waits
            while True:
                try:
                    return await make()
                except RateLimitError as err:
                    if not err.local:
                        raise
                    waits += 1
                    clock.advance(max(1.0, err.retry_after or 1.0))

        for prm in prms:
            if isinstance(source, DataConnect):
                contract = await call(lambda prm=prm: source.async_get_contract(prm))
                directions = [Direction.CONSUMPTION] if contract.has_consumption else []
                if contract.has_production:
                    directions.append(Direction.PRODUCTION)
            else:
                directions = list(Direction)
            for direction in directions:
                plan = [(Measure.LOAD_CURVE, CURVE_MONTHS), (Measure.DAILY_ENERGY, DAILY_MONTHS)]
                if direction is Direction.CONSUMPTION:
                    plan.append((Measure.MAX_POWER, DAILY_MONTHS))
                absent = False
                for measure, months in plan:
                    windows = source.windows(measure, months_before(TODAY, months), TODAY, newest_first=True)
                    for start, end in windows:
                        try:
                            series = await call(
                                lambda s=start, e=end, m=measure, d=direction, p=prm: source.async_fetch_window(
                                    p, d, m, s, e
                                )
                            )
                        except WrongDirectionError:
                            absent = True  # Conso API: this PRM does not measure this direction
                            break
                        except NoDataError:
                            continue
                        if measure is Measure.DAILY_ENERGY:
                            wh += series.energy_wh()
                        if cache is not None:
                            keep(cache, prm, direction, series)
                    if absent:
                        break
    real = walltime.perf_counter() - t0
    await server.close()
    kinds: dict[str, int] = {}
    for record in state.requests:
        parts = record.path.strip("/").split("/")
        kind = parts[0] if "/v1/" in record.path else parts[-1]
        kinds[kind] = kinds.get(kind, 0) + 1
    return Result(
        scenario=scenario,
        source=source_kind,
        requests=len(state.requests),
        minimum=minimum_requests(prms),
        by_kind=kinds,
        simulated_s=clock.monotonic() - 1000.0,
        real_s=real,
        local_waits=waits,
        errors_429=state.count("", 429),
        wh=wh,
    )


def fmt_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


async def main() -> None:
    results = [
        await run(name, client, kind) for name, client in SCENARIOS.items() for kind in ("Data Connect", "Conso API")
    ]
    print(f"Full backfill: {CURVE_MONTHS} months of load curve, {DAILY_MONTHS} months of daily energy and max power,")
    print(f"asked on {TODAY} at 12:00 Paris (library sources + fake gateway, simulated clock).")
    print()
    header = (
        f"{'scenario':<34} {'source':<13} {'requests':>8} {'minimum':>8} {'overhead':>9} "
        f"{'simulated wall':>15} {'real':>8} {'429s':>5}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.scenario:<34} {r.source:<13} {r.requests:>8} {r.minimum:>8} {r.requests - r.minimum:>+9} "
            f"{fmt_duration(r.simulated_s):>15} {r.real_s:>7.2f}s {r.errors_429:>5}"
        )
    print()
    print("overhead = requests that fetch no measure window: Data Connect's token and 3 contract calls per PRM;")
    print("Conso API's one production probe per consumption-only PRM (answers ADAM-ERR0069).")
    print()
    print("Requests per resource:")
    for r in results:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(r.by_kind.items()))
        print(f"  {r.scenario} / {r.source}: {detail}")


if __name__ == "__main__":
    asyncio.run(main())
