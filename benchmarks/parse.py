"""Benchmark: parse one year (2025) of 30-minute load-curve points in the Data Connect 2026 and v5 shapes.

Run: ``python benchmarks/parse.py`` (or ``scripts/run python benchmarks/parse.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
import random
import statistics
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.api.models import Direction, Measure
from custom_components.enedis.api.parsers import parse_measure

PRM = "12345678901234"
RUNS = 7


def end_stamps() -> list[str]:
    """Local end stamps of every half-hour of 2025 (46 points on 30 March, 50 on 26 October)."""
    start = datetime(2025, 1, 1, tzinfo=PARIS).astimezone(UTC)
    stop = datetime(2026, 1, 1, tzinfo=PARIS).astimezone(UTC)
    stamps = []
    t = start + timedelta(minutes=30)
    while t <= stop:
        stamps.append(t.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S"))
        t += timedelta(minutes=30)
    return stamps


def bodies() -> dict[str, dict[str, object]]:
    rng = random.Random(2025)
    stamps = end_stamps()
    values = [str(rng.randint(150, 6000)) for _ in stamps]
    dc2026 = {
        "idPrm": PRM,
        "etapeMetier": "BRUT",
        "periode": {"dateDebut": "2025-01-01", "dateFin": "2026-01-01"},
        "modeCalcul": "MESURE",
        "grandeur": [
            {
                "grandeurMetier": "CONS",
                "grandeurPhysique": "PA",
                "unite": "W",
                "points": [
                    {"v": v, "d": d, "p": "PT30M", "n": "B", "iv": "0", "ec": "0"}
                    for v, d in zip(values, stamps, strict=True)
                ],
                "calendrier": [],
            }
        ],
        "contexte": [],
    }
    v5 = {
        "meter_reading": {
            "usage_point_id": PRM,
            "start": "2025-01-01",
            "end": "2026-01-01",
            "quality": "BRUT",
            "reading_type": {"unit": "W", "measurement_kind": "power", "aggregate": "average"},
            "interval_reading": [
                {"value": v, "date": d, "interval_length": "PT30M", "measure_type": "B"}
                for v, d in zip(values, stamps, strict=True)
            ],
        }
    }
    return {"dc2026": dc2026, "v5": v5}


def main() -> None:
    print(f"{'shape':<8} {'points':>7} {'best (ms)':>10} {'median (ms)':>12} {'points/s':>12}")
    results = {}
    for shape, body in bodies().items():
        timings = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            series = parse_measure(body, measure=Measure.LOAD_CURVE, direction=Direction.CONSUMPTION, prm=PRM)
            timings.append(time.perf_counter() - t0)
        results[shape] = series
        points = len(series.readings)
        best, median = min(timings), statistics.median(timings)
        print(f"{shape:<8} {points:>7} {best * 1000:>10.1f} {median * 1000:>12.1f} {points / median:>12,.0f}")
    assert results["dc2026"] == results["v5"], "both shapes must give the same series"
    assert len(results["v5"].readings) == 365 * 48


if __name__ == "__main__":
    main()
