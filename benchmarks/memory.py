"""Benchmark: peak memory of a full backfill (library level), and parse throughput of both body shapes.

Peak memory: `tracemalloc` around the full backfill of `benchmarks/requests.py` (24 months of curve, 36 of daily
energy and max power, every direction, fake gateway in the same process) for each scenario through Data Connect,
plus the process's peak RSS (``getrusage``). The readings are kept, as the integration's cache keeps them.
Parse throughput: ``benchmarks/parse.py`` (one year of 30-minute points, 2026 and v5 shapes).

Run: ``scripts/run python benchmarks/memory.py``.
"""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
import resource
import subprocess
import sys
import tracemalloc

HERE = Path(__file__).resolve().parent


def _load_requests_benchmark():
    spec = importlib.util.spec_from_file_location("enedis_bench_requests", HERE / "requests.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # its import fixes sys.path (no shadowing of ``requests``)
    return module


def main() -> None:
    bench = _load_requests_benchmark()
    print("Peak memory of a full backfill (library + fake gateway in one process, Data Connect)")
    print(f"{'scenario':<34} {'requests':>8} {'daily kWh':>10} {'tracemalloc peak':>17} {'still held':>11}")
    print("-" * 84)
    for name, client in bench.SCENARIOS.items():
        tracemalloc.start()
        result = asyncio.run(bench.run(name, client, "Data Connect"))
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"{name:<34} {result.requests:>8} {result.wh / 1000:>10,.0f} {peak / 2**20:>14.1f} MB "
            f"{current / 2**20:>8.1f} MB"
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
