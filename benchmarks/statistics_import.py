"""Benchmark: statistics import into a real recorder (on-disk SQLite), and the event loop's longest stall.

A pytest module (not collected in CI: ``testpaths = ["tests"]``), run by ``benchmarks/run`` as
``scripts/run python -m pytest benchmarks/statistics_import.py -p no:cacheprovider -s -q``.

Scenario: a Data Connect entry for sandbox client 6 (one self-consumption PRM: consumption AND production) with the
full history (24 months of curve, 36 of daily energy) and the HP/HC option with prices, so that every series is
written: consumption, its off-peak and peak parts, its cost, production and its compensation. In real time (no
freezer: the loop's clock is real), the limiters and the coordinator on one `ManualClock` (the 5/s waits cost no
real time), asyncio's debug mode off as in Home Assistant.

0. Two controls, before the entry does anything: the loop-lag probe alone for a minute (Home Assistant and its
   recorder idle: what the machine itself does to the loop), then 60,000 rows of a statistic of another source,
   computed beforehand, queued as the integration queues its own (the recorder's own cost to the loop). A stall the
   controls also show is not one the integration can remove.
1. The whole backfill through the real coordinator (``async_refresh`` back to back): real time, rows written, and
   the longest loop stall seen while it fetched, parsed, computed and wrote.
2. A full re-import: the statistics of every series are cleared from the recorder and the coordinator computes and
   writes every hourly row again (2 years x 6 series), timed until the recorder has committed them, with the
   loop-lag probe running.
3. The check made at each start (`EnedisCoordinator.async_reconcile`): every row of every series read back from the
   recorder and compared with the cache. Printed with the rows written by the backfill per row stored (sums start
   at 0 at the oldest row at every moment: when the origin moves back, the rows already written take the older
   hours' total from the recorder itself, `ledger.SumShift`, so each row is written once).

The writer queues a chunk once the recorder has committed the previous one (`statistics.async_write`), so the
coordinator's part lasts about as long as the recorder's.

The fake gateway runs in its own process (as Enedis is remote), so that its work is not counted as the integration's.
Loop-lag probe: a 5 ms timer re-armed at each tick, recording how late the loop ran it (`LoopLagProbe`).

What it prints to explain the stalls: the cycle collector's full passes per phase (`CollectorPauses`) and, after
the backfill, how many objects it tracks and walks (pytest-homeassistant freezes what exists when the module
starts: Home Assistant's own start-up objects are not walked here, as they are in a real process), how many of them
are the entry's state, and how long one full pass takes then. Per stall over 50 ms, what overlapped it: our
executor work (the import's compute, the Store's encoding), the collector's passes, the hypervisor's stolen CPU time
and how late another process' 5 ms timer ran meanwhile (`MachineProbe`: late too, the machine ran no one; on time,
the loop waited for its own process) (`explain_stalls`). Opt-in
diagnostics (scripts/run clears the environment: ``scripts/run env ENEDIS_BENCH_CALLBACKS=1 python -m pytest …``):
``ENEDIS_BENCH_CALLBACKS=1`` lists the event loop's callbacks over 20 ms with their CPU time (much less CPU than
wall time is waiting for the interpreter lock); ``ENEDIS_BENCH_STACKS=1`` records every thread's frames at each
stall; ``ENEDIS_BENCH_PROFILE=1`` profiles the backfill (`cProfile`, every thread) and lists the integration's
functions by their own time; ``ENEDIS_BENCH_JOBS=<directory>`` keeps each import's job that took over 100 ms
(pickled: `importer.compute_import` can then be timed and profiled alone).
"""

from __future__ import annotations

from array import array
import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
import cProfile
from datetime import UTC, date, datetime, timedelta
import gc
import io
from itertools import accumulate
import logging
import os
from pathlib import Path
import pickle
import pstats
import resource
import socket
import subprocess
import sys
import threading
import time
import time as walltime
import traceback
from typing import Any, cast

import aiohttp
from aiohttp.test_utils import TestServer
from homeassistant.components.application_credentials import ClientCredential, async_import_client_credential
from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.models import StatisticMeanType, StatisticMetaData
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers import storage
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from yarl import URL

import custom_components  # noqa: F401  (before HA puts its testing config on sys.path)
from custom_components.enedis import importer, statistics as statistics_module, store as store_module
from custom_components.enedis.api import Direction, LimiterRegistry, ManualClock
from custom_components.enedis.api.calendar import local_day, paris_datetime
from custom_components.enedis.const import DOMAIN
from custom_components.enedis.coordinator import EnedisCoordinator
from custom_components.enedis.helpers import REGISTRY_KEY
from custom_components.enedis.ledger import StatRows
from custom_components.enedis.state import SeriesCache
from custom_components.enedis.statistics import async_write
from tests.fake_enedis.state import FakeState
from tests.integration.common import async_statistics
from tests.integration.gateway import FakeGateway, route_real_urls

logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)  # as tests/conftest.py: no SQL echo
logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

REAL_WRITE = storage.Store._async_write_data  # before pytest-homeassistant's `mock_storage` patches it
TODAY = local_day(datetime.now(UTC))
"""The fake gateway's today (its time of day 12:00) and the coordinator's, on one `ManualClock`."""
STEADY_DAYS = 5
PRM = "12655648759651"
PRICES = {"offpeak": 0.2068, "peak": 0.27, "feed_in": 0.1276}
SERIES = ("consumption", "consumption_offpeak", "consumption_peak", "consumption_cost", "production")
SERIES += ("production_compensation",)  # sandbox client 6: self-consumption
STALL_LIMIT_MS = 50.0
BASELINE_S = 60.0
"""The controls' length: the loop-lag probe alone, the integration idle (`_baseline`)."""
CONTROL_ROWS = 60_000
"""Rows of the recorder-alone control (`_control_write`): about what the backfill writes in 40 s."""
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def persistent_database() -> bool:
    """An on-disk SQLite database (phcc's default is in memory)."""
    return True


@pytest.fixture(autouse=True)
def _custom_integrations(recorder_mock: object, enable_custom_integrations: None) -> None:
    """The recorder before hass, and this custom integration enabled."""


class _RemoteServer:
    """The part of aiohttp's `TestServer` that `FakeGateway` uses, for a server in another process."""

    def __init__(self, root: URL) -> None:
        self._root = root

    def make_url(self, path: str) -> URL:
        return self._root.join(URL(path))


@asynccontextmanager
async def gateway_in_process(aioclient_mock: AiohttpClientMocker) -> AsyncIterator[FakeGateway]:
    """`tests.integration.gateway.fake_gateway_at_real_urls`, but the fake server runs in its own process.

    Enedis is a remote server: building a year of daily values or a week of curve takes the fake up to 100 ms of
    CPU, which in Home Assistant's process (even in another thread, through the GIL) would be counted as the
    integration's stall. The fake runs without quotas here (the limiters' clock is a `ManualClock`, so requests go
    out faster than 5/s of real time); quotas and request counts are `benchmarks/request_counts.py`'s subject.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fake_enedis",
        "--port",
        str(port),
        "--no-quotas",
        "--today",
        TODAY.isoformat(),
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=None, sock_read=None))
    try:
        root = URL(f"http://127.0.0.1:{port}")
        for _ in range(300):  # the fake's imports take a second or two
            try:
                async with session.get(root / "conso" / "api" / "x"):
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        gateway = FakeGateway(FakeState(), cast("TestServer", _RemoteServer(root)), session)
        route_real_urls(aioclient_mock, gateway)
        yield gateway
    finally:
        await session.close()
        process.terminate()
        await process.wait()


class CpuMeter:
    """CPU time of the integration's own work per refresh, the recorder's excluded.

    The CPU time (`time.thread_time`) of the event loop's callbacks during the refresh, minus the recorder's own
    validation and queueing of each chunk of rows in the loop (`async_add_external_statistics`), plus the executor
    thread's CPU time inside `importer.compute_import`. Planning, requests and parsing, the import's orchestration,
    its executor work and the writer's making of each chunk's rows are counted (and whatever else the loop runs
    while the writer waits for a commit: Home Assistant's own callbacks, counted as ours, too much rather than too
    little); the recorder's thread, the fake gateway (another process) and the Store's delayed save (after the
    refresh) are not, nor the loop-lag probe's own ticks and the loop's waiting for its timers between callbacks: on
    this virtual machine a 5 ms timer costs the loop ~30 ms of CPU per second of wall time (a refresh of the backfill
    lasts seconds while its rows are committed), which the first version of this meter counted as ours. Until
    2026-12-02 10:00 UTC the meter left out the whole of the writer's loop time, the making of the rows with it
    (~130 ms for the 105,216 rows of the refresh that completes the history, before `StatRows.columns`).
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.executor = 0.0
        self.recorder = 0.0
        """CPU seconds of the recorder's `async_add_external_statistics` in the loop so far (not ours)."""
        self.writing = 0.0
        """CPU seconds of the loop's callbacks while `importer.async_write` ran so far (the recorder's part in it
        included: `writers` leaves it out)."""
        self.loop = 0.0
        """CPU seconds of the loop's callbacks so far, the probe's ticks excluded."""
        self.parts: list[tuple[float, float]] = []
        """Per refresh: (event loop, executor) CPU seconds."""
        self.writers: list[float] = []
        """Per refresh: the part of its event-loop seconds spent while the writer ran, the recorder's part left out."""
        self.computes: list[str] = []
        """Each `importer.compute_import` of the current refresh: its series, CPU time, days and rows."""
        self.details: list[list[str]] = []
        """Per refresh: its `computes`."""
        compute, add, write = (
            importer.compute_import,
            statistics_module.async_add_external_statistics,
            importer.async_write,
        )

        def timed_compute(job: importer.ImportJob) -> importer.ComputedImport:
            start, began = time.thread_time(), walltime.perf_counter()
            try:
                computed = compute(job)
            finally:
                spent = time.thread_time() - start
                self.executor += spent
                ACTIVITIES.append(("compute", began, walltime.perf_counter()))
            if (keep := os.environ.get("ENEDIS_BENCH_JOBS")) and spent > 0.1:
                name = f"refresh{len(self.parts) + 1}-{job.direction.value}-{len(self.computes)}.pickle"
                Path(keep, name).write_bytes(pickle.dumps(job))
            before = job.memo.days if job.memo is not None else {}
            recomputed = sum(1 for day, result in computed.memo.days.items() if before.get(day) is not result)
            rows = sum(len(publication.rows) for publication in computed.publications.values())
            moved = job.origin is not None and computed.origin is not None and computed.origin < job.origin
            self.computes.append(
                f"{job.direction.value} {1000 * spent:.0f} ms: {len(job.inputs)} days, {recomputed} computed, "
                f"{rows} rows{', origin moved back' if moved else ''}"
            )
            return computed

        def timed_add(*args: Any, **kwargs: Any) -> None:
            start = time.thread_time()
            try:
                add(*args, **kwargs)
            finally:
                self.recorder += time.thread_time() - start

        async def timed_write(*args: Any, **kwargs: Any) -> int:
            start = self.loop
            try:
                return await write(*args, **kwargs)
            finally:
                self.writing += self.loop - start

        monkeypatch.setattr(importer, "compute_import", timed_compute)
        monkeypatch.setattr(importer, "async_write", timed_write)
        monkeypatch.setattr(statistics_module, "async_add_external_statistics", timed_add)
        original = asyncio.events.Handle._run

        def counted(handle: asyncio.events.Handle) -> None:
            if getattr(handle._callback, "__func__", None) is LoopLagProbe.tick:
                original(handle)
                return
            start = time.thread_time()
            try:
                original(handle)
            finally:
                self.loop += time.thread_time() - start

        monkeypatch.setattr(asyncio.events.Handle, "_run", counted)

    async def refresh(self, coordinator: EnedisCoordinator) -> float:
        """Run one refresh; its CPU time in seconds (see the class)."""
        executor, recorder, start, writing = self.executor, self.recorder, self.loop, self.writing
        self.computes = []
        await coordinator.async_refresh()
        loop = self.loop - start - (self.recorder - recorder)
        self.parts.append((loop, self.executor - executor))
        self.writers.append(self.writing - writing - (self.recorder - recorder))
        self.details.append(list(self.computes))
        return loop + self.executor - executor


def _forget(series: SeriesCache, day: date) -> None:
    """What the cache knows of ``day`` (as if it had not been published yet)."""
    for mapping in (series.curve_state, series.curve, series.daily, series.max_power, series.registers):
        mapping.pop(day, None)
    for progress in series.progress.values():
        progress.fetched.discard(day)
    series.given_up.discard(day)
    series.attempts.pop(day, None)


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    return f"median {1000 * ordered[len(ordered) // 2]:.0f} ms, max {1000 * ordered[-1]:.0f} ms"


class LoopLagProbe:
    """A timer every 5 ms recording how late the loop ran it, with the time of each sample (a plain timer callback,
    `tick`, which `CpuMeter` leaves out of the integration's CPU time)."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (perf_counter at wake-up, lag in s)
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0

    def tick(self) -> None:
        """Record how late this tick ran; schedule the next one 5 ms from now."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.samples.append((walltime.perf_counter(), max(0.0, now - self._due)))
        self._due = now + 0.005
        self._handle = loop.call_at(self._due, self.tick)

    def max_lag(self, start: float = 0.0, end: float = float("inf")) -> float:
        """The longest stall (s) among the samples woken between ``start`` and ``end`` (perf_counter)."""
        return max((lag for at, lag in self.samples if start <= at <= end), default=0.0)

    def over(self, limit: float) -> int:
        """How many samples were woken more than ``limit`` seconds late."""
        return sum(1 for _, lag in self.samples if lag > limit)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[LoopLagProbe]:
        loop = asyncio.get_running_loop()
        self._due = loop.time() + 0.005
        self._handle = loop.call_at(self._due, self.tick)
        try:
            yield self
        finally:
            if self._handle is not None:
                self._handle.cancel()


class StallStacks:
    """With ``ENEDIS_BENCH_STACKS=1``: a thread that, when the loop-lag probe has not woken for 40 ms, records every
    thread's innermost frames once per stall (what held the loop, or the interpreter lock, at that moment)."""

    def __init__(self, probe: LoopLagProbe) -> None:
        self._probe = probe
        self.stacks: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        reported = 0.0
        while not self._stop.wait(0.005):
            last = self._probe.samples[-1][0] if self._probe.samples else walltime.perf_counter()
            now = walltime.perf_counter()
            if now - last > 0.04 and last != reported:
                reported = last
                lines = [f"stall at +{now - last:.3f} s:"]
                for ident, frame in sys._current_frames().items():
                    if ident == threading.get_ident():
                        continue
                    where = traceback.format_stack(frame, limit=6)
                    lines.append(f"  thread {ident}:" + "".join(where).replace("\n", "\n    "))
                self.stacks.append("\n".join(lines))

    def start(self) -> None:
        if os.environ.get("ENEDIS_BENCH_STACKS") == "1":
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()


ACTIVITIES: list[tuple[str, float, float]] = []
"""(what, start, end) in perf_counter seconds: executor work of ours, to set beside the stalls."""


def _timed_store_encode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Record the Store's executor jobs (each statistic's written hours, then each series) as "store-encode"."""

    def timed[**P, R](job: Callable[P, R]) -> Callable[P, R]:
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            began = walltime.perf_counter()
            try:
                return job(*args, **kwargs)
            finally:
                ACTIVITIES.append(("store-encode", began, walltime.perf_counter()))

        run.__name__ = job.__name__
        return run

    monkeypatch.setattr(store_module, "encode_hours_ahead", timed(store_module.encode_hours_ahead))
    monkeypatch.setattr(SeriesCache, "to_json", timed(SeriesCache.to_json))


def explain_stalls(
    probe: LoopLagProbe, collector: CollectorPauses, limit: float, callbacks: list[tuple[float, float, float, str]]
) -> str:
    """Per stall over ``limit``: what overlapped it (our executor work, the collector's passes by generation, and
    with ``ENEDIS_BENCH_CALLBACKS=1`` the loop's callbacks over 5 ms: wall/CPU ms and where the task suspended)."""
    lines = []
    for at, lag in probe.samples:
        if lag <= limit:
            continue
        lo, hi = at - lag, at
        overlap = [
            f"{what} {1000 * (min(hi, end) - max(lo, began)):.0f}"
            for what, began, end in ACTIVITIES
            if began < hi and end > lo
        ]
        overlap += [
            f"gc{generation} {1000 * (end - began):.0f}"
            for generation, began, end in collector.passes
            if began < hi and end > lo and end - began > 0.002
        ]
        overlap += [
            f"loop {1000 * wall:.0f}/{1000 * cpu:.0f} {what.rsplit(' > ', 2)[-2:]}"
            for end, wall, cpu, what in callbacks
            if end - wall < hi and end > lo
        ]
        if stolen := MACHINE.stolen(lo, hi):
            overlap.append(f"hypervisor steal {1000 * stolen:.0f} (all cores)")
        overlap.append(f"another process' 5 ms timer late {1000 * MACHINE.late(lo, hi + 0.005):.0f}")
        lines.append(f"  stall {1000 * lag:.0f} ms: " + (", ".join(overlap) or "nothing of ours"))
    return "\n".join(lines)


class SlowCallbacks:
    """With ``ENEDIS_BENCH_CALLBACKS=1``: every event-loop callback over 5 ms (wall; the report lists those over 20),
    with its thread CPU time and, for a task's step, the coroutine chain it suspended in (what ran in the loop, and
    whether it ran or waited for the interpreter lock: wall much longer than CPU is waiting)."""

    def __init__(self) -> None:
        self.slow: list[tuple[float, float, float, str]] = []  # (perf_counter at end, wall s, cpu s, what)
        self._original = asyncio.events.Handle._run

    def start(self) -> None:
        if os.environ.get("ENEDIS_BENCH_CALLBACKS") != "1":
            return
        original, slow = self._original, self.slow

        def _run(handle: asyncio.events.Handle) -> None:
            wall, cpu = walltime.perf_counter(), time.thread_time()
            original(handle)
            wall_s = walltime.perf_counter() - wall
            if wall_s > 0.005:
                slow.append((walltime.perf_counter(), wall_s, time.thread_time() - cpu, _describe(handle)))

        asyncio.events.Handle._run = _run  # type: ignore[method-assign]

    def stop(self) -> None:
        asyncio.events.Handle._run = self._original  # type: ignore[method-assign]

    def report(self, limit: int = 25) -> str:
        worst = sorted((item for item in self.slow if item[1] > 0.02), key=lambda item: -item[1])[:limit]
        return "\n".join(
            f"  {1000 * wall:6.1f} ms wall {1000 * cpu:6.1f} ms cpu  {what}" for _, wall, cpu, what in worst
        )


def _describe(handle: asyncio.events.Handle) -> str:
    callback = handle._callback
    task = getattr(callback, "__self__", None)
    if isinstance(task, asyncio.Task):
        chain, coro = [], task.get_coro()
        while coro is not None and len(chain) < 8:
            frame = getattr(coro, "cr_frame", None)
            if frame is not None:
                chain.append(f"{frame.f_code.co_qualname}:{frame.f_lineno}")
            coro = getattr(coro, "cr_await", None)
        return " > ".join(chain) or repr(task)
    return repr(callback)[:160]


class CollectorPauses:
    """The cycle collector's passes (generation, start, end in perf_counter seconds), from `gc.callbacks`.

    Compared with the loop-lag probe's stalls: a stall that overlaps a full pass (generation 2) is the collector's,
    whichever thread triggered it (it holds the interpreter lock for its whole pass).
    """

    def __init__(self) -> None:
        self.passes: list[tuple[int, float, float]] = []
        self._started: dict[int, float] = {}
        self.collected: list[tuple[float, int, str]] = []

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        now = walltime.perf_counter()
        if phase == "start":
            self._started[threading.get_ident()] = now
        elif (began := self._started.pop(threading.get_ident(), None)) is not None:
            self.passes.append((info["generation"], began, now))
            if info["generation"] == 2:
                self.collected.append((now - began, info["collected"], threading.current_thread().name))

    def start(self) -> None:
        gc.callbacks.append(self._callback)

    def stop(self) -> None:
        gc.callbacks.remove(self._callback)

    def full(self) -> list[tuple[float, float]]:
        """The full passes' (start, end)."""
        return [(began, ended) for generation, began, ended in self.passes if generation == 2]

    def explain(self, probe: LoopLagProbe, limit: float) -> str:
        """How many of the probe's stalls over ``limit`` overlap a full pass, and the passes' durations."""
        stalls = [(at - lag, at) for at, lag in probe.samples if lag > limit]
        full = self.full()
        by_collector = sum(1 for lo, hi in stalls if any(began < hi and ended > lo for began, ended in full))
        longest = max((ended - began for began, ended in full), default=0.0)
        return (
            f"{len(full)} full collections (longest {longest * 1000:.1f} ms); "
            f"{by_collector} of the {len(stalls)} stalls over {limit * 1000:.0f} ms overlap one"
        )


def _tracked_objects(coordinator: EnedisCoordinator) -> str:
    """Objects the cycle collector tracks in the whole process, and those reachable from the entry's own state (its
    cache, the importer's memos and bills, the sensors' snapshot): what a full pass walks, and our share of it."""
    began = walltime.perf_counter()
    gc.collect()
    full_ms = 1000 * (walltime.perf_counter() - began)
    total = len(gc.get_objects())
    roots = {
        "cache": coordinator.store.cache,
        "memos": coordinator._importer._memos,
        "bills": coordinator._importer.bills,
        "snapshot": coordinator.data,
    }
    seen: set[int] = set()
    shares: list[str] = []
    kinds: Counter[str] = Counter()
    for name, root in roots.items():
        before = len(seen)
        stack = [root] if gc.is_tracked(root) else []
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            kinds[type(obj).__name__] += 1
            stack.extend(ref for ref in gc.get_referents(obj) if gc.is_tracked(ref) and not isinstance(ref, type))
        shares.append(f"{name} {len(seen) - before:,}")
    common = ", ".join(f"{kind} {count:,}" for kind, count in kinds.most_common(6))
    everything: Counter[str] = Counter()
    references: Counter[str] = Counter()
    for obj in gc.get_objects():
        everything[type(obj).__name__] += 1
        references[type(obj).__name__] += len(gc.get_referents(obj))
    whole = ", ".join(f"{kind} {count:,}" for kind, count in everything.most_common(8))
    edges = ", ".join(f"{kind} {count:,}" for kind, count in references.most_common(6))
    return (
        f"{total:,} objects tracked by the cycle collector ({gc.get_freeze_count():,} frozen), {len(seen):,} of them"
        f" the entry's state ({', '.join(shares)}; most: {common}); a full pass now: {full_ms:.1f} ms\n"
        f"  all tracked objects by type: {whole}\n  references they hold ({references.total():,}), by type: {edges}"
    )


def _print_profile(profiler: cProfile.Profile) -> None:
    """The integration's functions by their own time over the backfill (``ENEDIS_BENCH_PROFILE=1``)."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats("custom_components/enedis", 30)
    print("\nthe backfill's profile, the integration's functions by own time (every thread):")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[-6000:])


def _cpu_steal_s() -> float:
    """The machine's CPU time stolen by the hypervisor so far (all cores, /proc/stat), in seconds."""
    try:
        with Path("/proc/stat").open(encoding="ascii") as stat:
            fields = stat.readline().split()
    except OSError:
        return 0.0
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


_MACHINE_PROBE = """
import os, sys, threading, time
tick = os.sysconf("SC_CLK_TCK")
def steal():
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
    except OSError:
        return 0.0
    return int(fields[8]) / tick if len(fields) > 8 else 0.0
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
samples = []
due = time.perf_counter() + 0.005
while not done.is_set():
    time.sleep(max(0.0, due - time.perf_counter()))
    now = time.perf_counter()
    samples.append(f"{now:.6f} {max(0.0, now - due):.6f} {steal():.2f}")
    due = now + 0.005
sys.stdout.write("\\n".join(samples))
"""


class MachineProbe:
    """Another process (no interpreter lock shared with Home Assistant) running the same 5 ms timer as
    `LoopLagProbe`, and reading the hypervisor's stolen CPU time (`/proc/stat`) at each tick.

    Set beside a stall of the event loop: if this process was late too, the machine ran nothing of anyone's at
    that moment (the hypervisor or the kernel); if it was on time, a core was there to run the loop and the loop
    waited for something of its own process (a callback, the collector, the interpreter lock held by a thread).
    `perf_counter` is the system's monotonic clock: the two processes' times compare. It was a thread of the
    benchmark's process before, which itself competed for the interpreter lock 200 times a second.
    """

    def __init__(self) -> None:
        self.samples: list[tuple[float, float, float]] = []  # (perf_counter at wake-up, lag s, stolen s so far)
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(  # noqa: S603 (this interpreter, a fixed script)
            [sys.executable, "-c", _MACHINE_PROBE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def stop(self) -> None:
        if self._process is None:
            return
        out, _ = self._process.communicate("", timeout=30)
        self._process = None
        for line in out.splitlines():
            at, lag, stolen = line.split()
            self.samples.append((float(at), float(lag), float(stolen)))

    def late(self, lo: float, hi: float) -> float:
        """This process' longest lag (s) among its samples woken between ``lo`` and ``hi`` (perf_counter)."""
        return max((lag for at, lag, _ in self.samples if lo <= at <= hi), default=0.0)

    def stolen(self, lo: float, hi: float) -> float:
        """CPU seconds stolen between the last sample before ``lo`` and the first after ``hi``."""
        before = [value for at, _, value in self.samples if at <= lo]
        after = [value for at, _, value in self.samples if at >= hi]
        return after[0] - before[-1] if before and after else 0.0


MACHINE = MachineProbe()


async def _baseline(seconds: float) -> LoopLagProbe:
    """Control 1: the probe alone for ``seconds``, Home Assistant and its recorder running, the integration idle.
    Whatever stall shows here is the machine's (the hypervisor, the other processes), not a cause of ours."""
    probe = LoopLagProbe()
    async with probe.running():
        await asyncio.sleep(seconds)
    return probe


async def _control_write(hass: HomeAssistant, rows: int, cpu: CpuMeter) -> tuple[LoopLagProbe, float, float]:
    """Control 2: ``rows`` hourly rows of a statistic of another source, computed beforehand, queued as the
    integration queues its own (`statistics.async_write`: chunks of 1,000 rows, each once the recorder committed the
    previous one). The recorder's own cost to the loop, the integration computing nothing meanwhile."""
    start = datetime(2020, 1, 1, tzinfo=UTC)
    hours = array("d", (start.timestamp() + 3600 * i for i in range(rows)))
    states = [float(i % 7) for i in range(rows)]
    sums = list(accumulate(states))
    table = StatRows.from_columns(hours, array("d", states), array("d", sums))
    metadata = StatisticMetaData(
        mean_type=StatisticMeanType.NONE,
        has_sum=True,
        name="benchmark control",
        source="enedis_bench",
        statistic_id="enedis_bench:control",
        unit_class="energy",
        unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    )
    probe = LoopLagProbe()
    async with probe.running():
        t0 = walltime.perf_counter()
        loop, recorder = cpu.loop, cpu.recorder
        await async_write(hass, metadata, table, newest_first=False)
        writer = cpu.loop - loop - (cpu.recorder - recorder)
        await async_wait_recording_done(hass)
        seconds = walltime.perf_counter() - t0
    get_instance(hass).async_clear_statistics([metadata["statistic_id"]])
    await async_wait_recording_done(hass)
    return probe, seconds, writer


async def _hourly_rows(hass: HomeAssistant, statistic_id: str) -> int:
    return len(await async_statistics(hass, statistic_id))


@pytest.mark.timeout(1200)  # a benchmark: the suite's 300 s default (pyproject) is for tests
async def test_statistics_import(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    socket_enabled: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As Home Assistant runs: pytest-homeassistant turns asyncio's debug mode on, which records a traceback at the
    # creation of every callback and slows the loop several-fold.
    hass.loop.set_debug(False)
    # The entry's Store writes a real file, as in Home Assistant (JSON encoded in the executor): pytest-homeassistant's
    # `mock_storage` encodes, decodes, walks and logs at DEBUG every save in the event loop (~2 MB here).
    hass.config.config_dir = str(tmp_path)
    clock = ManualClock(paris_datetime(TODAY, 12))
    hass.data[REGISTRY_KEY] = LimiterRegistry(clock)
    cpu = CpuMeter(monkeypatch)
    _timed_store_encode(monkeypatch)
    backfill_cpu: list[float] = []
    MACHINE.start()
    async with gateway_in_process(aioclient_mock):
        # 0. The controls, before the entry exists (once set up, its own timer refreshes it): the probe alone, then
        # the recorder alone writing rows no one computes meanwhile.
        baseline_probe = await _baseline(BASELINE_S)
        control_probe, control_s, control_writer = await _control_write(hass, CONTROL_ROWS, cpu)
        assert await async_setup_component(hass, "application_credentials", {})
        await async_import_client_credential(
            hass, DOMAIN, ClientCredential("demo-client-id", "demo-client-secret"), "cred"
        )
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Linky bench",
            data={
                "source": "data_connect",
                "auth_implementation": "cred",
                "environment": "sandbox",
                "consent_duration": "P3Y",
                "authorization_ids": [],
                "prms": [PRM],
                "consent_expires": "2029-11-22T00:00:00+00:00",
            },
            unique_id=PRM,
            options={
                "curve_history_months": 24,
                "daily_history_months": 36,
                # Every series: off-peak / peak (from the contract's windows and the meter's registers), the cost
                # of the consumption and the compensation of the production.
                "tariff_option": "hphc",
                "price_periods": [{"start": "2023-01-01T00:00:00+01:00", "prices": PRICES}],
                "monthly_fee": 15.0,
            },
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        coordinator = entry.runtime_data
        store = coordinator.store._store
        store._async_write_data = REAL_WRITE.__get__(store)  # type: ignore[method-assign]

        # 1. The whole backfill, refreshes back to back.
        collector = CollectorPauses()
        collector.start()
        callbacks = SlowCallbacks()
        callbacks.start()
        probe = LoopLagProbe()
        watcher = StallStacks(probe)
        watcher.start()
        t0 = walltime.perf_counter()
        steal_before = _cpu_steal_s()
        refreshes = 0
        profiler = cProfile.Profile() if os.environ.get("ENEDIS_BENCH_PROFILE") == "1" else None
        async with probe.running():
            if profiler is not None:
                profiler.enable()
            while coordinator.data.prms[PRM].backfill_progress < 100:
                backfill_cpu.append(await cpu.refresh(coordinator))
                assert coordinator.last_update_success, coordinator.errors
                refreshes += 1
                assert refreshes < 200
            if profiler is not None:
                profiler.disable()
                _print_profile(profiler)
            await async_wait_recording_done(hass)
        backfill_s = walltime.perf_counter() - t0
        backfill_steal = _cpu_steal_s() - steal_before
        watcher.stop()
        for stack in watcher.stacks:
            print(stack)
        backfill_probe = probe
        rows_after_backfill = coordinator.rows_written
        heap = _tracked_objects(coordinator)
        ids = [f"enedis:{PRM}_{key}" for key in SERIES]
        stored = {sid: await _hourly_rows(hass, sid) for sid in ids}

        # 2. Full re-import of both series into emptied statistics tables.
        get_instance(hass).async_clear_statistics(ids)
        await async_wait_recording_done(hass)
        assert [await _hourly_rows(hass, sid) for sid in ids] == [0] * len(ids)
        touched = set()
        for direction in (Direction.CONSUMPTION, Direction.PRODUCTION):
            coordinator.store.cache.prm(PRM).series[direction].written = {}
            coordinator.store.cache.prm(PRM).series[direction].extra_written = {}
            touched.add((PRM, direction))
        before = coordinator.rows_written
        probe = LoopLagProbe()
        async with probe.running():
            t0 = walltime.perf_counter()
            await coordinator._async_import(touched)
            queued_at = walltime.perf_counter()
            await async_wait_recording_done(hass)
            import_s = walltime.perf_counter() - t0
        queued_s = queued_at - t0
        rows = coordinator.rows_written - before
        reimported = {sid: await _hourly_rows(hass, sid) for sid in ids}
        assert reimported == stored

        # 3. The check made at each start: every statistic read back and compared with the cache (nothing differs).
        reconcile_probe = LoopLagProbe()
        async with reconcile_probe.running():
            t0 = walltime.perf_counter()
            repaired = await coordinator.async_reconcile()
            reconcile_s = walltime.perf_counter() - t0
        assert repaired == 0

        # 4. The steady state: yesterday is forgotten (its hours written as 0), then the daily poll brings it back.
        yesterday = TODAY - timedelta(days=1)
        directions = (Direction.CONSUMPTION, Direction.PRODUCTION)
        cache = coordinator.store.cache.prm(PRM)
        steady_cpu: list[float] = []
        steady_rows: list[int] = []
        steady_requests: list[int] = []
        steady_probe = LoopLagProbe()
        async with steady_probe.running():
            for _ in range(STEADY_DAYS):
                for direction in directions:
                    _forget(cache.series[direction], yesterday)
                await coordinator._async_import({(PRM, direction) for direction in directions})
                await async_wait_recording_done(hass)
                for direction in directions:
                    cache.series[direction].last_poll_day = yesterday
                coordinator._last_poll_attempt.clear()
                before, sent = coordinator.rows_written, aioclient_mock.call_count
                steady_cpu.append(await cpu.refresh(coordinator))
                assert coordinator.last_update_success, coordinator.errors
                steady_rows.append(coordinator.rows_written - before)
                steady_requests.append(aioclient_mock.call_count - sent)
                await async_wait_recording_done(hass)
        assert min(steady_rows) > 0, steady_rows

        collector.stop()
        MACHINE.stop()
        callbacks.stop()
        await coordinator.store.async_save()
        store_kb = (await hass.async_add_executor_job(os.path.getsize, store.path)) / 1024
        maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        requests = aioclient_mock.call_count
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()

    print()
    print(f"Statistics import, Data Connect, sandbox client 6 ({PRM}: consumption + production), on-disk SQLite,")
    print(f"HP/HC with prices: {len(ids)} series ({', '.join(SERIES)})")
    limit = STALL_LIMIT_MS / 1000
    print(f"{'phase':<44} {'rows':>8} {'time':>9} {'rows/s':>9} {'max stall':>10} {'> 50 ms':>8}")
    print("-" * 93)

    def line(label: str, rows: int, seconds: float, lag: float, over: int | str) -> None:
        print(f"{label:<44} {rows:>8} {seconds:>8.2f}s {rows / seconds:>9,.0f} {lag * 1000:>8.1f}ms {over:>8}")

    def machine(phase_probe: LoopLagProbe) -> str:
        """The other process' timer over a phase, and how many of the loop's stalls over 50 ms it shared."""
        if not phase_probe.samples:
            return ""
        lo, hi = phase_probe.samples[0][0], phase_probe.samples[-1][0]
        stalls = [(at - lag, at) for at, lag in phase_probe.samples if lag > limit]
        shared = sum(1 for a, b in stalls if MACHINE.late(a, b + 0.005) > limit / 2)
        return (
            f"    another process' 5 ms timer: longest lag {1000 * MACHINE.late(lo, hi):.1f} ms, "
            f"over 50 ms {sum(1 for at, lag, _ in MACHINE.samples if lo <= at <= hi and lag > limit)}; "
            f"of the loop's {len(stalls)} stalls over 50 ms, {shared} with that process over 25 ms late too"
        )

    line(
        f"control: the probe alone, {BASELINE_S:.0f} s",
        0,
        BASELINE_S,
        baseline_probe.max_lag(),
        baseline_probe.over(limit),
    )
    print(machine(baseline_probe))
    line(
        "control: the recorder alone, rows of another source",
        CONTROL_ROWS,
        control_s,
        control_probe.max_lag(),
        control_probe.over(limit),
    )
    print(machine(control_probe))
    print(
        f"    the writer's CPU in the loop (the recorder's validation left out): {1000 * control_writer:.0f} ms, "
        f"{1e6 * control_writer / CONTROL_ROWS:.2f} ms per 1,000 rows"
    )
    backfill_lag = backfill_probe.max_lag()
    label = f"full backfill ({requests} requests, {refreshes} refreshes)"
    line(label, rows_after_backfill, backfill_s, backfill_lag, backfill_probe.over(limit))
    print(machine(backfill_probe))
    queue_lag = probe.max_lag(end=queued_at)
    commit_lag = probe.max_lag(start=queued_at)
    line(f"re-import {len(ids)} series: compute + paced queueing", rows, queued_s, queue_lag, "")
    line(f"re-import {len(ids)} series: until committed", rows, import_s, max(queue_lag, commit_lag), probe.over(limit))
    print(f"  of which the recorder committing the last chunks alone: {commit_lag * 1000:.1f} ms max stall")
    print(machine(probe))
    total_stored = sum(stored.values())
    line(
        f"start-up check: {len(ids)} series read back",
        total_stored,
        reconcile_s,
        reconcile_probe.max_lag(),
        reconcile_probe.over(limit),
    )
    print(
        f"rows written by the backfill per row stored: {rows_after_backfill:,} / {total_stored:,} = "
        f"{rows_after_backfill / total_stored:.2f} (limit 3; sums from 0 at the oldest row at every moment)"
    )
    print(f"hourly rows stored per series: {sorted(set(stored.values()))}; Store file {store_kb:,.0f} kB; ", end="")
    print(f"process peak RSS {maxrss_mb:.0f} MB")
    print(f"after the backfill: {heap}")
    print(f"CPU time stolen by the hypervisor during the backfill: {backfill_steal:.2f} s (all cores)")
    gateway_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"the fake gateway's process used {gateway_cpu.ru_utime + gateway_cpu.ru_stime:.1f} s of CPU over the run "
        f"(on {os.cpu_count()} cores, beside Home Assistant's threads; Enedis is remote)"
    )
    print(
        "CPU time of the integration's own code per refresh (the loop's callbacks, recorder and probe excluded,"
        " + compute in executor):"
    )
    print(f"  backfill, {len(backfill_cpu)} refreshes: {_ms(backfill_cpu)} (target 200 ms); loop + executor ms each:")
    parts = cpu.parts[: len(backfill_cpu)]
    print("   ", " ".join(f"{1000 * loop:.0f}+{1000 * executor:.0f}" for loop, executor in parts))
    print("    of the loop's, while the writer queued rows and waited for their commits (ms):")
    print("   ", " ".join(f"{1000 * writer:.0f}" for writer in cpu.writers[: len(backfill_cpu)]))
    for index, ((loop, executor), computes) in enumerate(zip(parts, cpu.details, strict=False)):
        if loop + executor > 0.15:
            print(f"    refresh {index + 1} ({1000 * loop:.0f}+{1000 * executor:.0f} ms): {'; '.join(computes)}")
    print(
        f"  steady state, daily poll of a new day with 24 months cached, {STEADY_DAYS} runs: {_ms(steady_cpu)} "
        f"(target 50 ms); {sorted(set(steady_requests))} requests and {sorted(set(steady_rows))} rows per poll, "
        f"longest stall {steady_probe.max_lag() * 1000:.1f} ms; loop + executor ms each:"
    )
    print("   ", " ".join(f"{1000 * loop:.0f}+{1000 * executor:.0f}" for loop, executor in cpu.parts[-STEADY_DAYS:]))
    worst = max(backfill_lag, queue_lag, commit_lag, steady_probe.max_lag()) * 1000
    verdict = "OK" if worst <= STALL_LIMIT_MS else "EXCEEDED"
    print(f"longest event-loop stall: {worst:.1f} ms (limit {STALL_LIMIT_MS:.0f} ms): {verdict}")
    print("the cycle collector, per phase (a full pass holds the interpreter lock, whichever thread runs it):")
    for label, phase_probe in (
        ("backfill", backfill_probe),
        ("re-import", probe),
        ("start-up check", reconcile_probe),
        ("steady state", steady_probe),
    ):
        first = phase_probe.samples[0][0] if phase_probe.samples else 0.0
        last = phase_probe.samples[-1][0] if phase_probe.samples else 0.0
        inside = CollectorPauses()
        inside.passes = [p for p in collector.passes if first <= p[1] <= last]
        print(f"  {label}: {inside.explain(phase_probe, limit)}")
    for label, phase_probe in (("backfill", backfill_probe), ("re-import", probe), ("steady state", steady_probe)):
        if text := explain_stalls(phase_probe, collector, limit, callbacks.slow):
            print(f"{label}, what overlapped each stall over {limit * 1000:.0f} ms (ms):")
            print(text)
    print(
        "full passes (ms, objects collected, thread):",
        ", ".join(f"{1000 * d:.0f}/{n}/{t}" for d, n, t in collector.collected),
    )
    if callbacks.slow:
        print("event-loop callbacks over 20 ms (the longest):")
        print(callbacks.report())
