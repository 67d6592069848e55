"""RTE's public Tempo season endpoint, as the fake gateway serves it (``GET /cms/open_data/v1/tempo?season=``).

The tests reach it at its real URL (``https://www.services-rte.com/cms/open_data/v1/tempo``, routed here like the
Enedis hosts, ``tests/integration/gateway.py``); ``scripts/develop``'s demo at ``http://127.0.0.1:8788/cms/...``.

The fake has no Tempo ground truth of its own, so every season follows one fixed pattern (`season_colours`) shaped
like RTE's rules: 22 red days on weekdays from 1 November to 31 March, 43 white days on days other than Sunday from
1 October to 31 May, every other day blue. The answer holds the season's days up to the server's today, and
tomorrow once it is 11:00 in Paris (RTE announces the next day's colour around 10:40); later days are absent, as
on RTE. Faults armed with a ``path`` matching ``/cms/open_data`` apply (``technical_error`` / ``plain_500``:
500, ``html_error``: its status page, ``malformed_json``: half a body); none applies by default.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from functools import cache
import json
import re

from aiohttp import web

from .server import STATE_KEY
from .state import FakeState

RTE_TEMPO_PATH = "/cms/open_data/v1/tempo"
"""The endpoint's path (``state.count(RTE_TEMPO_PATH)`` counts the requests it received)."""
PUBLISH_TIME = time(11)
"""Paris time from which tomorrow's colour is served."""
_SEASON = re.compile(r"(\d{4})-(\d{4})")
_RTE = {"blue": "BLUE", "white": "WHITE", "red": "RED"}


@cache
def season_colours(season_start: int) -> dict[date, str]:
    """The fake's colour of every day of the season starting on 1 September ``season_start`` (``blue``...)."""
    first, last = date(season_start, 9, 1), date(season_start + 1, 8, 31)
    colours: dict[date, str] = {}
    red_candidates = white_candidates = 0
    reds = whites = 0
    day = first
    while day <= last:
        colour = "blue"
        winter = day.month in (11, 12, 1, 2, 3)
        if winter and day.weekday() < 5:
            red_candidates += 1
            if red_candidates % 5 == 1 and reds < 22:
                colour = "red"
                reds += 1
        if colour == "blue" and day.month not in (6, 7, 8, 9) and day.weekday() != 6:
            white_candidates += 1
            if white_candidates % 4 == 2 and whites < 43:
                colour = "white"
                whites += 1
        colours[day] = colour
        day += timedelta(days=1)
    return colours


def served_colours(state: FakeState, season_start: int) -> dict[date, str]:
    """The days of the season the endpoint answers now: to today, and tomorrow from 11:00 Paris."""
    now = state.now_local()
    horizon = now.date() + timedelta(days=1) if now.time() >= PUBLISH_TIME else now.date()
    return {day: colour for day, colour in season_colours(season_start).items() if day <= horizon}


async def tempo_handler(request: web.Request) -> web.Response:
    """``?season=YYYY-YYYY`` -> ``{"values": {"YYYY-MM-DD": "BLUE", ...}}``; 400 for another query."""
    state = request.app[STATE_KEY]
    faults = state.take_faults(request.path, default_scope=False)
    for fault in faults:
        if fault.kind in ("technical_error", "plain_500"):
            return web.Response(status=500, text="500 Internal Server Error", content_type="text/plain")
        if fault.kind == "html_error":
            return web.Response(status=fault.status, text=f"<html>{fault.status}</html>", content_type="text/html")
    match = _SEASON.fullmatch(request.query.get("season", ""))
    if match is None or int(match[2]) != int(match[1]) + 1:
        return web.json_response({"error": "season expected as YYYY-YYYY"}, status=400)
    values = {day.isoformat(): _RTE[colour] for day, colour in served_colours(state, int(match[1])).items()}
    text = json.dumps({"values": values})
    if any(fault.kind == "malformed_json" for fault in faults):
        text = text[: len(text) // 2]
    return web.Response(status=200, text=text, content_type="application/json")


def install(app: web.Application) -> None:
    """Add the endpoint to the fake gateway's app."""
    app.router.add_get(RTE_TEMPO_PATH, tempo_handler)
