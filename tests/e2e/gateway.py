"""The fake gateway for the end-to-end tests: ``python -m tests.e2e.gateway --port 8789 --delay 1``.

The same app as ``python -m tests.fake_enedis`` (real Paris date, quotas on), plus, for the tests only (the demo
gateway of ``scripts/develop`` has none of it):

* ``--delay S``: every measure request is answered S seconds late, so that the backfill's first burst lasts
  long enough for the test to restart Home Assistant in the middle of it;
* ``GET /_e2e/requests``: the requests the gateway saw (method, path, query, status), as JSON;
* ``GET /_e2e/truth?prm=P&direction=CONS[&start=YYYY-MM-DD&end=YYYY-MM-DD]``: the ground truth of what the gateway
  served for that PRM and direction (see `served_days` and `truth`). The browser walk-through (``tests/e2e/browser``)
  compares the Energy dashboard with it: its ``browser.py`` runs on the host's Python without the project's
  dependencies, so the gateway, which has ``tests/fake_enedis/data.py`` at hand, does the sums. The truth is
  taken from the requests actually answered, not recomputed from the integration's options and horizons: it holds
  whatever the integration chose to import.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from tests.fake_enedis import data, measures
from tests.fake_enedis.server import STATE_KEY, create_app
from tests.fake_enedis.state import FakeState, RequestRecord

ENERGY_KINDS = frozenset({"curve", "daily"})
"""Measures whose days carry the day's energy: a day served by either is a day the integration imported."""


async def requests_handler(request: web.Request) -> web.Response:
    """Every request logged so far (never a credential: the log keeps no header and no client_secret)."""
    state: FakeState = request.app[STATE_KEY]
    return web.json_response(
        [{"method": r.method, "path": r.path, "query": r.query, "status": r.status} for r in state.requests]
    )


def _measure(record: RequestRecord) -> tuple[str, data.Direction, str, str, str] | None:
    """(kind, direction, PRM, start, end) of a measure request, whichever API it went through, else None."""
    parts = record.path.strip("/").split("/")
    query = record.query
    if len(parts) == 3 and parts[0] == "mesure_synchrone_auto" and parts[2] in measures.V2_RESOURCES:
        kind, direction = measures.V2_RESOURCES[parts[2]]
        return kind, direction, query.get("pointId", ""), query.get("dateDebut", ""), query.get("dateFin", "")
    if len(parts) == 3 and parts[:2] == ["conso", "api"]:
        resource = parts[2]
        if resource in measures.CONSO_LEGACY:
            kind, direction = measures.V5_RESOURCES[measures.CONSO_LEGACY[resource]]
        elif resource in measures.V2_RESOURCES:
            kind, direction = measures.V2_RESOURCES[resource]
        else:
            return None
        prm = query.get("pointId") or query.get("prm") or ""
        start = query.get("dateDebut") or query.get("start", "")
        return kind, direction, prm, start, query.get("dateFin") or query.get("end", "")
    if len(parts) == 3 and (parts[0], parts[2]) in measures.V5_RESOURCES:
        kind, direction = measures.V5_RESOURCES[(parts[0], parts[2])]
        return kind, direction, query.get("usage_point_id", ""), query.get("start", ""), query.get("end", "")
    return None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def served_days(state: FakeState, records: Iterable[RequestRecord], prm: str, direction: data.Direction) -> set[date]:
    """Days whose energy the gateway served for ``prm`` and ``direction``.

    A day counts when a load-curve or daily-energy request for it was answered 200 (Data Connect, Conso API, v5)
    and the gateway has data for it: not before the activation, not in a hole, published. Publication is judged
    now, not when the request was answered: only a request for yesterday sent before 08:00 (Paris) and a truth
    asked after it would differ, and the walk-through asks about the oldest year, never about yesterday.
    """
    days: set[date] = set()
    for record in records:
        measure = _measure(record)
        if record.status != 200 or measure is None:
            continue
        kind, measure_direction, measure_prm, start_text, end_text = measure
        start, end = _date(start_text), _date(end_text)
        if kind not in ENERGY_KINDS or measure_direction != direction or measure_prm != prm or not start or not end:
            continue
        day = start
        while day < end:
            if data.has_data(prm, day, ignore_holes=state.holes_filled) and state.is_published(day):
                days.add(day)
            day += timedelta(days=1)
    return days


def truth(
    state: FakeState, prm: str, direction: data.Direction, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    """The served span (``first``, ``last``) and the energy served in ``[start, end)`` (all of it by default).

    ``wh`` is the exact sum of ``data.daily_wh`` over the served days of the period (what the integration's
    statistics must add up to, to the watt-hour), ``days`` their number.
    """
    served = served_days(state, list(state.requests), prm, direction)
    period = sorted(d for d in served if (start is None or d >= start) and (end is None or d < end))
    return {
        "prm": prm,
        "direction": direction,
        "first": min(served).isoformat() if served else None,
        "last": max(served).isoformat() if served else None,
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "days": len(period),
        "wh": sum(data.daily_wh(prm, direction, d, ignore_holes=state.holes_filled) for d in period),
    }


async def truth_handler(request: web.Request) -> web.Response:
    """``GET /_e2e/truth``: `truth` as JSON; 400 for a missing PRM, an unknown direction or a malformed date."""
    state: FakeState = request.app[STATE_KEY]
    query = request.query
    prm = query.get("prm", "")
    direction = query.get("direction", data.CONS)
    bounds = {name: _date(query[name]) if name in query else None for name in ("start", "end")}
    if (
        not prm
        or direction not in (data.CONS, data.PROD)
        or any(name in query and bounds[name] is None for name in bounds)
    ):
        return web.json_response({"error": "prm, direction CONS|PROD, start/end YYYY-MM-DD"}, status=400)
    result = truth(state, prm, data.CONS if direction == data.CONS else data.PROD, bounds["start"], bounds["end"])
    return web.json_response(result)


def create_e2e_app(state: FakeState) -> web.Application:
    """The fake gateway with the end-to-end tests' routes."""
    app = create_app(state)
    app.router.add_get("/_e2e/requests", requests_handler)
    app.router.add_get("/_e2e/truth", truth_handler)
    return app


def main() -> None:
    """Serve the fake gateway with the test's switches."""
    parser = argparse.ArgumentParser(description="Fake Enedis gateway for the end-to-end tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8789)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added to every measure request")
    args = parser.parse_args()
    state = FakeState()
    if args.delay:
        state.add_fault("delay", None, path=r"^/mesure_synchrone_auto/", delay=args.delay)
    app = create_e2e_app(state)
    print(f"e2e gateway on http://{args.host}:{args.port}, today = {state.current_date()}", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
