"""Fuzzing every parser with hypothesis: only the library's typed errors come out, and what parses is consistent.

Bodies are either generated (valid load curves and daily series in both shapes, with known expected values) or
real captures from ``tests/fixtures`` mutated at random places (a key removed, a value replaced by a wrong type,
null, a huge number, NaN/inf, a bad date, a duplicated or moved item). Properties:

- a parser raises nothing but `EnedisError` subclasses (never ``KeyError``, ``TypeError``, ``ValueError``...);
- `parse_error` never raises and always returns an `EnedisError` with a sane retry hint;
- a body that parses gives readings ordered by start, each with start < end, finite values >= 0, curve intervals
  that do not overlap, at most one reading per local day for daily series;
- a valid generated body gives exactly the generated values (no silent wrong value), the same in both shapes.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
import json
import math
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.api.consoapi import decode_conso_token
from custom_components.enedis.api.errors import EnedisError, InvalidResponseError
from custom_components.enedis.api.models import Address, Contract, Direction, Measure, Series
from custom_components.enedis.api.parsers import (
    parse_address_2026,
    parse_address_v5,
    parse_contract_2026,
    parse_contract_v5,
    parse_error,
    parse_measure,
    parse_subscribed_services,
    parse_token,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PRM = "99999999999991"
NOW = datetime(2026, 11, 22, 11, tzinfo=UTC)
#: ``ENEDIS_FUZZ_EXAMPLES=5000`` for a long random exploration; CI runs 200 reproducible examples per property.
EXAMPLES = int(os.environ.get("ENEDIS_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=EXAMPLES or 200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=not EXAMPLES,
    database=None,
)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------- mutations

BAD_STRINGS = [
    "",
    " ",
    "null",
    "2026-02-30",
    "2026-13-01",
    "2026-03-29 02:30:00",  # does not exist in Paris
    "2026-10-25 02:30:00",  # exists twice
    "9999-12-31 23:59:59",
    "0001-01-01",
    "2026-09-29T00:30:00+25:00",
    "2026-Sep-29 25:61:00",
    "PT0M",
    "PT-30M",
    "P1Y",
    "PT90M",
    "-1",
    "1e400",
    "NaN",
    "Infinity",
    "0x10",
    "12 kVA",
    "kWh",
    "<masque>",
    "\x00",
    "é" * 50,
]
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([10**400 // 10**300, -1, 0, 2**63, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(BAD_STRINGS),
    st.text(max_size=20),
    st.just([]),
    st.just({}),
    st.lists(st.none(), min_size=1, max_size=2),
    st.dictionaries(st.sampled_from(["v", "d", "p", "value", "date", "code"]), st.none(), max_size=2),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_paths(value, (*prefix, index)))
    return out


def _parent(body: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        body = body[key]
    return body


@st.composite
def mutated(draw: st.DrawFn, seed: Any) -> Any:
    """``seed`` with one to four random mutations."""
    body = copy.deepcopy(seed)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(body)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "replace", "delete", "duplicate", "swap"]))
        if not path:
            if op == "replace":
                body = draw(JUNK)
            continue
        parent, key = _parent(body, path), path[-1]
        if op == "replace":
            parent[key] = draw(JUNK)
        elif op == "delete":
            del parent[key]
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif op == "swap" and isinstance(parent, list) and len(parent) > 1:
            other = draw(st.integers(min_value=0, max_value=len(parent) - 1))
            parent[key], parent[other] = parent[other], parent[key]
    return body


def typed_only(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a parser: its result, or None when it raised one of the library's typed errors."""
    try:
        return call(*args, **kwargs)
    except EnedisError:
        return None


# --------------------------------------------------------------------------------------------- consistency


def assert_consistent(series: Series) -> None:
    previous = None
    days: set[date] = set()
    for reading in series.readings:
        assert reading.start.tzinfo is not None
        assert reading.end.tzinfo is not None
        assert reading.start < reading.end, reading
        assert math.isfinite(reading.value), reading
        assert reading.value >= 0, reading
        if previous is not None:
            assert previous.start <= reading.start
            if series.measure is Measure.LOAD_CURVE:
                assert previous.end <= reading.start, (previous, reading)
        if series.measure is not Measure.LOAD_CURVE:
            day = reading.start.astimezone(PARIS).date()
            assert day not in days, f"two readings for {day}"
            days.add(day)
        previous = reading
    for start, end in series.holes:
        assert start < end
    if series.measure is not Measure.MAX_POWER:
        energy = series.energy_wh()
        assert math.isfinite(energy)
        assert energy >= 0


def assert_contract_consistent(contract: Contract) -> None:
    power = contract.subscribed_power_kva
    assert power is None or (math.isfinite(power) and power >= 0)


def assert_address_consistent(address: Address, *, combined: bool) -> None:
    """Every field is absent or stripped, non-empty text; the postal code and the city agree with the combined field.

    ``combined``: Data Connect 2026 sends only ``postal_code_city`` (``"60000 BEAUVAIS"``), from which the postal code
    (5 digits) and the city are read, both or neither; v5 sends them apart and the combined field is built from them.
    """
    for value in (address.street, address.postal_code_city, address.insee_code, address.city, address.postal_code):
        assert value is None or (isinstance(value, str) and value and value == value.strip())
    postal_code, city = address.postal_code, address.city
    if combined:
        assert (postal_code is None) == (city is None)
        if postal_code is not None:
            assert len(postal_code) == 5
            assert postal_code.isdigit()
    if postal_code is None and city is None:
        assert combined or address.postal_code_city is None
        return
    assert address.postal_code_city is not None
    assert address.postal_code_city.startswith(postal_code or city or "")
    assert address.postal_code_city.endswith(city or postal_code or "")


# --------------------------------------------------------------------------------------------- generated bodies


def _curve_points(day: date, values: list[int | None], step_minutes: int) -> list[tuple[str, int | None]]:
    """Local END stamps (repeated in the autumn hour, as Enedis sends them) for consecutive intervals."""
    start = datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(UTC)
    points = []
    for index, value in enumerate(values):
        end = start + timedelta(minutes=step_minutes * (index + 1))
        points.append((end.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S"), value))
    return points


def body_2026(points: list[tuple[str, int | None]], step: str, unit: str = "W") -> dict[str, Any]:
    return {
        "idPrm": PRM,
        "etapeMetier": "BRUT",
        "modeCalcul": "MESURE",
        "grandeur": [
            {
                "grandeurMetier": "CONS",
                "grandeurPhysique": "PA",
                "unite": unit,
                "points": [{"v": None if v is None else str(v), "d": d, "p": step, "n": "B"} for d, v in points],
            }
        ],
    }


def body_v5(points: list[tuple[str, int | None]], step: str, *, wrapped: bool) -> dict[str, Any]:
    reading = {
        "usage_point_id": PRM,
        "quality": "BRUT",
        "reading_type": {"unit": "W", "measurement_kind": "power", "aggregate": "average"},
        "interval_reading": [
            {"value": "" if v is None else str(v), "date": d, "interval_length": step, "measure_type": "B"}
            for d, v in points
        ],
    }
    return {"meter_reading": reading} if wrapped else reading


CURVE_DAYS = st.sampled_from([date(2026, 3, 29), date(2026, 10, 25), date(2026, 6, 1), date(2025, 12, 31)])


@st.composite
def curves(draw: st.DrawFn) -> tuple[list[tuple[str, int | None]], str, list[int | None]]:
    day = draw(CURVE_DAYS)
    step_minutes = draw(st.sampled_from([10, 15, 30, 60]))
    count = draw(st.integers(min_value=0, max_value=int(23 * 60 / step_minutes)))
    values = draw(
        st.lists(st.one_of(st.integers(min_value=0, max_value=10**7), st.none()), min_size=count, max_size=count)
    )
    return _curve_points(day, values, step_minutes), f"PT{step_minutes}M", values


@FUZZ
@given(curves(), st.sampled_from(["2026", "v5", "v5_wrapped"]))
def test_valid_curves_parse_exactly(curve: Any, shape: str) -> None:
    points, step, values = curve
    body = body_2026(points, step) if shape == "2026" else body_v5(points, step, wrapped=shape == "v5_wrapped")
    series = parse_measure(body, measure=Measure.LOAD_CURVE, direction=Direction.CONSUMPTION, prm=PRM)
    assert_consistent(series)
    assert [r.value for r in series.readings] == [float(v) for v in values if v is not None]
    assert len(series.holes) == sum(v is None for v in values)
    minutes = int(step[2:-1])
    assert all(r.end - r.start == timedelta(minutes=minutes) for r in series.readings)
    assert series.energy_wh() == pytest.approx(sum(v for v in values if v is not None) * minutes / 60)


HOLE_SPELLINGS = st.sampled_from([None, "", " ", "null", "NULL", " Null "])
"""A value that is not there: JSON null, empty or blank, or the text "null"."""


@FUZZ
@given(curves(), st.sampled_from(["2026", "v5", "v5_wrapped"]), st.data())
def test_any_hole_spelling_keeps_the_rest_of_the_window(curve: Any, shape: str, data: st.DataObject) -> None:
    points, step, values = curve
    body = body_2026(points, step) if shape == "2026" else body_v5(points, step, wrapped=shape == "v5_wrapped")
    if shape == "2026":
        items, key = body["grandeur"][0]["points"], "v"
    else:
        items, key = body.get("meter_reading", body)["interval_reading"], "value"
    for item, value in zip(items, values, strict=True):
        if value is None:
            item[key] = data.draw(HOLE_SPELLINGS)
    series = parse_measure(body, measure=Measure.LOAD_CURVE, direction=Direction.CONSUMPTION, prm=PRM)
    assert [r.value for r in series.readings] == [float(v) for v in values if v is not None]
    assert len(series.holes) == sum(v is None for v in values)


@FUZZ
@given(curves())
def test_both_shapes_agree(curve: Any) -> None:
    points, step, _ = curve
    a = parse_measure(body_2026(points, step), measure=Measure.LOAD_CURVE, direction=Direction.CONSUMPTION)
    b = parse_measure(body_v5(points, step, wrapped=True), measure=Measure.LOAD_CURVE, direction=Direction.CONSUMPTION)
    assert a.readings == b.readings
    assert a.holes == b.holes


@FUZZ
@given(curves(), st.randoms(use_true_random=False))
def test_non_monotonic_stamps_are_refused_or_consistent(curve: Any, rng: Any) -> None:
    points, step, _ = curve
    shuffled = list(points)
    rng.shuffle(shuffled)
    series = typed_only(
        parse_measure, body_2026(shuffled, step), measure=Measure.LOAD_CURVE, direction=Direction.CONSUMPTION
    )
    if series is not None:
        assert_consistent(series)
        if shuffled != points:
            # Only a reordering that keeps the same instants can be accepted (repeated autumn stamps).
            assert len(series.readings) + len(series.holes) == len(points)


@st.composite
def daily_bodies(draw: st.DrawFn) -> tuple[dict[str, Any], list[int | None], Measure]:
    measure = draw(st.sampled_from([Measure.DAILY_ENERGY, Measure.MAX_POWER]))
    start = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2027, 1, 1)))
    values = draw(st.lists(st.one_of(st.integers(min_value=0, max_value=10**9), st.none()), max_size=40))
    points = []
    for index, value in enumerate(values):
        day = start + timedelta(days=index)
        stamp = f"{day.isoformat()} 18:42:00" if measure is Measure.MAX_POWER else day.isoformat()
        points.append({"v": None if value is None else str(value), "d": stamp, "p": "P1D", "n": "B"})
    body = {
        "idPrm": PRM,
        "etapeMetier": "BRUT",
        "grandeur": [
            {
                "grandeurMetier": "CONS",
                "grandeurPhysique": "PMA" if measure is Measure.MAX_POWER else "EA",
                "unite": "VA" if measure is Measure.MAX_POWER else "Wh",
                "points": points,
            }
        ],
    }
    return body, values, measure


@FUZZ
@given(daily_bodies(), st.data())
def test_valid_daily_series_parse_exactly(generated: Any, data: st.DataObject) -> None:
    body, values, measure = generated
    for point in body["grandeur"][0]["points"]:
        if point["v"] is None:
            point["v"] = data.draw(HOLE_SPELLINGS)
    series = parse_measure(body, measure=measure, direction=Direction.CONSUMPTION, prm=PRM)
    assert_consistent(series)
    assert [r.value for r in series.readings] == [float(v) for v in values if v is not None]
    assert len(series.holes) == sum(v is None for v in values)


# --------------------------------------------------------------------------------------------- mutated captures

MEASURE_SEEDS: list[tuple[str, Measure, Direction]] = [
    ("med-new__dc2026_courbe_de_charge_consommation_prod_capture.json", Measure.LOAD_CURVE, Direction.CONSUMPTION),
    ("med-new__dc2026_courbe_de_charge_production_prod_capture.json", Measure.LOAD_CURVE, Direction.PRODUCTION),
    ("med-new__dc2026_consommation_quotidienne_prod_capture.json", Measure.DAILY_ENERGY, Direction.CONSUMPTION),
    ("med-new__dc2026_production_quotidienne_prod_capture.json", Measure.DAILY_ENERGY, Direction.PRODUCTION),
    ("med-new__dc2026_puissance_conso_max_quotidienne_prod_capture.json", Measure.MAX_POWER, Direction.CONSUMPTION),
    ("eddie__consumption_load_curve_v5_2024-02-26_47pts.json", Measure.LOAD_CURVE, Direction.CONSUMPTION),
    ("infodavide__consumption_load_curve_v5_sandbox_wrapped.json", Measure.LOAD_CURVE, Direction.CONSUMPTION),
    ("infodavide__daily_consumption_v5_sandbox_wrapped.json", Measure.DAILY_ENERGY, Direction.CONSUMPTION),
    ("infodavide__daily_consumption_max_power_v5_sandbox_wrapped.json", Measure.MAX_POWER, Direction.CONSUMPTION),
    ("eddie__daily_consumption_v5_2024-02-01_2024-02-08.json", Measure.DAILY_ENERGY, Direction.CONSUMPTION),
]


@pytest.mark.parametrize(
    ("name", "measure", "direction"), MEASURE_SEEDS, ids=[s[0].split("__")[1][:40] for s in MEASURE_SEEDS]
)
def test_mutated_measure_bodies(name: str, measure: Measure, direction: Direction) -> None:
    seed = load(name)
    seed = seed.get("content", seed)  # infodavide captures keep the HTTP envelope of their test harness
    assert_consistent(parse_measure(seed, measure=measure, direction=direction))

    @settings(FUZZ, max_examples=EXAMPLES or 100)
    @given(mutated(seed))
    def check(body: Any) -> None:
        series = typed_only(parse_measure, body, measure=measure, direction=direction)
        if series is not None:
            assert_consistent(series)

    check()


CONTRACT_2026 = load("med-new__dc2026_situation_contrat_auto_autoconsommation_prod_capture.json")
SYNTH_2026 = load("med-new__dc2026_synth_contrat_auto_autoconsommation_prod_capture.json")
CONTRACT_V5 = load("eddie__contracts_v5.json")
ADDRESS_2026 = load("med-new__dc2026_donnees_generales_auto_prod_capture.json")
ADDRESS_V5 = load("eddie__addresses_v5_homologation.json")
TOKEN = load("aeneria__token_v3_client_credentials.json")
SERVICES = {
    "nbTotalServices": 2,
    "serviceSouscrit": [
        {
            "id": 900001,
            "injection": False,
            "soutirage": True,
            "serviceCode": "ACCES",
            "dateDebut": "2026-11-22",
            "dateFin": "2029-11-21",
            "etatCode": "ACTIF",
            "pointId": PRM,
            "mesuresTypeCode": "CDC",
            "autorisation": {"autorisationId": 58240, "autorisationType": "EXPLICITE"},
        },
        {
            "id": 900002,
            "injection": True,
            "soutirage": False,
            "serviceCode": "ACCES",
            "dateDebut": "2026-11-22",
            "dateFin": "2029-11-21",
            "etatCode": "TERMINE",
            "pointId": PRM,
            "autorisation": {"autorisationId": "58240"},
        },
    ],
}


@FUZZ
@given(mutated(CONTRACT_2026), st.one_of(st.none(), mutated(SYNTH_2026)))
def test_mutated_contracts_2026(situation: Any, synth: Any) -> None:
    contract = typed_only(parse_contract_2026, situation, synth, None, prm=PRM)
    if contract is not None:
        assert_contract_consistent(contract)


@FUZZ
@given(mutated(CONTRACT_V5))
def test_mutated_contracts_v5(body: Any) -> None:
    contract = typed_only(parse_contract_v5, body, "24115050XXXXXX")
    if contract is not None:
        assert_contract_consistent(contract)


@FUZZ
@given(mutated(ADDRESS_2026), mutated(ADDRESS_V5))
def test_mutated_addresses(body_2026: Any, body_v5: Any) -> None:
    address = typed_only(parse_address_2026, body_2026)
    if address is not None:
        assert_address_consistent(address, combined=True)
    address = typed_only(parse_address_v5, body_v5)
    if address is not None:
        assert_address_consistent(address, combined=False)


@FUZZ
@given(mutated(SERVICES))
def test_mutated_subscribed_services(body: Any) -> None:
    services = typed_only(parse_subscribed_services, body)
    if services is not None:
        for service in services:
            assert service.prm
            assert service.start is None or service.end is None or isinstance(service.start, date)


@FUZZ
@given(mutated(TOKEN))
def test_mutated_tokens(body: Any) -> None:
    result = typed_only(parse_token, body)
    if result is not None:
        token, expires_in = result
        assert token
        assert token == token.strip()
        assert math.isfinite(expires_in)
        assert expires_in > 0


def _conso_token(payload: Any) -> str:
    import base64

    def part(obj: Any) -> str:
        raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.c2lnbmF0dXJl"


TOKEN_PAYLOAD = {"sub": ["22516914714270", "12345678901234"], "iat": 1767225600, "exp": 4102444800}


@FUZZ
@given(st.one_of(st.text(max_size=200), mutated(TOKEN_PAYLOAD).map(_conso_token)))
def test_conso_tokens(token: str) -> None:
    info = typed_only(decode_conso_token, token, now=NOW)
    if info is not None:
        assert info.prms
        assert all(len(prm) == 14 and prm.isdigit() for prm in info.prms)
        assert info.expires_at is None or info.expires_at > NOW


# --------------------------------------------------------------------------------------------- errors

ERROR_SEEDS = [
    load(p.name)
    for p in sorted(FIXTURES.glob("*.json"))
    if "error" in p.name.lower() or "erreur" in p.name.lower() or "revoke" in p.name
]
ERROR_TEXTS = st.one_of(
    st.text(max_size=300),
    st.sampled_from(ERROR_SEEDS).flatmap(mutated).map(json.dumps),
    st.sampled_from(["<html><body><h1>502 Bad Gateway</h1></body></html>", "", "   ", "null", "[]", '"x"']),
)
HEADERS = st.one_of(
    st.none(),
    st.fixed_dictionaries({"Retry-After": st.one_of(st.text(max_size=40), st.integers(-(10**12), 10**12).map(str))}),
)


@FUZZ
@given(st.integers(min_value=0, max_value=999), ERROR_TEXTS, HEADERS)
def test_parse_error_never_raises(status: int, text: str, headers: Any) -> None:
    error = parse_error(status, text, headers=headers, api="mesure_synchrone_auto/v2", now=NOW)
    assert isinstance(error, EnedisError)
    assert str(error)
    assert len(error.description) <= 400
    if error.retry_after is not None:
        assert math.isfinite(error.retry_after)
        assert error.retry_after >= 0


def test_seeds_are_meaningful() -> None:
    """The mutation seeds parse as they are (so mutations start from valid bodies)."""
    assert parse_contract_2026(CONTRACT_2026, SYNTH_2026, prm=PRM).has_production
    assert parse_contract_v5(CONTRACT_V5, "24115050XXXXXX") == Contract(
        prm="24115050XXXXXX",
        segment="C5",
        subscribed_power_kva=6.0,  # "6 kVA"
        offpeak_hours="HC (22H50-6H50)",
        distribution_tariff="BTINFMU4",
        meter_type="AMM",
        contract_type="Contrat GRD-F",
        contract_status="SERVC",
        usage_point_status="com",
        last_activation_date=date(2017, 7, 15),  # "2017-07-15+02:00": the local day
        last_tariff_change_date=date(2024, 5, 11),
    )
    # Enedis masks the 2026 capture's address (personal data): masked values are kept as sent, no postal code read.
    assert parse_address_2026(ADDRESS_2026) == Address(
        street="<masque>", postal_code_city="<masque>", insee_code="<masque>", city=None, postal_code=None
    )
    assert parse_address_v5(ADDRESS_V5) == Address(
        street="1 rue de l'homologation",
        postal_code_city="60000 BEAUVAIS",
        insee_code="60057",
        city="BEAUVAIS",
        postal_code="60000",
    )
    assert_address_consistent(parse_address_v5(ADDRESS_V5), combined=False)
    assert_address_consistent(parse_address_2026({"address": {"postal_code_city": " 60000  BEAUVAIS "}}), combined=True)
    assert [s.active for s in parse_subscribed_services(SERVICES)] == [True, False]
    assert parse_token(TOKEN)[1] > 0
    assert decode_conso_token(_conso_token(TOKEN_PAYLOAD), now=NOW).prms
    assert len(ERROR_SEEDS) >= 20
    with pytest.raises(InvalidResponseError):
        parse_measure({"grandeur": "x"}, measure=Measure.LOAD_CURVE, direction=Direction.CONSUMPTION)
