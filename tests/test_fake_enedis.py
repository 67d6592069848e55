"""Tests of the fake Enedis gateway (tests/fake_enedis)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
import itertools
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp.test_utils import TestClient, TestServer
import pytest

from tests.fake_enedis import data
from tests.fake_enedis.data import CONS, PROD
from tests.fake_enedis.server import create_app
from tests.fake_enedis.state import FakeState

TODAY = date(2026, 11, 5)
P0 = "22516914714270"
MESURE = "/mesure_synchrone_auto/v2"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> FakeState:
    return FakeState(today=TODAY, clock=clock, quotas_enabled=False)


@pytest.fixture
async def client(state: FakeState, socket_enabled: None) -> AsyncIterator[TestClient[Any, Any]]:
    # pytest-socket (via pytest-homeassistant-custom-component) blocks sockets; the server only
    # listens on 127.0.0.1.
    async with TestClient(TestServer(create_app(state))) as cli:
        yield cli


async def _token(client: TestClient[Any, Any]) -> str:
    resp = await client.post(
        "/oauth2/v3/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(b"demo-client-id:demo-client-secret").decode()},
    )
    assert resp.status == 200
    return (await resp.json())["access_token"]


@pytest.fixture
async def auth(client: TestClient[Any, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {await _token(client)}"}


async def _get(  # noqa: PLR0917 - positional shorthand keeps the tests readable
    client: TestClient[Any, Any],
    auth: dict[str, str],
    resource: str,
    prm: str,
    start: date,
    end: date,
    **extra: str,
) -> tuple[int, Any]:
    params = {"pointId": prm, "dateDebut": start.isoformat(), "dateFin": end.isoformat(), **extra}
    resp = await client.get(f"{MESURE}/{resource}", params=params, headers=auth)
    text = await resp.text()
    try:
        return resp.status, json.loads(text)
    except ValueError:
        return resp.status, text


# ------------------------------------------------------------------------------------- ground truth


@pytest.mark.parametrize(("day", "count"), [(date(2026, 3, 29), 46), (date(2026, 10, 25), 50), (date(2026, 1, 15), 48)])
def test_curve_daily_integral_and_dst(day: date, count: int) -> None:
    pts = data.curve_points(P0, CONS, day)
    assert len(pts) == count
    assert all(w % 2 == 0 and w >= 0 for _, w in pts)
    assert data.daily_wh(P0, CONS, day) * 2 == sum(w for _, w in pts)
    stamps = [data.local_stamp(e) for e, _ in pts]
    assert stamps[0] == f"{day} 00:30:00"
    assert stamps[-1] == f"{day + timedelta(days=1)} 00:00:00"
    va, peak = data.max_power(P0, day) or (0, datetime.min)
    assert va >= max(w for _, w in pts)
    assert peak.date() == day or peak == datetime.combine(day + timedelta(days=1), time())


def test_dst_stamps() -> None:
    autumn = [data.local_stamp(e)[11:] for e, _ in data.curve_points(P0, CONS, date(2026, 10, 25))]
    assert autumn[2:8] == ["01:30:00", "02:00:00", "02:30:00", "02:00:00", "02:30:00", "03:00:00"]
    spring = [data.local_stamp(e)[11:] for e, _ in data.curve_points(P0, CONS, date(2026, 3, 29))]
    assert spring[2:4] == ["01:30:00", "03:00:00"]


def test_profile_shapes() -> None:
    winter = data.daily_wh(P0, CONS, date(2026, 1, 14))
    summer = data.daily_wh(P0, CONS, date(2026, 7, 15))
    assert winter > summer > 0
    prod = data.curve_points("24880057139941", PROD, date(2026, 6, 21))
    night = [w for e, w in prod if data.local_stamp(e)[11:13] in {"00", "01", "02", "03", "23"}]
    assert set(night) == {0}
    assert max(w for _, w in prod) > 0
    # self-consumption: never both directions in the same interval
    cons = data.curve_points("12655648759651", CONS, date(2026, 6, 21))
    prod6 = data.curve_points("12655648759651", PROD, date(2026, 6, 21))
    assert all(c == 0 or p == 0 for (_, c), (_, p) in zip(cons, prod6, strict=True))
    assert data.curve_points(P0, CONS, date(2026, 1, 14)) == data.curve_points(P0, CONS, date(2026, 1, 14))


def test_index_consistency() -> None:
    for day in (date(2026, 3, 28), date(2026, 3, 29), date(2026, 10, 25)):
        before = data.index_registers(P0, CONS, day)
        after = data.index_registers(P0, CONS, day + timedelta(days=1))
        assert set(before) == {"HC", "HP"}
        assert sum(after.values()) - sum(before.values()) == data.daily_wh(P0, CONS, day)
        hc, _hp = data.daily_split_wh(P0, CONS, day)
        assert after["HC"] - before["HC"] == hc
    d = date(2026, 6, 1)
    assert sum(data.index_registers("24880057139941", PROD, d + timedelta(days=1)).values()) - sum(
        data.index_registers("24880057139941", PROD, d).values()
    ) == data.daily_wh("24880057139941", PROD, d)


def test_clients_table() -> None:
    assert data.prms_for_client(7) == ["64975835695673", "63695879465986", "22315546958763"]
    assert data.client_of("10284856584123") == 3
    assert data.client_of("00000000000000") is None
    assert data.prms_for_client(9) == []
    c = data.contract("11453290002823")
    assert c is not None
    assert c.last_activation_date == date(2019, 8, 27)
    assert c.offpeak_hours == "HC (22H00-6H00)"


# ------------------------------------------------------------------------------------- token


async def test_token(client: TestClient[Any, Any], state: FakeState, clock: FakeClock) -> None:
    resp = await client.post(
        "/oauth2/v3/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "demo-client-id",
            "client_secret": "demo-client-secret",
        },
    )
    body = await resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 12600
    assert body["scope"] == "am_application_scope default"
    assert body["access_token"].count(".") == 2
    resp = await client.post(
        "/oauth2/v3/token", data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}
    )
    assert resp.status == 401
    assert await resp.json() == {
        "error": "invalid_client",
        "error_description": "Client Authentication failed.",
    }
    hdr = {"Authorization": f"Bearer {body['access_token']}"}
    status, _ = await _get(client, hdr, "consommation_quotidienne", P0, date(2026, 11, 1), date(2026, 11, 2))
    assert status == 200
    clock.now += 12600
    status, err = await _get(client, hdr, "consommation_quotidienne", P0, date(2026, 11, 1), date(2026, 11, 2))
    assert status == 401
    assert err == {
        "fault": {
            "code": 900901,
            "message": "Invalid Credentials",
            "description": "Invalid JWT token. Signature verification failed.. "
            "Make sure you have provided the correct security credentials",
        }
    }
    hdr = {"Authorization": f"Bearer {await _token(client)}"}
    state.revoke_tokens()
    status, _ = await _get(client, hdr, "consommation_quotidienne", P0, date(2026, 11, 1), date(2026, 11, 2))
    assert status == 401
    # the Authorization header is never logged
    assert all("Authorization" not in str(r) and "Bearer" not in str(r) for r in state.requests)
    assert "client_secret" not in state.requests[0].query


# ------------------------------------------------------------------------------------- measures


async def test_daily_curve_pmax_match_ground_truth(client: TestClient[Any, Any], auth: dict[str, str]) -> None:
    start, end = date(2026, 10, 24), date(2026, 10, 27)
    status, daily = await _get(client, auth, "consommation_quotidienne", P0, start, end)
    assert status == 200
    assert daily["typeValeur"] == "GLOBALE"
    assert daily["pas"] == "P1D"
    assert daily["contexte"] == []
    g = daily["grandeur"][0]
    assert (g["grandeurMetier"], g["grandeurPhysique"], g["unite"], g["calendrier"]) == (
        "CONS",
        "EA",
        "Wh",
        [],
    )
    assert g["points"] == [
        {"v": str(data.daily_wh(P0, CONS, start + timedelta(days=i))), "d": str(start + timedelta(days=i))}
        for i in range(3)
    ]
    status, curve = await _get(client, auth, "courbe_de_charge_consommation", P0, start, end)
    assert status == 200
    assert "pas" not in curve
    assert "typeValeur" not in curve
    pts = curve["grandeur"][0]["points"]
    assert len(pts) == 48 + 50 + 48
    assert pts[0] == {
        "v": pts[0]["v"],
        "d": "2026-10-24 00:30:00",
        "p": "PT30M",
        "n": "B",
        "iv": "0",
        "ec": "0",
    }
    assert pts[-1]["d"] == "2026-10-27 00:00:00"
    oct25 = pts[48:98]
    assert [p["d"][11:] for p in oct25[3:7]] == ["02:00:00", "02:30:00", "02:00:00", "02:30:00"]
    assert sum(int(p["v"]) for p in oct25) // 2 == int(g["points"][1]["v"])
    status, pmax = await _get(
        client,
        auth,
        "puissance_conso_max_quotidienne",
        P0,
        start,
        end,
        mesuresPas="P1D",
        grandeurPhysique="PMA",
    )
    assert status == 200
    assert pmax["pas"] == "P1D"
    assert pmax["grandeur"][0]["unite"] == "VA"
    for i, p in enumerate(pmax["grandeur"][0]["points"]):
        day = start + timedelta(days=i)
        va, at = data.max_power(P0, day) or (0, datetime.min)
        assert p == {"v": str(va), "d": at.strftime("%Y-%m-%d %H:%M:%S")}
        assert va >= max(w for _, w in data.curve_points(P0, CONS, day))
    status, monthly = await _get(
        client,
        auth,
        "puissance_conso_max_quotidienne",
        P0,
        start,
        end,
        mesuresPas="P1M",
        grandeurPhysique="PMA",
    )
    assert status == 200
    assert len(monthly["grandeur"][0]["points"]) == 1


async def test_spring_curve(client: TestClient[Any, Any], auth: dict[str, str]) -> None:
    status, curve = await _get(client, auth, "courbe_de_charge_consommation", P0, date(2026, 3, 29), date(2026, 3, 30))
    assert status == 200
    pts = curve["grandeur"][0]["points"]
    assert len(pts) == 46
    assert sum(int(p["v"]) for p in pts) // 2 == data.daily_wh(P0, CONS, date(2026, 3, 29))


async def test_index(client: TestClient[Any, Any], auth: dict[str, str]) -> None:
    start, end = date(2026, 10, 24), date(2026, 10, 27)
    status, body = await _get(client, auth, "index_consommation", P0, start, end)
    assert status == 200
    assert body["grandeur"] == []
    ctx = body["contexte"][0]
    assert (ctx["etapeMetier"], ctx["contexteReleve"], ctx["typeReleve"]) == ("BRUT", "COL", "AQ")
    gi = ctx["grandeur"][0]
    assert gi["points"] == []
    fc, di = gi["calendrier"]
    assert fc["idCalendrier"] == "FC000012"
    hc, hp = fc["classeTemporelle"]
    assert (hc["idClasseTemporelle"], hc["codeCadran"], hp["codeCadran"]) == (
        "HC",
        "IDX_EAS_F1",
        "IDX_EAS_F2",
    )
    assert di["classeTemporelle"][0]["codeCadran"] == "IDX_EAS_D1"
    total = gi["cadranTotalisateur"]
    assert total["codeCadran"] == "IDX_EAS_T"
    values = total["valeur"]
    assert [v["d"] for v in values] == [f"2026-10-{d} 00:00:00" for d in (24, 25, 26, 27)]
    for a, b in itertools.pairwise(values):
        day = date.fromisoformat(a["d"][:10])
        assert b["v"] - a["v"] == data.daily_wh(P0, CONS, day)
    assert hc["valeur"][0]["v"] + hp["valeur"][0]["v"] == values[0]["v"]
    status, prod = await _get(client, auth, "index_production", "24880057139941", start, end)
    assert status == 200
    assert [c["idCalendrier"] for c in prod["contexte"][0]["grandeur"][0]["calendrier"]] == ["DI000001"]


async def test_publication_hour(client: TestClient[Any, Any], auth: dict[str, str], state: FakeState) -> None:
    yesterday = TODAY - timedelta(days=1)
    status, body = await _get(client, auth, "consommation_quotidienne", P0, yesterday - timedelta(days=1), TODAY)
    assert status == 200
    assert [p["d"] for p in body["grandeur"][0]["points"]] == [
        str(yesterday - timedelta(days=1)),
        str(yesterday),
    ]
    state.time_of_day = time(7, 59)
    status, body = await _get(client, auth, "consommation_quotidienne", P0, yesterday - timedelta(days=1), TODAY)
    assert [p["d"] for p in body["grandeur"][0]["points"]] == [str(yesterday - timedelta(days=1))]
    status, body = await _get(client, auth, "consommation_quotidienne", P0, yesterday, TODAY)
    assert status == 404
    assert body == {"error": "no_data_found", "error_description": "no measure found for this usage point"}
    state.time_of_day = None
    state.late_days[yesterday] = 5
    status, _ = await _get(client, auth, "courbe_de_charge_consommation", P0, yesterday, TODAY)
    assert status == 404
    state.time_of_day = time(13, 30)
    status, _ = await _get(client, auth, "courbe_de_charge_consommation", P0, yesterday, TODAY)
    assert status == 200


ERR = "error_description"


DC = "2026-10-01", "2026-10-02"
SAME_DAY = "La date de fin doit être supérieure à la date de début."
WRONG_WAY = "Le sens de la mesure ne correspond pas pour le PRM demandé"
HISTORY = "The start date must be greater than the history deadline."
ERROR_CASES: list[tuple[str, str, tuple[str, str], int, str, str]] = [
    (
        "consommation_quotidienne",
        "123",
        DC,
        400,
        "invalid_request",
        "usage_point_id parameter must be 14 digits long.",
    ),
    ("consommation_quotidienne", P0, ("2026-10-02", "2026-10-01"), 400, "ADAM-ERR0002", SAME_DAY),
    ("consommation_quotidienne", P0, ("2026-10-02", "2026-10-02"), 400, "ADAM-ERR0002", SAME_DAY),
    (
        "consommation_quotidienne",
        P0,
        ("2026-10-02", "2026-11-06"),
        400,
        "invalid_request",
        "The end date parameter must be earlier than the current date.",
    ),
    (
        "courbe_de_charge_consommation",
        P0,
        ("2026-10-01", "2026-10-09"),
        400,
        "ADAM-DC-0015",
        "The requested period must be less than 7 days for an access to the load curve",
    ),
    ("courbe_de_charge_consommation", P0, ("2024-10-20", "2024-10-21"), 400, "ADAM-ERR0125", HISTORY),
    ("consommation_quotidienne", P0, ("2023-10-20", "2023-10-21"), 400, "ADAM-ERR0125", HISTORY),
    ("production_quotidienne", P0, DC, 400, "ADAM-ERR0069", WRONG_WAY),
    ("consommation_quotidienne", "24880057139941", DC, 400, "ADAM-ERR0069", WRONG_WAY),
    (
        "courbe_de_charge_consommation",
        "32320647321714",
        DC,
        404,
        "no_data_found",
        "no measure found for this usage point",
    ),
    (
        "consommation_quotidienne",
        "26584978546985",
        DC,
        403,
        "ADAM-DC-0008",
        "No consent can be found for this customer and this usage point.",
    ),
    (
        "consommation_quotidienne",
        "99999999999999",
        DC,
        400,
        "ADAM-DC-0007",
        "Le client n'est pas titulaire du point demandé.",
    ),
]


@pytest.mark.parametrize("case", ERROR_CASES)
async def test_measure_errors(
    client: TestClient[Any, Any],
    auth: dict[str, str],
    case: tuple[str, str, tuple[str, str], int, str, str],
) -> None:
    resource, prm, (start, end), status, error, desc = case
    resp = await client.get(
        f"{MESURE}/{resource}", params={"pointId": prm, "dateDebut": start, "dateFin": end}, headers=auth
    )
    assert resp.status == status
    assert await resp.json() == {"error": error, ERR: desc}


async def test_activation_client1(auth: dict[str, str], client: TestClient[Any, Any], state: FakeState) -> None:
    state.today = date(2020, 1, 10)
    prm = "11453290002823"
    status, body = await _get(client, auth, "consommation_quotidienne", prm, date(2019, 8, 20), date(2019, 9, 1))
    assert status == 400
    assert body == {
        "error": "ADAM-ERR0123",
        ERR: "La demande ne peut pas aboutir, la période demandée est antérieure à la date de "
        "dernière mise en service du point.",
    }
    status, body = await _get(client, auth, "consommation_quotidienne", prm, date(2019, 8, 27), date(2019, 9, 1))
    assert status == 200
    assert len(body["grandeur"][0]["points"]) == 5
    resp = await client.get(
        "/metering_data_dc/v5/daily_consumption",
        params={"usage_point_id": prm, "start": "2019-08-01", "end": "2019-09-01"},
        headers=auth,
    )
    assert resp.status == 400
    assert (await resp.json())["error"] == "ADAM-ERR0123"


async def test_switches_for_a_stricter_horizon_and_a_meter_without_index(
    client: TestClient[Any, Any], auth: dict[str, str], state: FakeState
) -> None:
    """``history_margin_days``: the oldest start served moves; ``no_index_prms``: that PRM's index is "no data"."""
    horizon = date(2023, 11, 5)  # 36 months before 2026-11-05
    for margin, served in ((15, horizon - timedelta(days=15)), (0, horizon)):
        state.history_margin_days = margin
        status, _ = await _get(client, auth, "consommation_quotidienne", P0, served, served + timedelta(days=2))
        assert status == 200
        status, body = await _get(client, auth, "index_consommation", P0, served - timedelta(days=1), served)
        assert (status, body["error"]) == (400, "ADAM-ERR0125")
    state.no_index_prms.add(P0)
    status, body = await _get(client, auth, "index_consommation", P0, date(2026, 11, 1), date(2026, 11, 3))
    assert (status, body["error"]) == (404, "no_data_found")
    status, _ = await _get(client, auth, "consommation_quotidienne", P0, date(2026, 11, 1), date(2026, 11, 3))
    assert status == 200


async def test_holes_client4(client: TestClient[Any, Any], auth: dict[str, str]) -> None:
    prm = "42900589957123"
    start = date(2026, 10, 26)  # Monday
    status, body = await _get(client, auth, "consommation_quotidienne", prm, start, start + timedelta(days=7))
    days = [p["d"] for p in body["grandeur"][0]["points"]]
    assert status == 200
    assert days == [str(start + timedelta(days=i)) for i in (0, 3, 4, 5, 6)]
    status, body = await _get(client, auth, "courbe_de_charge_consommation", prm, start, start + timedelta(days=3))
    # Monday only: its 48 points end with "2026-10-27 00:00:00"; Tuesday and Wednesday are holes
    assert [p["d"] for p in body["grandeur"][0]["points"]] == [
        data.local_stamp(e) for e, _ in data.curve_points(prm, CONS, start)
    ]
    assert len(body["grandeur"][0]["points"]) == 48
    status, body = await _get(
        client, auth, "courbe_de_charge_consommation", prm, date(2026, 10, 27), date(2026, 10, 29)
    )
    assert status == 404
    assert body["error"] == "no_data_found"


async def test_client2_refuses_the_curve_until_enabled(
    client: TestClient[Any, Any], auth: dict[str, str], state: FakeState
) -> None:
    prm = "32320647321714"
    start = date(2026, 10, 26)
    status, body = await _get(client, auth, "courbe_de_charge_consommation", prm, start, start + timedelta(days=7))
    assert (status, body["error"]) == (404, "no_data_found")
    state.curve_refusal = "ADAM-ERR0075"
    status, body = await _get(client, auth, "courbe_de_charge_consommation", prm, start, start + timedelta(days=7))
    assert status == 400
    assert body == {"error": "ADAM-ERR0075", ERR: "The customer objected to the load curve recording"}
    # Daily energy is served all along.
    status, _ = await _get(client, auth, "consommation_quotidienne", prm, start, start + timedelta(days=7))
    assert status == 200

    # The customer enables the load curve: served from that day on, older days hold nothing.
    state.curve_enabled_from[prm] = date(2026, 10, 30)
    status, body = await _get(client, auth, "courbe_de_charge_consommation", prm, start, start + timedelta(days=7))
    assert status == 200
    days = {p["d"][:10] for p in body["grandeur"][0]["points"]}
    assert min(days) == "2026-10-30"  # 00:30 of the 30th is its first point
    assert len(body["grandeur"][0]["points"]) == 3 * 48  # 30 and 31 October, 1 November
    status, body = await _get(client, auth, "courbe_de_charge_consommation", prm, start, start + timedelta(days=3))
    assert (status, body["error"]) == (404, "no_data_found")


async def test_self_consumption_client6(client: TestClient[Any, Any], auth: dict[str, str]) -> None:
    prm = "12655648759651"
    day = date(2026, 6, 21)
    _, cons = await _get(client, auth, "courbe_de_charge_consommation", prm, day, day + timedelta(days=1))
    _, prod = await _get(client, auth, "courbe_de_charge_production", prm, day, day + timedelta(days=1))
    assert prod["grandeur"][0]["grandeurMetier"] == "PROD"
    c = [int(p["v"]) for p in cons["grandeur"][0]["points"]]
    p = [int(p["v"]) for p in prod["grandeur"][0]["points"]]
    assert c == [w for _, w in data.curve_points(prm, CONS, day)]
    assert p == [w for _, w in data.curve_points(prm, PROD, day)]
    assert max(p) > 0


async def test_off_swagger_500(client: TestClient[Any, Any], auth: dict[str, str]) -> None:
    d1, d2 = date(2026, 10, 1), date(2026, 10, 2)
    status, _ = await _get(client, auth, "puissance_conso_max_quotidienne", P0, d1, d2)
    assert status == 500
    status, _ = await _get(client, auth, "consommation_quotidienne", P0, d1, d2, foo="bar")
    assert status == 500
    resp = await client.get(f"{MESURE}/consommation_quotidienne", params={"pointId": P0}, headers=auth)
    assert resp.status == 500


async def test_v5(client: TestClient[Any, Any], auth: dict[str, str]) -> None:
    params = {"usage_point_id": P0, "start": "2026-10-25", "end": "2026-10-26"}
    resp = await client.get("/metering_data_clc/v5/consumption_load_curve", params=params, headers=auth)
    mr = (await resp.json())["meter_reading"]
    assert mr["usage_point_id"] == P0
    assert mr["quality"] == "BRUT"
    assert mr["reading_type"] == {"unit": "W", "measurement_kind": "power", "aggregate": "average"}
    assert len(mr["interval_reading"]) == 50
    assert mr["interval_reading"][0] == {
        "value": mr["interval_reading"][0]["value"],
        "date": "2026-10-25 00:30:00",
        "interval_length": "PT30M",
        "measure_type": "B",
    }
    resp = await client.get("/metering_data_dc/v5/daily_consumption", params=params, headers=auth)
    mr = (await resp.json())["meter_reading"]
    assert mr["interval_reading"] == [{"value": str(data.daily_wh(P0, CONS, date(2026, 10, 25))), "date": "2026-10-25"}]
    assert mr["reading_type"]["measuring_period"] == "P1D"
    resp = await client.get("/metering_data_dcmp/v5/daily_consumption_max_power", params=params, headers=auth)
    assert (await resp.json())["meter_reading"]["reading_type"]["unit"] == "VA"
    params["usage_point_id"] = "24880057139941"
    resp = await client.get("/metering_data_plc/v5/production_load_curve", params=params, headers=auth)
    assert resp.status == 200
    resp = await client.get("/metering_data_dp/v5/daily_production", params=params, headers=auth)
    assert resp.status == 200


# ------------------------------------------------------------------------------------- contracts


async def test_contracts(client: TestClient[Any, Any], auth: dict[str, str], state: FakeState) -> None:
    resp = await client.get(f"/situation_contrat_auto/v1/{P0}", headers=auth)
    items = await resp.json()
    assert isinstance(items, list)
    assert len(items) == 1
    assert items[0]["contract_type"] == "Contrat GRD-F"
    assert items[0]["contract_start"] == "2015-06-01T00:00:00+0200"
    resp = await client.get("/situation_contrat_auto/v1/12655648759651", headers=auth)
    items = await resp.json()
    assert [(i["contract_type"], i["segment"]) for i in items] == [
        ("Contrat GRD-F", "C5"),
        ("Contrat GRD-A", "P4"),
    ]
    assert "subscribed_power" not in items[1]
    resp = await client.get(f"/synth_contrat_auto/v1/{P0}", headers=auth)
    assert (await resp.json())["segments"] == [{"segment": "C5"}]
    resp = await client.get(f"/comptage_auto/v1/{P0}", headers=auth)
    assert await resp.json() == {
        "dispositifComptage": {"typeComptage": {"code": "LINKY", "libelle": "Compteur Linky"}},
        "compteurs": [],
        "relais": {"plageHeuresCreuses": "HC (22H00-6H00)"},
    }
    resp = await client.get(f"/donnees_generales_auto/v1/{P0}", headers=auth)
    assert set((await resp.json())["address"]) == {"number_street_name", "postal_code_city", "insee_code"}
    resp = await client.get("/situation_contrat_auto/v1", params={"usage_point_id": P0}, headers=auth)
    assert resp.status == 500
    state.unsubscribed_apis.add("comptage_auto")
    resp = await client.get(f"/comptage_auto/v1/{P0}", headers=auth)
    assert resp.status == 403
    assert await resp.json() == {
        "code": "900908",
        "message": "Resource forbidden ",
        "description": "User is NOT authorized to access the Resource. API Subscription validation failed.",
    }
    resp = await client.get("/customers_upc/v5/usage_points/contracts", params={"usage_point_id": P0}, headers=auth)
    c = (await resp.json())["customer"]["usage_points"][0]
    assert c["usage_point"] == {"usage_point_id": P0, "usage_point_status": "com", "meter_type": "AMM"}
    assert c["contracts"]["offpeak_hours"] == "HC (22H00-6H00)"
    assert c["contracts"]["last_activation_date"] == "2015-06-01+02:00"
    assert c["contracts"]["subscribed_power"].endswith(" kVA")


# ------------------------------------------------------------------------------------- consent


def _authorize_params(state_param: str, **extra: str) -> dict[str, str]:
    return {
        "client_id": "demo-client-id",
        "response_type": "code",
        "state": state_param,
        "duration": "P3Y",
        "redirect_uri": "https://example.org/cb?x=1",
        **extra,
    }


async def test_consent_v1_v2(client: TestClient[Any, Any], auth: dict[str, str], state: FakeState) -> None:
    resp = await client.get("/dataconnect/v1/oauth2/authorize", params=_authorize_params("abc7"))
    assert resp.status == 200
    page = await resp.text()
    assert "authorize/accept?" in page
    resp = await client.get(
        "/dataconnect/v1/oauth2/authorize/accept", params=_authorize_params("abc7"), allow_redirects=False
    )
    assert resp.status == 302
    loc = urlsplit(resp.headers["Location"])
    q = parse_qs(loc.query)
    assert loc.netloc == "example.org"
    assert q["x"] == ["1"]
    assert q["state"] == ["abc7"]
    assert q["usage_point_id"] == ["64975835695673,63695879465986,22315546958763"]
    assert q["code"]
    resp = await client.get(
        "/dataconnect/v2/oauth2/authorize/accept", params=_authorize_params("xyz6"), allow_redirects=False
    )
    q = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert set(q) == {"x", "autorisation_id", "state"}
    auth_id = q["autorisation_id"][0]
    resp = await client.post(
        "/subscribed_services/v1", json={"autorisationId": int(auth_id), "comptage": False}, headers=auth
    )
    body = await resp.json()
    assert body["nbTotalServices"] == 2
    services = body["serviceSouscrit"]
    assert {(s["soutirage"], s["injection"]) for s in services} == {(True, False), (False, True)}
    assert all(s["pointId"] == "12655648759651" and s["etatCode"] == "ACTIF" for s in services)
    assert services[0]["autorisation"]["autorisationType"] == "EXPLICITE"
    resp = await client.post(
        "/subscribed_services/v1", json={"autorisationId": auth_id, "comptage": True}, headers=auth
    )
    assert await resp.json() == {"nbTotalServices": 2}
    resp = await client.post("/subscribed_services/v1", json={"autorisationId": auth_id, "comptage": True})
    assert resp.status == 401
    # client 9 refuses
    resp = await client.get(
        "/dataconnect/v2/oauth2/authorize/accept", params=_authorize_params("st9"), allow_redirects=False
    )
    q = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert q["error"] == ["access_denied"]
    assert q["state"] == ["st9"]
    # default redirect
    params = _authorize_params("s0")
    del params["redirect_uri"]
    resp = await client.get("/dataconnect/v2/oauth2/authorize/accept", params=params, allow_redirects=False)
    assert resp.headers["Location"].startswith(state.redirect_uri + "?autorisation_id=")


@pytest.mark.parametrize(
    ("override", "desc_part"),
    [
        ({"response_type": "token"}, "Response type"),
        ({"duration": "P4Y"}, "maximum_duration_exceeded"),
        ({"duration": "3 ans"}, "invalid_duration_format"),
        ({"state": "x" * 101}, "State"),
    ],
)
async def test_consent_validation(client: TestClient[Any, Any], override: dict[str, str], desc_part: str) -> None:
    resp = await client.get("/dataconnect/v2/oauth2/authorize", params=_authorize_params("s1", **override))
    assert resp.status == 400
    body = await resp.json()
    assert body["error"] == "invalid_request"
    assert desc_part in body[ERR]


# ------------------------------------------------------------------------------------- quotas


async def test_quotas(client: TestClient[Any, Any], state: FakeState, clock: FakeClock) -> None:
    state.quotas_enabled = True
    state.today = date(2026, 7, 17)
    state.time_of_day = time(6, 30)  # 04:30 UTC
    clock.now = 3600 * 10 + 1800.0
    auth = {"Authorization": f"Bearer {await _token(client)}"}
    d1, d2 = date(2026, 7, 1), date(2026, 7, 2)
    for _ in range(5):
        status, _ = await _get(client, auth, "consommation_quotidienne", P0, d1, d2)
        assert status == 200
    status, body = await _get(client, auth, "consommation_quotidienne", P0, d1, d2)
    assert status == 429
    assert body == {
        "fault": {
            "code": 900807,
            "message": "Message throttled out",
            "description": "You have exceeded your quota",
        }
    }
    # the whole mesure_synchrone_auto API shares the counter; another API has its own
    status, _ = await _get(client, auth, "courbe_de_charge_consommation", P0, d1, d2)
    assert status == 429
    resp = await client.get(f"/comptage_auto/v1/{P0}", headers=auth)
    assert resp.status == 200
    state.per_hour_limit = 8
    clock.now += 1.5
    for _ in range(3):
        status, _ = await _get(client, auth, "consommation_quotidienne", P0, d1, d2)
        assert status == 200
        clock.now += 0.3
    resp = await client.get(
        f"{MESURE}/consommation_quotidienne",
        params={"pointId": P0, "dateDebut": str(d1), "dateFin": str(d2)},
        headers=auth,
    )
    assert resp.status == 429
    assert resp.headers["Retry-After"] == "1798"
    assert await resp.json() == {
        "code": "900804",
        "message": "Message throttled out",
        "description": "You have exceeded your quota .You can access API after 2026-Jul-17 05:00:00+0000 UTC",
        "nextAccessTime": "2026-Jul-17 05:00:00+0000 UTC",
    }
    clock.now = 3600 * 11 + 1.0
    status, _ = await _get(client, auth, "consommation_quotidienne", P0, d1, d2)
    assert status == 200


# ------------------------------------------------------------------------------------- faults


async def test_faults(client: TestClient[Any, Any], auth: dict[str, str], state: FakeState) -> None:
    d1, d2 = date(2026, 10, 1), date(2026, 10, 3)
    state.add_fault("technical_error", count=2)
    for _ in range(2):
        status, body = await _get(client, auth, "consommation_quotidienne", P0, d1, d2)
        assert status == 500
        assert body == {"error": "technical_error", ERR: "Technical error. Please try later."}
    status, _ = await _get(client, auth, "consommation_quotidienne", P0, d1, d2)
    assert status == 200
    state.add_fault("plain_500", path="courbe_de_charge")
    status, _ = await _get(client, auth, "consommation_quotidienne", P0, d1, d2)
    assert status == 200
    resp = await client.get(
        f"{MESURE}/courbe_de_charge_consommation",
        params={"pointId": P0, "dateDebut": str(d1), "dateFin": str(d2)},
        headers=auth,
    )
    assert resp.status == 500
    assert resp.content_type == "text/plain"
    assert await resp.text() == "500 Internal Server Error"
    state.add_fault("malformed_json")
    resp = await client.get(
        f"{MESURE}/consommation_quotidienne",
        params={"pointId": P0, "dateDebut": str(d1), "dateFin": str(d2)},
        headers=auth,
    )
    assert resp.status == 200
    assert resp.content_type == "application/json"
    with pytest.raises(ValueError):
        json.loads(await resp.text())
    state.add_fault("html_error")
    resp = await client.get(
        f"{MESURE}/consommation_quotidienne",
        params={"pointId": P0, "dateDebut": str(d1), "dateFin": str(d2)},
        headers=auth,
    )
    assert resp.status == 502
    assert resp.content_type == "text/html"
    state.add_fault("truncated_day", points=3)
    status, body = await _get(client, auth, "courbe_de_charge_consommation", P0, d1, d2)
    assert len(body["grandeur"][0]["points"]) == 96 - 3
    state.add_fault("throttle")
    status, body = await _get(client, auth, "consommation_quotidienne", P0, d1, d2)
    assert status == 429
    assert body["fault"]["code"] == 900807
    state.add_fault("delay", delay=0.05)
    status, _ = await _get(client, auth, "consommation_quotidienne", P0, d1, d2)
    assert status == 200
    assert state.faults == []
    state.revoke_consent(P0)
    status, body = await _get(client, auth, "consommation_quotidienne", P0, d1, d2)
    assert status == 403
    assert body == {
        "error": "ADAM-DC-0008",
        ERR: "No consent can be found for this customer and this usage point.",
    }
    # request log
    assert state.count(MESURE, status=200) >= 4
    rec = state.requests[-1]
    assert (rec.method, rec.path, rec.status) == ("GET", f"{MESURE}/consommation_quotidienne", 403)
    assert rec.query == {"pointId": P0, "dateDebut": str(d1), "dateFin": str(d2)}


# ------------------------------------------------------------------------------------- Conso API


async def test_conso_api(client: TestClient[Any, Any], state: FakeState) -> None:
    token = state.demo_conso_token()
    hdr = {"Authorization": f"Bearer {token}"}
    params = {"prm": P0, "start": "2026-10-25", "end": "2026-10-26"}
    resp = await client.get("/conso/api/consommation_quotidienne", params=params, headers=hdr)
    assert resp.status == 200
    body = await resp.json()
    assert body["idPrm"] == P0
    assert body["grandeur"][0]["points"] == [{"v": str(data.daily_wh(P0, CONS, date(2026, 10, 25))), "d": "2026-10-25"}]
    resp = await client.get("/conso/api/consumption_load_curve", params=params, headers=hdr)
    body = await resp.json()
    assert set(body) == {"usage_point_id", "start", "end", "quality", "reading_type", "interval_reading"}
    assert len(body["interval_reading"]) == 50
    resp = await client.get(
        "/conso/api/puissance_conso_max_quotidienne",
        params={"pointId": P0, "dateDebut": "2026-10-25", "dateFin": "2026-10-26"},
        headers=hdr,
    )
    assert (await resp.json())["grandeur"][0]["grandeurPhysique"] == "PMA"
    resp = await client.get("/conso/api/consumption_max_power", params=params, headers=hdr)
    assert (await resp.json())["reading_type"]["unit"] == "VA"
    # errors
    resp = await client.get("/conso/api/consommation_quotidienne", params=params)
    assert resp.status == 400
    assert await resp.json() == {
        "status": 400,
        "message": "Le header 'Authorization' est manquant ou invalide",
    }
    bad = {**params, "prm": "11453290002823"}  # client 1 not in the demo token
    resp = await client.get("/conso/api/consommation_quotidienne", params=bad, headers=hdr)
    assert resp.status == 401
    assert await resp.json() == {
        "status": 401,
        "message": "Votre token est invalide ou ne permet pas d'accéder à ce PRM",
    }
    expired = state.make_conso_token([P0], 1000)
    resp = await client.get(
        "/conso/api/consommation_quotidienne", params=params, headers={"Authorization": f"Bearer {expired}"}
    )
    assert resp.status == 401
    resp = await client.get("/conso/api/consommation_quotidienne", params={**params, "prm": "123"}, headers=hdr)
    assert resp.status == 400
    body = await resp.json()
    assert body["message"] == "Paramètres invalides"
    assert "error" in body
    resp = await client.get(
        "/conso/api/consommation_quotidienne", params={**params, "start": "2026-10-27"}, headers=hdr
    )
    assert resp.status == 400
    assert await resp.json() == {
        "status": 400,
        "message": "The Enedis API returned an error",
        "error": {"error": "ADAM-ERR0002", ERR: "La date de fin doit être supérieure à la date de début."},
    }
    state.add_fault("plain_500")
    resp = await client.get("/conso/api/consommation_quotidienne", params=params, headers=hdr)
    assert resp.status == 500
    assert await resp.json() == {
        "status": 500,
        "message": "The Enedis API returned an error",
        "error": "500 Internal Server Error",
    }
    state.add_fault("throttle")
    resp = await client.get("/conso/api/daily_consumption", params=params, headers=hdr)
    assert resp.status == 429
    assert (await resp.json())["error"]["fault"]["code"] == 900807
    resp = await client.get(
        "/conso/api/courbe_de_charge_consommation",
        params={"prm": "32320647321714", "start": "2026-10-25", "end": "2026-10-26"},
        headers={"Authorization": f"Bearer {state.conso_token_for_client(2)}"},
    )
    assert resp.status == 404
    assert await resp.json() == {
        "status": 404,
        "message": "The Enedis API returned an error",
        "error": {"error": "no_data_found", ERR: "no measure found for this usage point"},
    }


async def test_conso_ip_ban(client: TestClient[Any, Any], state: FakeState, clock: FakeClock) -> None:
    state.quotas_enabled = True
    state.conso_ip_limit = 3
    hdr = {"Authorization": f"Bearer {state.demo_conso_token()}"}
    params = {"prm": P0, "start": "2026-10-25", "end": "2026-10-26"}
    for _ in range(3):
        resp = await client.get("/conso/api/consommation_quotidienne", params=params, headers=hdr)
        assert resp.status == 200
        clock.now += 2
    resp = await client.get("/conso/api/consommation_quotidienne", params=params, headers=hdr)
    assert resp.status == 429
    assert (await resp.json())["status"] == 429
    clock.now += 12 * 3600
    resp = await client.get("/conso/api/consommation_quotidienne", params=params, headers=hdr)
    assert resp.status == 200
