"""What a recorder holds after a publication: the test of `ledger.publish` and `ledger.publish_update`.

A publication is right when, applied as the importer applies it to a recorder holding the statistic's previous
rows (its `SumShift` first, then its rows upserted by start), every hour from the origin to the newest ends with its
energy and its sum counted from the origin, to `ledger.TOLERANCE_KWH` (rows within it are not rewritten).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pytest

from custom_components.enedis.ledger import TOLERANCE_KWH, Publication, build_rows

Table = dict[datetime, tuple[float, float]]


def recorder_after(previous: Mapping[datetime, float], origin: datetime | None, publication: Publication) -> Table:
    """The rows (start -> (state, sum), kWh) of a recorder that held ``previous`` (written from ``origin``) once
    ``publication`` is applied."""
    table: Table = {}
    if previous and origin is not None:
        table = {row.start: (row.state, row.sum) for row in build_rows(previous, origin)}
    if (shift := publication.shift) is not None:
        table = {h: (s, total + shift.kwh if h >= shift.start else total) for h, (s, total) in table.items()}
    table.update({row.start: (row.state, row.sum) for row in publication.rows})
    return table


def assert_holds(table: Table, written: Mapping[datetime, float], origin: datetime, tolerance: float = 0.0) -> None:
    """``table`` is ``written`` with sums from ``origin``, each value to ``TOLERANCE_KWH`` (+ ``tolerance``, for
    rows left alone because they moved by less than it in earlier publications)."""
    expected = {row.start: (row.state, row.sum) for row in build_rows(written, origin)}
    assert_same_tables(table, expected, TOLERANCE_KWH + tolerance)


def assert_same_tables(got: Table, expected: Table, tolerance: float = 0.0) -> None:
    """The same hours, each state and sum within ``tolerance`` (+ a float's rounding)."""
    assert sorted(got) == sorted(expected)
    for hour, (state, total) in expected.items():
        assert got[hour][0] == pytest.approx(state, abs=tolerance + 1e-12), hour
        assert got[hour][1] == pytest.approx(total, abs=tolerance + 1e-12), hour
