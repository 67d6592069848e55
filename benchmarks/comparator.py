"""Benchmark: the tariff comparator's CPU time for a year of hourly consumption, every option.

`comparator.compare` (pure; the integration runs it in the executor, at most once a day and for the
``enedis.compare_tariffs`` action) over the local year 2025, 500 Wh every hour, 9 kVA, own off-peak windows, with
the shipped price data (`tariff_data.load_price_data`, read once before). Prints the process CPU time of each of five
runs and their median. Performance is measured here, not in the unit tests (`tests/unit/test_comparator.py` checks
what the comparison says).

Run: ``scripts/run python benchmarks/comparator.py``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
import statistics
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.enedis.comparator import compare
from custom_components.enedis.tariff_data import load_price_data
from custom_components.enedis.tariffs import parse_offpeak
from tests.unit.test_comparator import flat

RUNS = 5
FIRST, LAST = date(2025, 1, 1), date(2025, 12, 31)


def main() -> None:
    """Time `compare` and print the figures."""
    data = load_price_data()
    hours = flat(FIRST, LAST, 500.0)  # the unit test's year, timed here
    windows = parse_offpeak("HC (2H00-8H00)")
    spent: list[float] = []
    for _ in range(RUNS):
        started = time.process_time()
        result = compare(
            data, kva=9, hours=hours, daily_only={}, first=FIRST, last=LAST, offpeak=windows, colours={}, current="base"
        )
        spent.append(time.process_time() - started)
    options = [option for option in result.options if option.available]
    print(
        f"tariff comparator, {len(hours):,} hours ({result.common_days} days in common), {len(options)} options: "
        f"CPU {', '.join(f'{1000 * s:.0f}' for s in spent)} ms; median {1000 * statistics.median(spent):.0f} ms"
    )


if __name__ == "__main__":
    main()
