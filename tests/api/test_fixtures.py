"""Every saved response fixture goes through the right parser (or maps to the right error), table-driven."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
import json
from pathlib import Path

import pytest

from custom_components.enedis.api import errors
from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.api.models import Address, Contract, Direction, Measure, Series
from custom_components.enedis.api.parsers import (
    parse_address_2026,
    parse_address_v5,
    parse_contract_2026,
    parse_contract_v5,
    parse_error,
    parse_measure,
    parse_token,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"
NOW = datetime(2026, 7, 17, 4, 0, tzinfo=UTC)

CONS, PROD = Direction.CONSUMPTION, Direction.PRODUCTION
CURVE, DAILY, PMAX = Measure.LOAD_CURVE, Measure.DAILY_ENERGY, Measure.MAX_POWER


def load(name: str) -> object:
    """Decoded body of a fixture; the test-harness ``{status_code, content}`` wrapper is unwrapped here."""
    body = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    if isinstance(body, dict) and "status_code" in body:
        return body.get("content")
    return body


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


# ------------------------------------------------------------ table

Check = Callable[[object], None]


@dataclass(frozen=True)
class Ok:
    """A success body: ``parse(body)`` must succeed, then ``check(result)``."""

    parse: Callable[[object], object]
    check: Check | None = None


@dataclass(frozen=True)
class Err:
    """An error body: ``parse_error(status, text)`` must give exactly ``cls`` with ``code``."""

    status: int
    cls: type[errors.EnedisError]
    code: str | None
    check: Check | None = None


def measure(m: Measure, d: Direction, prm: str | None = None) -> Callable[[object], object]:
    return lambda body: parse_measure(body, measure=m, direction=d, prm=prm)


def count(n: int, *, holes: int = 0) -> Check:
    def check(series: object) -> None:
        assert isinstance(series, Series)
        assert len(series.readings) == n
        assert len(series.holes) == holes

    return check


def values(*expected: float) -> Check:
    def check(series: object) -> None:
        assert isinstance(series, Series)
        assert [r.value for r in series.readings] == list(expected)

    return check


def peaks(*expected: tuple[datetime, float]) -> Check:
    def check(series: object) -> None:
        assert isinstance(series, Series)
        assert [(r.at, r.value) for r in series.readings] == list(expected)
        for reading in series.readings:
            assert reading.at is not None
            assert reading.start <= reading.at < reading.end
            assert reading.duration_h == 24

    return check


def all_of(*checks: Check) -> Check:
    def check(result: object) -> None:
        for one in checks:
            one(result)

    return check


def pt15m_gap(series: object) -> None:
    assert isinstance(series, Series)
    assert len(series.readings) == 5 * 96
    assert all(r.duration_h == 0.25 for r in series.readings)
    gaps = [(a.end, b.start) for a, b in zip(series.readings, series.readings[1:], strict=False) if a.end != b.start]
    assert gaps == [(paris(2022, 3, 3), paris(2022, 3, 5))]


def eddie_47(series: object) -> None:
    assert isinstance(series, Series)
    assert len(series.readings) == 47
    assert series.readings[0].start == paris(2024, 2, 26)
    assert series.readings[-1].end == paris(2024, 2, 26, 23, 30)
    assert series.energy_wh() == 0


def contract_check(**expected: object) -> Check:
    def check(contract: object) -> None:
        assert isinstance(contract, Contract)
        for key, value in expected.items():
            assert getattr(contract, key) == value, key

    return check


def address_check(**expected: object) -> Check:
    def check(address: object) -> None:
        assert isinstance(address, Address)
        for key, value in expected.items():
            assert getattr(address, key) == value, key

    return check


def token_check(expires_in: float) -> Check:
    def check(result: object) -> None:
        assert isinstance(result, tuple)
        assert result[0]
        assert result[1] == expires_in

    return check


def retry_at(expected: datetime, after: float) -> Check:
    def check(err: object) -> None:
        assert isinstance(err, errors.RateLimitError)
        assert err.retry_at == expected
        assert err.retry_after == after

    return check


def api_is(api: str) -> Check:
    def check(err: object) -> None:
        assert isinstance(err, errors.ApiNotSubscribedError)
        assert err.api == api

    return check


def situation_with(synth_name: str, prm: str = "99999999999991") -> Callable[[object], object]:
    return lambda body: parse_contract_2026(body, load(synth_name), prm=prm)


def synth_with(situation_name: str, prm: str = "99999999999991") -> Callable[[object], object]:
    return lambda body: parse_contract_2026(load(situation_name), body, prm=prm)


AUTOCONSO_CONTRACT = contract_check(
    segment="C5",
    subscribed_power_kva=12.0,
    contract_type="Contrat GRD-F",
    last_activation_date=date(2014, 1, 22),
    production_activation_date=date(2024, 7, 31),
    services_level="Communicant (ouvert aux services)",
    has_production=True,
    has_consumption=True,
)
CONSUMER_CONTRACT = contract_check(
    segment="C5",
    subscribed_power_kva=12.0,
    last_activation_date=date(2018, 8, 31),
    production_activation_date=None,
    has_production=False,
    has_consumption=True,
)
MED_PEAKS = peaks((paris(2026, 9, 29, 13, 3, 35), 4680.0), (paris(2026, 9, 30, 12, 50, 25), 6510.0))
BOKUB_PEAKS = peaks(
    (paris(2026, 4, 1, 4, 18, 59), 3533.0),
    (paris(2026, 4, 2, 4, 13, 22), 3092.0),
    (paris(2026, 4, 3, 4, 12, 39), 3494.0),
)
MASKED_ADDRESS = address_check(street="<masque>", postal_code_city="<masque>", insee_code="<masque>", city=None)

CASES: dict[str, Ok | Err] = {
    # --- v5 / v4 measures (meter_reading)
    "aeneria__consumption_load_curve_v5_doc.json": Ok(
        measure(CURVE, CONS, "16401220101758"), all_of(count(1), values(540.0))
    ),
    "aeneria__daily_consumption_v5_doc.json": Ok(measure(DAILY, CONS), values(540.0)),
    "apiEnedis__consumption_load_curve_v4_PT15M_with_missing_day.json": Ok(measure(CURVE, CONS), pt15m_gap),
    "apiEnedis__consumption_load_curve_v4_capture_1day.json": Ok(measure(CURVE, CONS), count(48)),
    "apiEnedis__consumption_load_curve_v4_capture_2020-12.json": Ok(measure(CURVE, CONS), count(336)),
    "apiEnedis__consumption_load_curve_v4_capture_7days.json": Ok(measure(CURVE, CONS), count(336)),
    "apiEnedis__daily_consumption_max_power_v4_capture.json": Ok(
        measure(PMAX, CONS), peaks((paris(2022, 3, 23, 7, 46), 1798.0))
    ),
    "apiEnedis__daily_consumption_v4_capture_1day.json": Ok(measure(DAILY, CONS), values(7491.0)),
    "apiEnedis__daily_consumption_v4_capture_year2021.json": Ok(measure(DAILY, CONS), count(365)),
    "eddie__consumption_load_curve_v5_2024-02-26_47pts.json": Ok(measure(CURVE, CONS), eddie_47),
    "eddie__daily_consumption_v5_2024-02-01_2024-02-08.json": Ok(measure(DAILY, CONS), count(7)),
    "infodavide__consumption_load_curve_v5_sandbox_wrapped.json": Ok(measure(CURVE, CONS), count(48)),
    "infodavide__daily_consumption_max_power_v5_sandbox_wrapped.json": Ok(measure(PMAX, CONS), count(8)),
    "infodavide__daily_consumption_v5_sandbox_wrapped.json": Ok(measure(DAILY, CONS), count(8)),
    "infodavide__daily_production_v5_sandbox_wrapped.json": Ok(measure(DAILY, PROD, "24880057139941"), count(8)),
    "infodavide__production_load_curve_v5_sandbox_wrapped.json": Ok(measure(CURVE, PROD), count(48)),
    "med-new__v5_consumption_load_curve.json": Ok(measure(CURVE, CONS, "99999999999991"), count(96)),
    "med-new__v5_consumption_load_curve_prod_capture_2026-09-29.json": Ok(measure(CURVE, CONS), count(96)),
    "myelectricaldatapy__consumption_load_curve_v5_via_med.json": Ok(measure(CURVE, CONS), count(144)),
    "myelectricaldatapy__daily_consumption_v5_via_med.json": Ok(measure(DAILY, CONS), count(365)),
    # --- Data Connect 2026 measures
    "bokub-linky__consommation_quotidienne_2026-04-01_2026-04-02.json": Ok(measure(DAILY, CONS), values(9271.0)),
    "bokub-linky__consommation_quotidienne_2026-04-01_2026-04-04.json": Ok(
        measure(DAILY, CONS), values(9271.0, 12724.0, 14054.0)
    ),
    "bokub-linky__courbe_de_charge_consommation_2026-04-01_2026-04-02.json": Ok(measure(CURVE, CONS), count(48)),
    "bokub-linky__courbe_de_charge_production_2026-04-01_2026-04-02.json": Ok(measure(CURVE, PROD), count(48)),
    "bokub-linky__production_quotidienne_2026-04-01_2026-04-02.json": Ok(measure(DAILY, PROD), values(1882.0)),
    "bokub-linky__production_quotidienne_2026-04-01_2026-04-04.json": Ok(
        measure(DAILY, PROD), values(1882.0, 12072.0, 899.0)
    ),
    "bokub-linky__puissance_conso_max_quotidienne_2026-04-01_2026-04-02.json": Ok(
        measure(PMAX, CONS), peaks((paris(2026, 4, 1, 4, 18, 59), 3533.0))
    ),
    "bokub-linky__puissance_conso_max_quotidienne_2026-04-01_2026-04-04.json": Ok(measure(PMAX, CONS), BOKUB_PEAKS),
    "med-new__dc2026_consommation_quotidienne_prod_capture.json": Ok(
        measure(DAILY, CONS, "99999999999991"), values(33495.0, 38022.0)
    ),
    "med-new__dc2026_courbe_de_charge_consommation_prod_capture.json": Ok(
        measure(CURVE, CONS, "99999999999991"), count(96)
    ),
    "med-new__dc2026_courbe_de_charge_production_prod_capture.json": Ok(measure(CURVE, PROD), count(96)),
    "med-new__dc2026_production_quotidienne_prod_capture.json": Ok(measure(DAILY, PROD), values(8263.0, 941.0)),
    "med-new__dc2026_puissance_conso_max_quotidienne_prod_capture.json": Ok(measure(PMAX, CONS), MED_PEAKS),
    "med-new__mesure_consommation_quotidienne.json": Ok(measure(DAILY, CONS), values(33495.0, 38022.0)),
    "med-new__mesure_courbe_de_charge_consommation.json": Ok(measure(CURVE, CONS), count(96)),
    "med-new__mesure_courbe_de_charge_production.json": Ok(measure(CURVE, PROD), count(96)),
    "med-new__mesure_production_quotidienne.json": Ok(measure(DAILY, PROD), values(8263.0, 941.0)),
    "med-new__mesure_puissance_conso_max_quotidienne.json": Ok(measure(PMAX, CONS), MED_PEAKS),
    # --- contracts and addresses
    "apiEnedis__contracts_v4_capture.json": Ok(
        lambda b: parse_contract_v5(b, "20000000000000"),
        contract_check(
            segment="C5",
            subscribed_power_kva=6.0,
            offpeak_hours="HC (0H54-6H54;11H54-13H54)",
            distribution_tariff="BTINFCU4",
            meter_type="AMM",
            usage_point_status="com",
            last_activation_date=date(2000, 2, 17),
            last_tariff_change_date=date(2021, 11, 18),
        ),
    ),
    "apiEnedis__contracts_v4_offpeak_HC_23H30-7H30.json": Ok(
        lambda b: parse_contract_v5(b, "12345678901234"),
        contract_check(offpeak_hours="HC (23H30-7H30)", subscribed_power_kva=9.0, contract_type="Contrat GRD-F"),
    ),
    "eddie__contracts_v5.json": Ok(
        lambda b: parse_contract_v5(b, "24115050XXXXXX"),
        contract_check(distribution_tariff="BTINFMU4", last_activation_date=date(2017, 7, 15)),
    ),
    "myelectricaldatapy__contracts_v5_via_med.json": Ok(
        lambda b: parse_contract_v5(b, "01234567890"),
        contract_check(offpeak_hours="HC (1H30-8H00;12H30-14H00)", contract_type=None, contract_status="SERVC"),
    ),
    "med-new__dc2026_situation_contrat_auto_autoconsommation_prod_capture.json": Ok(
        situation_with("med-new__dc2026_synth_contrat_auto_autoconsommation_prod_capture.json"),
        AUTOCONSO_CONTRACT,
    ),
    "med-new__dc2026_synth_contrat_auto_autoconsommation_prod_capture.json": Ok(
        synth_with("med-new__dc2026_situation_contrat_auto_autoconsommation_prod_capture.json"),
        AUTOCONSO_CONTRACT,
    ),
    "med-new__dc2026_situation_contrat_auto_consommateur_prod_capture.json": Ok(
        situation_with("med-new__dc2026_synth_contrat_auto_consommateur_prod_capture.json"), CONSUMER_CONTRACT
    ),
    "med-new__dc2026_synth_contrat_auto_consommateur_prod_capture.json": Ok(
        synth_with("med-new__dc2026_situation_contrat_auto_consommateur_prod_capture.json"), CONSUMER_CONTRACT
    ),
    "med-new__situation_contrat_autoconsommation.json": Ok(
        situation_with("med-new__synth_contrat_autoconsommation.json"), AUTOCONSO_CONTRACT
    ),
    "med-new__synth_contrat_autoconsommation.json": Ok(
        synth_with("med-new__situation_contrat_autoconsommation.json"), AUTOCONSO_CONTRACT
    ),
    "med-new__situation_contrat_consommateur.json": Ok(
        situation_with("med-new__synth_contrat_consommateur.json"), CONSUMER_CONTRACT
    ),
    "med-new__synth_contrat_consommateur.json": Ok(
        synth_with("med-new__situation_contrat_consommateur.json"), CONSUMER_CONTRACT
    ),
    "aeneria__usage_points_addresses_doc.json": Ok(
        parse_address_v5,
        address_check(
            street="2 bis rue du capitaine Flam, lieudit Tourtouze",
            postal_code="32400",
            city="Maulichères",
            postal_code_city="32400 Maulichères",
            insee_code="32244",
        ),
    ),
    "eddie__addresses_v5_homologation.json": Ok(
        parse_address_v5, address_check(street="1 rue de l'homologation", city="BEAUVAIS")
    ),
    "myelectricaldatapy__addresses_v5_via_med.json": Ok(
        parse_address_v5, address_check(street="1 rue paul bismuth", postal_code="00666")
    ),
    "med-new__dc2026_donnees_generales_auto_prod_capture.json": Ok(parse_address_2026, MASKED_ADDRESS),
    "med-new__donnees_generales.json": Ok(parse_address_2026, MASKED_ADDRESS),
    # --- tokens
    "aeneria__token_v1_with_usage_points_id.json": Ok(parse_token, token_check(12600.0)),
    "aeneria__token_v3_client_credentials.json": Ok(parse_token, token_check(12600.0)),
    "consometers-data-connect__token_v1_authorization_code.json": Ok(parse_token, token_check(12600.0)),
    "infodavide__token_v3_sandbox_wrapped.json": Ok(parse_token, token_check(12600.0)),
    # --- errors (status = the HTTP status the body came with, per the sidecar or the wrapper)
    "apiEnedis__enedisgateway_error_500_internal_with_error_uri.json": Err(
        500, errors.ServerError, "Internal Server error"
    ),
    "apiEnedis__enedisgateway_error_ADAM-ERR0069.json": Err(400, errors.WrongDirectionError, "ADAM-ERR0069"),
    "apiEnedis__enedisgateway_error_client_not_found.json": Err(404, errors.ConsentError, "client_not_found"),
    "apiEnedis__enedisgateway_error_invalid_request_14digits.json": Err(400, errors.RequestError, "Invalid_request"),
    "apiEnedis__enedisgateway_error_limit_50_per_day.json": Err(500, errors.RateLimitError, "limit_reached"),
    "apiEnedis__enedisgateway_error_nested_ADAM-ERR0069.json": Err(500, errors.WrongDirectionError, "ADAM-ERR0069"),
    "apiEnedis__enedisgateway_error_token_refresh_401.json": Err(401, errors.ConsentError, "token_refresh_401"),
    "bokub-linky__error400_consommation_quotidienne_dateFin_avant_dateDebut.json": Err(
        400, errors.InvalidDatesError, "ADAM-ERR0002"
    ),
    "bokub-linky__error401_token_invalide.json": Err(401, errors.AuthError, None),
    "conso-api__error_404_no_data_found.json": Err(404, errors.NoDataError, "no_data_found"),
    "esthesis-edge__mesure-v2-error-400_UNVERIFIED.json": Err(400, errors.BeforeActivationError, "ADAM-ERR0123"),
    "infodavide__error_401_invalid_jwt_wrapped.json": Err(401, errors.AuthError, "900901"),
    "issue-apiEnedis-39__error_400_ADAM-ERR0123.json": Err(400, errors.BeforeActivationError, "ADAM-ERR0123"),
    "issue-apiEnedis-42__error_400_end_date_not_before_today.json": Err(
        400, errors.InvalidDatesError, "Invalid_request"
    ),
    "issue-conso-api-128__error_500_plain_text.json": Err(500, errors.ServerError, None),
    "issue-conso-api-141__error_429_fault_900807.json": Err(429, errors.RateLimitError, "900807"),
    "issue-conso-api-151__error_400_ADAM-DC-0007_fr.json": Err(400, errors.NotHolderError, "ADAM-DC-0007"),
    "issue-conso-api-164__error_403_ADAM-DC-0008_inner.json": Err(403, errors.ConsentError, "ADAM-DC-0008"),
    "issue-conso-api-56__error_500_technical_error.json": Err(500, errors.ServerError, "technical_error"),
    "issue-ha-linky-192__error_429_throttled_900804.json": Err(
        429, errors.RateLimitError, "900804", retry_at(datetime(2026, 7, 17, 5, 0, tzinfo=UTC), 3600.0)
    ),
    "issue-linky-45__error_404_no_data_found_with_error_uri.json": Err(404, errors.NoDataError, "no_data_found"),
    "issue-linky-56__error_400_ADAM-ERR0069.json": Err(400, errors.WrongDirectionError, "ADAM-ERR0069"),
    "med-new__dc2026_error_403_900908_api_not_subscribed.json": Err(
        403, errors.ApiNotSubscribedError, "900908", api_is("comptage_auto/v1")
    ),
    "med-new__erreur_comptage_non_souscrit.json": Err(
        403, errors.ApiNotSubscribedError, "900908", api_is("comptage_auto/v1")
    ),
    # Not JSON: mangled raw HTTP dump of a 2020 "Quota Q4" 429 (inferred body: see test_parsers).
    "issue-DomoticzLinky-84__error_429_quota_Q4_raw_http.txt": Err(429, errors.RateLimitError, None),
}

NON_RESPONSES: dict[str, str] = {
    # Swagger specs: API descriptions, not response bodies.
    **{
        f"med-new__spec_enedis_v5_{name}.json": "Swagger 2.0 spec, not a response"
        for name in (
            "01-authorize",
            "02-token",
            "03-metering-consommation-daily",
            "04-metering-consommation-detail",
            "05-metering-power",
            "08-contract",
            "09-address",
            "10-customer",
            "11-contact",
        )
    },
    # Identity / contact data: personal data the library deliberately does not model (no parser exists).
    "eddie__identity_v5_test.json": "identity: personal data, not modelled",
    "eddie__contact_data_v5_test.json": "contact: personal data, not modelled",
    # MyElectricalData v1 gateway extras: not Enedis bodies, no parser in this library.
    "myelectricaldatapy__med_v1_rte_ecowatt.json": "RTE EcoWatt via MED, not an Enedis body",
    "myelectricaldatapy__med_v1_rte_tempo.json": "RTE Tempo via MED, not an Enedis body",
    "myelectricaldatapy__med_v1_valid_access.json": "MED gateway consent/quota status, not an Enedis body",
    "myelectricaldatapy__med_v1_valid_access_quota_reached.json": "MED gateway consent/quota status",
    # Token revocation answers 200 with no body: only the harness wrapper exists.
    "infodavide__token_revoke_wrapped.json": "oauth2/v3/revoke: 200 without body (wrapper only)",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture(name: str) -> None:
    case = CASES[name]
    if isinstance(case, Ok):
        result = case.parse(load(name))
    else:
        raw = (FIXTURES / name).read_text(encoding="utf-8")
        if "_wrapped" in name:  # unwrap the test harness, not in the parser
            raw = json.dumps(json.loads(raw)["content"])
        result = parse_error(case.status, raw, api="comptage_auto/v1", now=NOW)
        assert type(result) is case.cls
        assert result.code == case.code
        assert result.status == case.status
        assert result.description
    if case.check is not None:
        case.check(result)


def test_every_json_fixture_is_covered() -> None:
    names = {path.name for path in FIXTURES.glob("*.json")}
    assert not set(CASES) & set(NON_RESPONSES)
    missing = names - set(CASES) - set(NON_RESPONSES)
    assert not missing, f"fixtures neither tested nor excluded: {sorted(missing)}"
    assert not (set(CASES) | set(NON_RESPONSES)) - names - {"issue-DomoticzLinky-84__error_429_quota_Q4_raw_http.txt"}


def test_every_fixture_has_its_sidecar() -> None:
    for path in FIXTURES.iterdir():
        if path.suffix in {".json", ".txt", ".xml"} and not path.name.endswith(".source.txt"):
            assert path.with_name(path.name.rsplit(".", 1)[0] + ".source.txt").exists(), path.name


CURVE_FILES = (
    "med-new__v5_consumption_load_curve.json",
    "med-new__v5_consumption_load_curve_prod_capture_2026-09-29.json",
    "med-new__dc2026_courbe_de_charge_consommation_prod_capture.json",
    "med-new__mesure_courbe_de_charge_consommation.json",
)


def test_v5_and_2026_load_curves_are_identical() -> None:
    series = [parse_measure(load(n), measure=CURVE, direction=CONS, prm="99999999999991") for n in CURVE_FILES]
    first = series[0]
    assert len(first.readings) == 96
    assert first.readings[0].start == paris(2026, 9, 29)
    assert first.readings[0].end == paris(2026, 9, 29, 0, 30)
    assert first.readings[0].value == 4078.0
    assert first.readings[-1].end == paris(2026, 10, 1)
    assert first.readings[-1].value == 3974.0
    assert all(r.duration_h == 0.5 for r in first.readings)
    assert all(a.end == b.start for a, b in zip(first.readings, first.readings[1:], strict=False))
    for other in series[1:]:
        assert other == first
    assert first.quality == "BRUT"
    assert first.unit == "W"


def test_2026_daily_capture_values() -> None:
    series = parse_measure(
        load("med-new__dc2026_consommation_quotidienne_prod_capture.json"), measure=DAILY, direction=CONS
    )
    assert [(r.start, r.end, r.value) for r in series.readings] == [
        (paris(2026, 9, 29), paris(2026, 9, 30), 33495.0),
        (paris(2026, 9, 30), paris(2026, 10, 1), 38022.0),
    ]
    assert series.energy_wh() == 33495 + 38022


def test_daily_energy_consistent_with_curve() -> None:
    curve = parse_measure(load(CURVE_FILES[2]), measure=CURVE, direction=CONS)
    per_day = sum(r.energy_wh for r in curve.readings if r.end <= paris(2026, 9, 30))
    assert per_day > 0
    assert curve.energy_wh() == pytest.approx(sum(r.value * 0.5 for r in curve.readings))
