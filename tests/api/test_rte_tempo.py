"""RTE's public Tempo season endpoint: the parser on the documented body shape, the client against a local server.

The body shape is the one documented in the price research (``{"values": {"YYYY-MM-DD": "BLUE|WHITE|RED"}}``);
the local server serves season 2025-2026 in that shape from the shipped calendar, so the round trip can be
compared day by day with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
import json

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.enedis.api.errors import (
    CommunicationError,
    InvalidResponseError,
    ServerError,
    UnrecognizedResponseError,
)
from custom_components.enedis.api.rte_tempo import (
    async_get_tempo_season,
    parse_tempo_season,
    season_bounds,
    tempo_season,
)
from custom_components.enedis.tariff_data import load_price_data

PATH = "/cms/open_data/v1/tempo"


def season_body(season: str) -> dict[str, dict[str, str]]:
    """The season as RTE's endpoint gives it, from the shipped calendar."""
    first, last = season_bounds(season)
    colours = load_price_data().tempo
    return {"values": {day.isoformat(): colour.upper() for day, colour in colours.items() if first <= day <= last}}


def test_season_of_a_day() -> None:
    assert tempo_season(date(2026, 8, 31)) == "2025-2026"
    assert tempo_season(date(2026, 9, 1)) == "2026-2027"
    assert tempo_season(date(2027, 1, 15)) == "2026-2027"
    assert season_bounds("2026-2027") == (date(2026, 9, 1), date(2027, 8, 31))
    for bad in ("2026-2028", "2026/2027", "26-27", ""):
        with pytest.raises(ValueError, match="not a Tempo season"):
            season_bounds(bad)


def test_parser_reads_a_whole_season() -> None:
    body = season_body("2025-2026")
    colours = parse_tempo_season(json.loads(json.dumps(body)), "2025-2026")
    assert len(colours) == 365
    assert list(colours.values()).count("red") == 22
    assert list(colours.values()).count("white") == 43
    assert colours[date(2025, 11, 20)] == "white"


def test_parser_leaves_unknown_days_out_and_skips_flags() -> None:
    body = {
        "values": {
            "2026-09-01": "BLUE",
            "2026-11-30": "RED",
            "2026-12-01": "NON_DEFINI",
            "2026-12-01-fallback": "false",
            "2026-12-02": None,
        }
    }
    assert parse_tempo_season(body, "2026-2027") == {date(2026, 9, 1): "blue", date(2026, 11, 30): "red"}
    assert parse_tempo_season({"values": {}}, "2026-2027") == {}


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"values": []},
        {"values": {"today": "BLUE"}},
        {"values": {"2025-12-01": "BLUE"}},  # another season than asked
        "<html></html>",
    ],
)
def test_parser_refuses_what_is_not_a_season(body: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_tempo_season(body, "2026-2027")


async def _handler(request: web.Request) -> web.Response:
    season = request.query.get("season", "")
    if season == "2030-2031":
        return web.Response(status=503, text="maintenance")
    if season == "2031-2032":
        return web.Response(status=200, text="<html>not json</html>", content_type="text/html")
    if season != "2025-2026":
        return web.Response(status=404, text="<html>Not found</html>", content_type="text/html")
    return web.json_response(season_body(season))


@pytest.fixture
async def rte(socket_enabled: None) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    app = web.Application()
    app.router.add_get(PATH, _handler)
    server = TestServer(app)
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        yield str(server.make_url(PATH)), session
    await server.close()


async def test_client_reads_a_season_over_http(rte: tuple[str, aiohttp.ClientSession]) -> None:
    url, session = rte
    colours = await async_get_tempo_season(session, "2025-2026", url=url)
    shipped = load_price_data()
    assert len(colours) == 365
    assert all(shipped.tempo_colour(day) == colour for day, colour in colours.items())


async def test_client_typed_errors(rte: tuple[str, aiohttp.ClientSession]) -> None:
    url, session = rte
    with pytest.raises(ServerError) as server_error:
        await async_get_tempo_season(session, "2030-2031", url=url)
    assert server_error.value.status == 503
    assert server_error.value.retryable
    with pytest.raises(InvalidResponseError):
        await async_get_tempo_season(session, "2031-2032", url=url)
    with pytest.raises(UnrecognizedResponseError):
        await async_get_tempo_season(session, "2024-2025", url=url)
    with pytest.raises(ValueError, match="not a Tempo season"):
        await async_get_tempo_season(session, "2025", url=url)


async def test_client_network_failure(socket_enabled: None) -> None:
    # a port nobody listens on: bind one, close it, connect to it
    server = TestServer(web.Application())
    await server.start_server()
    url = str(server.make_url(PATH))
    await server.close()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(CommunicationError):
            await async_get_tempo_season(session, "2025-2026", url=url)
