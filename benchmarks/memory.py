"""Benchmark: peak memory of a full backfill (library level), and parse throughput of both body shapes.

Peak memory: `tracemalloc` around the full backfill of `benchmarks/request_counts.py` (24 months of curve, 36 of
daily energy and max power, every direction, fake gateway in the same process) for each scenario through Data
Connect, plus the process's peak RSS (``getrusage``). The readings are kept as the integration's cache keeps them
(a `DayCurve` per day of curve). "curve" is the memory of the kept load curve, "objects" the number of objects it
adds for Python's cycle collector to walk (what lengthens a full collection, a pause of the whole process), next
to the same curve as tuples of `Reading` objects (how version 1 of the cache kept it).
Parse throughput: ``benchmarks/parse.py`` (one year of 30-minute points, 2026 and v5 shapes).

Run: ``scripts/run python benchmarks/memory.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import gc
import importlib.util
from pathlib import Path
import resource
import subprocess
import sys
import tracemalloc

HERE = Path(__file__).resolve().parent


def _load_requests_benchmark():
    spec = importlib.util.spec_from_file_location("enedis_bench_requests", HERE / "request_counts.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # its import fixes sys.path (no shadowing of ``requests``)
    return module


def _cost(build: Callable[[], dict]) -> tuple[int, int]:
    """(bytes, objects for the cycle collector to walk) held by what ``build`` returns, while it is alive."""
    gc.collect()
    size, objects = tracemalloc.get_traced_memory()[0], len(gc.get_objects())
    built = build()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - size, len(gc.get_objects()) - objects
    del built
    return held


def main() -> None:
    bench = _load_requests_benchmark()
    print("Peak memory of a full backfill (library + fake gateway in one process, Data Connect)")
    print(
        f"{'scenario':<34} {'requests':>8} {'daily kWh':>10} {'peak':>9} {'curve':>9} {'objects':>8} "
        f"{'as Readings':>12} {'objects':>8}"
    )
    print("-" * 106)
    for name, client in bench.SCENARIOS.items():
        cache: dict = {}
        tracemalloc.start()
        result = asyncio.run(bench.run(name, client, "Data Connect", cache))
        _, peak = tracemalloc.get_traced_memory()
        curves = {k: v for k, v in cache.items() if isinstance(v, bench.DayCurve)}
        # The curve as the cache keeps it (a `DayCurve` per day), and as version 1 kept it (tuples of `Reading`).
        held, objects = _cost(lambda: {k: bench.DayCurve(v.spans()) for k, v in curves.items()})  # noqa: B023
        old_held, old_objects = _cost(lambda: {k: tuple(v) for k, v in curves.items()})  # noqa: B023
        tracemalloc.stop()
        print(
            f"{name:<34} {result.requests:>8} {result.wh / 1000:>10,.0f} {peak / 2**20:>6.1f} MB "
            f"{held / 2**20:>6.1f} MB {objects:>8,} {old_held / 2**20:>9.1f} MB {old_objects:>8,}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (all scenarios, Python + aiohttp + HA-free library): {rss:.0f} MB")
    print()
    print("Parse throughput (benchmarks/parse.py: 2025, 17,520 half-hours per body)")
    sys.stdout.flush()
    # -P: this folder stays off sys.path (benchmarks/requests.py would shadow the ``requests`` package HA imports).
    subprocess.run([sys.executable, "-P", str(HERE / "parse.py")], check=True)  # noqa: S603


if __name__ == "__main__":
    main()
