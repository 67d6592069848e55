"""SGE parsers on every real SGE body of ../shared/reference/fixtures, DST days, step changes, faults, hostile XML."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from custom_components.enedis.api import Direction, Measure
from custom_components.enedis.api.calendar import PARIS
from custom_components.enedis.api.errors import (
    InvalidResponseError,
    NoDataError,
    NotHolderError,
    RequestError,
    ServerError,
)
from custom_components.enedis.api.models import Contract
from custom_components.enedis.api.sge import cdtc_envelope, cmd_envelope
from custom_components.enedis.api.sge_parsers import (
    MAX_BODY_BYTES,
    OutOfPerimeterError,
    UnknownPrmError,
    parse_sge_contract,
    parse_sge_fault,
    parse_sge_index,
    parse_sge_measure,
    parse_xml,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"
"""Copies of ../shared/reference/fixtures (each with its ``.source.txt`` provenance)."""
PRM = "09111642617347"
C = Direction.CONSUMPTION
ENVELOPE = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{}</s:Body></s:Envelope>'
V3 = (
    '<ns3:consulterMesuresDetailleesResponseV3 xmlns:ns3="http://www.enedis.fr/sge/b2b/services/'
    'consultationmesuresdetaillees/common"><pointId>{prm}</pointId><mesuresCorrigees>BRUT</mesuresCorrigees>'
    "<grandeur><grandeurMetier>{metier}</grandeurMetier><grandeurPhysique>{physique}</grandeurPhysique>"
    "<unite>{unite}</unite>{points}</grandeur></ns3:consulterMesuresDetailleesResponseV3>"
)


def fixture(name: str) -> bytes:
    return (FIXTURES / f"sge-tiers__{name}.xml").read_bytes()


def v3_body(points: str, *, physique: str = "PA", unite: str = "W", metier: str = "CONS", prm: str = PRM) -> str:
    return ENVELOPE.format(V3.format(prm=prm, metier=metier, physique=physique, unite=unite, points=points))


def curve_points(stamps: list[tuple[str, str]], value: int = 1000) -> str:
    return "".join(f"<points><v>{value}</v><d>{d}</d><p>{p}</p><n>B</n></points>" for d, p in stamps)


def paris(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


# --------------------------------------------------------------------------------------------- real bodies


def test_every_sge_fixture_is_covered() -> None:
    """A new SGE fixture must get a test here: the list of bodies read below is the list of files."""
    names = sorted(p.name.removeprefix("sge-tiers__").removesuffix(".xml") for p in FIXTURES.glob("sge-tiers__*.xml"))
    assert names == sorted(
        [
            "ConsultationMesuresDetaillees_v2_C5_ENERGIE_response",
            "ConsultationMesuresDetaillees_v2_C5_PA_request",
            "ConsultationMesuresDetaillees_v2_C5_PA_response",
            "ConsultationMesuresDetaillees_v2_C5_PMAX_request",
            "ConsultationMesuresDetaillees_v2_C5_PMAX_response",
            "ConsultationMesures_v1.1_C5_request",
            "ConsultationMesures_v1.1_C5_response",
            "cmdv3_C5-ENERGIE_request",
            "cmdv3_C5-ENERGIE_response",
            "cmdv3_C5-INDEX_response",
            "cmdv3_C5-PA_request",
            "cmdv3_C5-PA_response",
            "cmdv3_C5-PMAX_request",
            "cmdv3_C5-PMAX_response",
        ]
    )


def test_v3_load_curve() -> None:
    """288 points, END stamps, PT30M: 2023-04-01 00:00 -> 2023-04-07 00:00 (dateFin exclusive), mean W."""
    series = parse_sge_measure(fixture("cmdv3_C5-PA_response"), measure=Measure.LOAD_CURVE, direction=C, prm=PRM)
    assert len(series.readings) == 288
    assert not series.holes
    assert series.quality == "BRUT"
    first, last = series.readings[0], series.readings[-1]
    assert (first.start, first.end, first.value) == (paris(date(2023, 4, 1)), paris(date(2023, 4, 1), 0, 30), 1268)
    assert (last.end, last.value) == (paris(date(2023, 4, 7)), 2106)
    assert all(r.end - r.start == timedelta(minutes=30) for r in series.readings)
    assert all(a.end == b.start for a, b in zip(series.readings, series.readings[1:], strict=False))
    raw = ET.fromstring(fixture("cmdv3_C5-PA_response"))  # noqa: S314 - a real fixture
    values = [int(e.text or "") for e in raw.iter() if e.tag == "v"]
    assert series.energy_wh() == pytest.approx(sum(values) / 2)


def test_v3_daily_energy() -> None:
    """30 days for 2023-04-01 -> 2023-05-01: dateFin is exclusive."""
    series = parse_sge_measure(fixture("cmdv3_C5-ENERGIE_response"), measure=Measure.DAILY_ENERGY, direction=C, prm=PRM)
    assert len(series.readings) == 30
    assert series.readings[0].start == paris(date(2023, 4, 1))
    assert series.readings[0].value == 22125
    assert series.readings[-1].end == paris(date(2023, 5, 1))
    assert series.readings[-1].value == 18455


def test_v3_max_power_keeps_the_instant_of_the_peak() -> None:
    series = parse_sge_measure(fixture("cmdv3_C5-PMAX_response"), measure=Measure.MAX_POWER, direction=C, prm=PRM)
    assert len(series.readings) == 30
    first = series.readings[0]
    assert (first.start, first.end, first.value) == (paris(date(2023, 4, 1)), paris(date(2023, 4, 2)), 6241)
    assert first.at == paris(date(2023, 4, 1), 9, 13) + timedelta(seconds=20)
    assert series.readings[-1].at == paris(date(2023, 4, 30), 9, 6) + timedelta(seconds=3)


def test_v3_index_registers() -> None:
    """Six Tempo registers + BASE + the totaliser; the six supplier registers sum to BASE every day."""
    index = parse_sge_index(fixture("cmdv3_C5-INDEX_response"), direction=C, prm=PRM)
    assert {r.class_id for r in index.supplier_registers()} == {"BUHC", "BUHP", "BCHC", "BCHP", "RHC", "RHP"}
    (base,) = index.distributor_registers()
    assert index.totaliser is not None
    assert index.totaliser.code == "IDX_EAS_T"
    assert len(base.values) == 30
    assert base.values[0].at == paris(date(2023, 4, 1))
    for day, value in enumerate(base.values):
        assert sum(r.values[day].value_wh for r in index.supplier_registers()) == value.value_wh
        assert index.totaliser.values[day].value_wh == value.value_wh


@pytest.mark.parametrize(
    ("name", "measure", "count", "first"),
    [
        ("ConsultationMesuresDetaillees_v2_C5_PA_response", Measure.LOAD_CURVE, 336, 430),
        ("ConsultationMesuresDetaillees_v2_C5_ENERGIE_response", Measure.DAILY_ENERGY, 7, 20711),
        ("ConsultationMesuresDetaillees_v2_C5_PMAX_response", Measure.MAX_POWER, 7, 3839),
    ],
)
def test_v2_answers_with_offsets_still_parse(name: str, measure: Measure, count: int, first: int) -> None:
    series = parse_sge_measure(fixture(name), measure=measure, direction=C, prm=PRM)
    assert len(series.readings) == count
    assert series.readings[0].value == first
    assert series.readings[0].start == paris(date(2022, 1, 5))
    assert series.readings[-1].end == paris(date(2022, 1, 12))
    if measure is Measure.MAX_POWER:
        assert series.readings[0].at == paris(date(2022, 1, 5), 21, 15) + timedelta(seconds=16)


def test_consultation_mesures_v1_1_is_not_taken_for_a_measure_answer() -> None:
    """A successful answer of another service (acknowledged SGT200) is no fault, but no detailed measure either."""
    root = parse_xml(fixture("ConsultationMesures_v1.1_C5_response"))
    assert parse_sge_fault(root) is None
    with pytest.raises(InvalidResponseError, match="not a consulterMesuresDetaillees answer"):
        parse_sge_measure(root, measure=Measure.DAILY_ENERGY, direction=C, prm=PRM)


def _demande(envelope: bytes | str) -> list[tuple[str, str]]:
    root = ET.fromstring(envelope)  # noqa: S314 - our envelopes and real fixtures
    demande = next(e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "demande")
    return [(e.tag.rsplit("}", 1)[-1], (e.text or "").strip()) for e in demande]


@pytest.mark.parametrize(
    ("name", "measure", "end"),
    [
        ("cmdv3_C5-PA_request", Measure.LOAD_CURVE, date(2023, 4, 7)),
        ("cmdv3_C5-ENERGIE_request", Measure.DAILY_ENERGY, date(2023, 5, 1)),
        ("cmdv3_C5-PMAX_request", Measure.MAX_POWER, date(2023, 5, 1)),
    ],
)
def test_cmd_envelope_is_the_real_request(name: str, measure: Measure, end: date) -> None:
    """Our template gives exactly the ``demande`` of the real v3 requests: same elements, order and values."""
    ours = cmd_envelope(
        login="sge-tiers@votre-entreprise.fr",
        prm=PRM,
        direction=C,
        measure=measure,
        start=date(2023, 4, 1),
        end=end,
    )
    assert _demande(ours) == _demande(fixture(name))


@pytest.mark.parametrize(
    "name",
    [
        "ConsultationMesuresDetaillees_v2_C5_PA_request",
        "ConsultationMesuresDetaillees_v2_C5_PMAX_request",
        "ConsultationMesures_v1.1_C5_request",
    ],
)
def test_older_requests_are_not_what_we_send(name: str) -> None:
    """v2.0 (decommissioned end of 2023) and v1.1 requests: the v3 envelope differs (sens/cadreAcces, no booleans)."""
    ours = dict(
        _demande(
            cmd_envelope(
                login="l",
                prm=PRM,
                direction=C,
                measure=Measure.LOAD_CURVE,
                start=date(2023, 4, 1),
                end=date(2023, 4, 2),
            )
        )
    )
    raw = fixture(name)
    if b"<demande>" in raw:
        theirs = dict(_demande(raw))
        assert "soutirage" in theirs
        assert "soutirage" not in ours
    assert ours["sens"] == "SOUTIRAGE"
    assert ours["cadreAcces"] == "ACCORD_CLIENT"


def test_envelopes_escape_their_values() -> None:
    envelope = cdtc_envelope(login="a&b<c>@x.fr", prm=PRM)
    root = ET.fromstring(envelope)  # noqa: S314 - our envelopes and real fixtures
    logins = [e.text for e in root.iter() if e.tag.rsplit("}", 1)[-1] in {"loginDemandeur", "loginUtilisateur"}]
    assert logins == ["a&b<c>@x.fr", "a&b<c>@x.fr"]


# --------------------------------------------------------------------------------------------- time rules


def test_autumn_dst_day_has_50_half_hours_and_25_hours() -> None:
    """2023-10-29: the 02:00-03:00 wall-clock hour happens twice; the repeated stamps are resolved by order."""
    day = date(2023, 10, 29)
    stamps: list[str] = []
    instant = paris(day).astimezone(PARIS)
    end_utc = paris(day + timedelta(days=1)).astimezone(PARIS)
    cursor = instant.astimezone(tz=None)
    while cursor < end_utc:
        cursor += timedelta(minutes=30)
        stamps.append(cursor.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S"))
    assert len(stamps) == 50
    assert stamps.count("2023-10-29 02:30:00") == 2
    body = v3_body(curve_points([(s, "PT30M") for s in stamps]))
    series = parse_sge_measure(body, measure=Measure.LOAD_CURVE, direction=C, prm=PRM)
    assert len(series.readings) == 50
    assert sum(r.duration_h for r in series.readings) == 25
    assert series.energy_wh() == 25_000
    assert len({r.start for r in series.readings}) == 50


def test_spring_dst_day_has_46_half_hours() -> None:
    """2024-03-31: 02:00-03:00 does not exist; the 23 h day has 46 END stamps."""
    day = date(2024, 3, 31)
    stamps = []
    cursor = paris(day).astimezone(tz=None)
    end = paris(day + timedelta(days=1)).astimezone(tz=None)
    while cursor < end:
        cursor += timedelta(minutes=30)
        stamps.append(cursor.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S"))
    assert len(stamps) == 46
    series = parse_sge_measure(
        v3_body(curve_points([(s, "PT30M") for s in stamps])), measure=Measure.LOAD_CURVE, direction=C, prm=PRM
    )
    assert sum(r.duration_h for r in series.readings) == 23
    assert series.readings[4].start == paris(day, 3, 0)  # 02:00 Paris is 03:00 summer time


def test_step_changes_within_a_day() -> None:
    """PT30M until 12:00, then PT10M: each point spans its own ``p`` back from its END stamp."""
    day = "2023-10-27"
    half_hours = [f"{day} {minute // 60:02d}:{minute % 60:02d}:00" for minute in range(30, 12 * 60 + 1, 30)]
    tens = [f"{day} {minute // 60:02d}:{minute % 60:02d}:00" for minute in range(12 * 60 + 10, 13 * 60 + 1, 10)]
    stamps = [(d, "PT30M") for d in half_hours] + [(d, "PT10M") for d in tens]
    series = parse_sge_measure(
        v3_body(curve_points(stamps, value=600)), measure=Measure.LOAD_CURVE, direction=C, prm=PRM
    )
    assert len(series.readings) == 24 + 6
    assert all(a.end == b.start for a, b in zip(series.readings, series.readings[1:], strict=False))
    tail = series.readings[-6:]
    assert all(r.end - r.start == timedelta(minutes=10) for r in tail)
    assert tail[0].start == paris(date(2023, 10, 27), 12, 0)
    assert series.energy_wh() == pytest.approx(600 * 13)


def test_nil_and_empty_values_are_holes_never_zero() -> None:
    points = (
        "<points><v>500</v><d>2023-04-01 00:30:00</d><p>PT30M</p></points>"
        '<points><v xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>'
        "<d>2023-04-01 01:00:00</d><p>PT30M</p></points>"
        "<points><v></v><d>2023-04-01 01:30:00</d><p>PT30M</p></points>"
    )
    series = parse_sge_measure(v3_body(points), measure=Measure.LOAD_CURVE, direction=C, prm=PRM)
    assert [r.value for r in series.readings] == [500]
    assert len(series.holes) == 2


def test_wrong_prm_physical_quantity_or_direction_is_invalid() -> None:
    body = v3_body(curve_points([("2023-04-01 00:30:00", "PT30M")]))
    with pytest.raises(InvalidResponseError, match="another PRM"):
        parse_sge_measure(body, measure=Measure.LOAD_CURVE, direction=C, prm="12345678901234")
    with pytest.raises(InvalidResponseError, match="grandeurPhysique"):
        parse_sge_measure(body, measure=Measure.DAILY_ENERGY, direction=C, prm=PRM)
    with pytest.raises(InvalidResponseError, match="wrong direction"):
        parse_sge_measure(body, measure=Measure.LOAD_CURVE, direction=Direction.PRODUCTION, prm=PRM)


# --------------------------------------------------------------------------------------------- faults


def sge_fault(code: str | None, text: str, faultcode: str = "soap:Client") -> str:
    detail = (
        f'<detail><ns2:erreur xmlns:ns2="http://www.enedis.fr/sge/b2b/technique/v1.0"><resultat code="{code}">'
        f"{text}</resultat></ns2:erreur></detail>"
        if code
        else ""
    )
    return ENVELOPE.format(
        f"<s:Fault><faultcode>{faultcode}</faultcode><faultstring>{text}</faultstring>{detail}</s:Fault>"
    )


@pytest.mark.parametrize(
    ("code", "faultcode", "error"),
    [
        ("SGT4G3", "soap:Client", NoDataError),
        ("SGT500", "soap:Server", ServerError),
        ("SGT400", "soap:Client", RequestError),
        ("SGT401", "soap:Client", UnknownPrmError),
        ("SGT403", "soap:Client", OutOfPerimeterError),
        ("SGT9Z9", "soap:Client", RequestError),  # an unknown code: the faultcode decides
        ("SGT9Z9", "soap:Server", ServerError),
        (None, "soap:Server", ServerError),  # "Erreur Technique MFI": no detail at all
    ],
)
def test_faults_become_typed_errors_with_their_code(code: str | None, faultcode: str, error: type) -> None:
    text = "Aucune mesure trouvée pour ce PRM" if code == "SGT4G3" else "Erreur Technique MFI"
    with pytest.raises(error) as caught:
        parse_sge_measure(sge_fault(code, text, faultcode), measure=Measure.DAILY_ENERGY, direction=C, prm=PRM)
    assert type(caught.value) is error
    assert caught.value.code == (code or faultcode)
    assert caught.value.description == text


def test_out_of_perimeter_concerns_the_prm_only() -> None:
    assert issubclass(OutOfPerimeterError, NotHolderError)


def test_a_refused_acknowledgement_in_a_200_answer_is_an_error() -> None:
    body = (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>'
        '<v1:acquittement xmlns:v1="http://www.enedis.fr/sge/b2b/technique/v1.0">'
        '<resultat code="SGT4G3">Aucune mesure trouvée pour ce PRM</resultat></v1:acquittement></s:Header>'
        "<s:Body/></s:Envelope>"
    )
    with pytest.raises(NoDataError):
        parse_sge_measure(body, measure=Measure.DAILY_ENERGY, direction=C, prm=PRM)


# --------------------------------------------------------------------------------------------- hostile XML

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>'
)
EXTERNAL = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL, '<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd"><x/>'])
def test_dtds_and_entities_are_refused(body: str) -> None:
    with pytest.raises(InvalidResponseError, match="refused"):
        parse_xml(body)


@pytest.mark.parametrize("body", ["<a><b></a>", "", "not xml", "<a/><b/>"])
def test_malformed_xml_is_invalid(body: str) -> None:
    with pytest.raises(InvalidResponseError):
        parse_xml(body)


# --------------------------------------------------------------------------------------------- contract

CDTC = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<ns7:consulterDonneesTechniquesContractuellesResponse
  xmlns:ns7="http://www.enedis.fr/sge/b2b/services/consulterdonneestechniquescontractuelles/v1.0">
<point id="{prm}">
 <donneesGenerales>
  <etatContractuel code="SERVC"><libelle>En service</libelle></etatContractuel>
  <dateDerniereModificationFormuleTarifaireAcheminement>2021-03-02</dateDerniereModificationFormuleTarifaireAcheminement>
  <dateDerniereAugmentationPuissanceSouscrite>2019-05-01</dateDerniereAugmentationPuissanceSouscrite>
  <dateDerniereDiminutionPuissanceSouscrite>2022-06-10</dateDerniereDiminutionPuissanceSouscrite>
  <segment code="C5"><libelle>C5</libelle></segment>
  <niveauOuvertureServices>2</niveauOuvertureServices>
 </donneesGenerales>
 <situationComptage><dispositifComptage>
  <typeComptage code="LINKY"><libelle>Compteur Linky</libelle></typeComptage>
  <compteurs><compteur><plagesHeuresCreuses>HC (23H30-7H30)</plagesHeuresCreuses></compteur></compteurs>
 </dispositifComptage></situationComptage>
 <situationContractuelle><structureTarifaire>
  <formuleTarifaireAcheminement code="BTINFCUST"><libelle>Courte utilisation</libelle></formuleTarifaireAcheminement>
  <puissanceSouscriteMax><valeur>9000</valeur><unite>VA</unite></puissanceSouscriteMax>
 </structureTarifaire></situationContractuelle>
</point>
</ns7:consulterDonneesTechniquesContractuellesResponse></soapenv:Body></soapenv:Envelope>"""


def test_contract() -> None:
    contract = parse_sge_contract(CDTC.format(prm=PRM), prm=PRM)
    assert contract.prm == PRM
    assert contract.segment == "C5"
    assert contract.contract_status == "SERVC"
    assert contract.subscribed_power_kva == 9
    assert contract.distribution_tariff == "BTINFCUST"
    assert contract.meter_type == "LINKY"
    assert contract.offpeak_hours == "HC (23H30-7H30)"
    assert contract.last_tariff_change_date == date(2021, 3, 2)
    assert contract.last_power_change_date == date(2022, 6, 10)
    assert contract.services_level == "2"
    assert contract.has_consumption
    assert contract.has_production  # unknown for a consumer: the engine probes it
    producer = parse_sge_contract(CDTC.format(prm=PRM).replace('code="C5"', 'code="P4"'), prm=PRM)
    assert not producer.has_consumption


def test_contract_of_another_prm_or_without_point_is_invalid() -> None:
    with pytest.raises(InvalidResponseError, match="another PRM"):
        parse_sge_contract(CDTC.format(prm="12345678901234"), prm=PRM)
    with pytest.raises(InvalidResponseError, match="no point"):
        parse_sge_contract(ENVELOPE.format("<x/>"), prm=PRM)
    with pytest.raises(UnknownPrmError):
        parse_sge_contract(sge_fault("SGT401", "Le point demandé est inexistant"), prm=PRM)


def test_an_oversized_answer_is_refused_before_parsing() -> None:
    """``MAX_BODY_BYTES`` is the largest answer read: one byte more is refused, whatever it holds."""
    at_limit = b"<a>" + b" " * (MAX_BODY_BYTES - 7) + b"</a>"
    assert len(at_limit) == MAX_BODY_BYTES
    assert parse_xml(at_limit).name == "a"
    with pytest.raises(InvalidResponseError) as caught:
        parse_xml(at_limit + b" ")
    assert caught.value.description == f"XML answer of {MAX_BODY_BYTES + 1} bytes refused (limit {MAX_BODY_BYTES})"


def _cdtc(point: str) -> str:
    return ENVELOPE.format(
        '<ns7:consulterDonneesTechniquesContractuellesResponse xmlns:ns7="http://www.enedis.fr/sge/b2b/services/'
        f'consulterdonneestechniquescontractuelles/v1.0">{point}</ns7:consulterDonneesTechniquesContractuellesResponse>'
    )


def test_a_contract_answer_without_details_leaves_them_unknown() -> None:
    """A point with nothing but its id: every field None (never guessed), consumption assumed, production probed."""
    contract = parse_sge_contract(_cdtc(f"<point><id>{PRM}</id></point>"), prm=PRM)
    assert contract == Contract(prm=PRM, has_consumption=True, has_production=True)  # every other field None


@pytest.mark.parametrize(
    ("tariff", "kva"),
    [
        ('<formuleTarifaireAcheminement code="BTINFMU4"/>', None),  # no subscribed power at all
        ("<puissanceSouscriteMax><unite>kVA</unite></puissanceSouscriteMax>", None),  # a power without value
        ("<puissanceSouscriteMax><valeur>9,5</valeur></puissanceSouscriteMax>", 9.5),  # decimal comma, kVA implied
        ("<puissanceSouscriteMax><valeur>12000</valeur><unite>va</unite></puissanceSouscriteMax>", 12.0),
    ],
)
def test_subscribed_power_absent_or_in_another_form(tariff: str, kva: float | None) -> None:
    point = (
        f'<point id="{PRM}"><situationContractuelle><structureTarifaire>{tariff}'
        "</structureTarifaire></situationContractuelle></point>"
    )
    assert parse_sge_contract(_cdtc(point), prm=PRM).subscribed_power_kva == kva


@pytest.mark.parametrize(
    ("power", "message"),
    [
        ("<valeur>neuf</valeur><unite>kVA</unite>", "power 'neuf' is not a number"),
        ("<valeur>9</valeur><unite>kW</unite>", "power unit 'kw' is not kVA"),
    ],
)
def test_subscribed_power_not_a_kva_number_is_invalid(power: str, message: str) -> None:
    point = (
        f'<point id="{PRM}"><situationContractuelle><structureTarifaire><puissanceSouscriteMax>{power}'
        "</puissanceSouscriteMax></structureTarifaire></situationContractuelle></point>"
    )
    with pytest.raises(InvalidResponseError) as caught:
        parse_sge_contract(_cdtc(point), prm=PRM)
    assert caught.value.description == message


def test_a_contract_date_that_does_not_exist_is_invalid() -> None:
    point = (
        f'<point id="{PRM}"><donneesGenerales><dateDerniereModificationFormuleTarifaireAcheminement>2021-02-30'
        "</dateDerniereModificationFormuleTarifaireAcheminement></donneesGenerales></point>"
    )
    with pytest.raises(InvalidResponseError) as caught:
        parse_sge_contract(_cdtc(point), prm=PRM)
    assert type(caught.value) is InvalidResponseError
    with pytest.raises(ValueError, match="day") as reason:  # the standard library's words, which vary by version
        date(2021, 2, 30)
    assert caught.value.description == f"contract answer: {reason.value}"
