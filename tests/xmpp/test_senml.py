"""SenML and stanza parsing of the consometers proxy, on the proxy's own examples (tests/fixtures): no server.

These pin the decision written in ``api/xmpp.py``: a load-curve record marks the END of its interval; quoalise
times are true UTC, legacy times Paris wall clock labelled UTC; a daily record is the Paris day holding it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
import xml.etree.ElementTree as ET

import pytest

from custom_components.enedis.api import BeforeActivationError, Direction, InvalidResponseError, Measure, NoDataError
from custom_components.enedis.api.errors import ConsentError, ServerError, WrongDirectionError
from custom_components.enedis.api.parsers import parse_measure
from custom_components.enedis.api.xmpp import (
    AUTHORIZE,
    CLIENT,
    COMMANDS,
    QUOALISE,
    SENML,
    Generation,
    ProxyUnreachableError,
    SenmlRecord,
    _Block,
    _data_blocks,
    generation_of,
    note_error,
    parse_authorization,
    parse_sensml,
    senml_body,
    stanza_error,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"


def fixture(name: str) -> ET.Element:
    return ET.fromstring((FIXTURES / f"consometers-proxy__{name}.xml").read_text(encoding="utf-8"))  # noqa: S314


def command_payload(name: str) -> list[ET.Element]:
    iq = fixture(name)
    command = iq.find(f"{{{COMMANDS}}}command")
    assert command is not None
    return command.findall(f"{{{QUOALISE}}}quoalise")


def test_load_curve_record_marks_the_end_of_its_interval_in_utc() -> None:
    blocks = _data_blocks(command_payload("xmpp_get_load_curve_response_senml"))
    assert blocks[0].step == timedelta(minutes=30)  # sampling interval="1800"
    prm = "10284856584123"
    body = senml_body(
        blocks, prm=prm, direction=Direction.PRODUCTION, measure=Measure.LOAD_CURVE, generation=Generation.QUOALISE
    )
    series = parse_measure(body, measure=Measure.LOAD_CURVE, direction=Direction.PRODUCTION, prm=prm)
    first = series.readings[0]
    assert first.end == datetime.fromtimestamp(1600041600, UTC)  # bt + t(0): the END
    assert first.start == first.end - timedelta(minutes=30)
    assert [r.value for r in series.readings] == [245, 420, 367, 377]
    assert [r.end - series.readings[0].end for r in series.readings] == [
        timedelta(seconds=s) for s in (0, 1800, 3600, 5400)
    ]


def test_daily_record_is_the_paris_day_holding_it() -> None:
    blocks = _data_blocks(command_payload("xmpp_get_daily_response_senml"))
    prm = "11453290002823"
    body = senml_body(
        blocks, prm=prm, direction=Direction.CONSUMPTION, measure=Measure.DAILY_ENERGY, generation=Generation.QUOALISE
    )
    series = parse_measure(body, measure=Measure.DAILY_ENERGY, direction=Direction.CONSUMPTION, prm=prm)
    # bt 1597536000 is 2020-08-16 00:00 UTC (the pre-2021 proxy's Paris midnight labelled UTC): still 2020-08-16.
    assert [r.start.date() for r in series.readings] == [date(2020, 8, 16) + timedelta(days=d) for d in (0, 1, 2, 14)]
    assert [r.value for r in series.readings] == [16433, 15081, 14664, 16330]
    # A true Paris midnight (the proxy since 2021) gives the same day.
    midnight = datetime(2020, 8, 15, 22, tzinfo=UTC).timestamp()
    fixed = senml_body(
        [_Block((SenmlRecord(f"urn:dev:prm:{prm}_daily_consumption", midnight, "1", "Wh"),))],
        prm=prm,
        direction=Direction.CONSUMPTION,
        measure=Measure.DAILY_ENERGY,
        generation=Generation.QUOALISE,
    )
    assert fixed["grandeur"][0]["points"][0]["d"] == "2020-08-16"


def test_legacy_time_is_paris_wall_clock_labelled_utc() -> None:
    # The seed's first record: t=1590193800.0 is "2020-05-23 00:30" on the wall clock, the END of 00:00-00:30 Paris.
    prm = "22516914714270"
    sensml = ET.fromstring(  # noqa: S314
        f'<sensml xmlns="{SENML}"><senml n="urn:dev:prm:{prm}_consumption_load" t="1590193800.0" v="2133" u="W"/>'
        f'<senml n="urn:dev:prm:{prm}_consumption_load" t="1590195600.0" v="2097" u="W"/></sensml>'
    )
    body = senml_body(
        _data_blocks([sensml]),
        prm=prm,
        direction=Direction.CONSUMPTION,
        measure=Measure.LOAD_CURVE,
        generation=Generation.LEGACY,
    )
    series = parse_measure(body, measure=Measure.LOAD_CURVE, direction=Direction.CONSUMPTION, prm=prm)
    assert series.readings[0].end == datetime(2020, 5, 22, 22, 30, tzinfo=UTC)
    assert series.readings[0].start == datetime(2020, 5, 22, 22, 0, tzinfo=UTC)
    assert [r.value for r in series.readings] == [2133, 2097]


def test_base_fields_and_merge() -> None:
    sensml = ET.fromstring(  # noqa: S314
        f'<sensml xmlns="{SENML}"><senml bn="urn:dev:prm:1_" bt="100" t="0" v="1" bu="W" n="x"/>'
        '<senml t="10" v="2" n="x"/><senml bn="urn:dev:prm:2_" t="20" v="3" n="y" u="Wh"/></sensml>'
    )
    assert parse_sensml(sensml) == [
        SenmlRecord("urn:dev:prm:1_x", 100, "1", "W"),
        SenmlRecord("urn:dev:prm:1_x", 110, "2", "W"),
        SenmlRecord("urn:dev:prm:2_y", 120, "3", "Wh"),
    ]
    prm, name = "22516914714270", "urn:dev:prm:22516914714270_consumption_load"
    one = _Block((SenmlRecord(name, 3600, "10", "W"), SenmlRecord(name, 5400, "20", "W")))
    two = _Block((SenmlRecord(name, 1800, "30", "W"), SenmlRecord(name, 3600, "10", "W")))  # out of order, a repeat
    options = {"prm": prm, "direction": Direction.CONSUMPTION, "measure": Measure.LOAD_CURVE}
    body = senml_body([one, two], generation=Generation.QUOALISE, **options)  # type: ignore[arg-type]
    assert [p["v"] for p in body["grandeur"][0]["points"]] == ["30", "10", "20"]
    clash = _Block((SenmlRecord(name, 3600, "11", "W"),))
    with pytest.raises(InvalidResponseError, match="two SenML values"):
        senml_body([one, clash], generation=Generation.QUOALISE, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "unit", "match"),
    [
        ("urn:dev:prm:22516914714270_consumption_load", "Wh", "unit"),
        ("urn:dev:prm:11111111111111_consumption_load", "W", "expected"),
        ("urn:dev:prm:22516914714270_production_load", "W", "expected"),
        ("urn:dev:meter:22516914714270", "W", "urn:dev:prm"),
        # Other scripts' digits are not a PRM's (`api.prm.PRM_DIGITS`, as everywhere else).
        (
            "urn:dev:prm:\u0662\u0662\u0665\u0661\u0666\u0669\u0661\u0664\u0667\u0661\u0664\u0662\u0667\u0660_consumption_load",
            "W",
            "is not urn:dev:prm",
        ),
    ],
)
def test_records_are_validated(name: str, unit: str, match: str) -> None:
    with pytest.raises(InvalidResponseError, match=match):
        senml_body(
            [_Block((SenmlRecord(name, 1800, "1", unit),))],
            prm="22516914714270",
            direction=Direction.CONSUMPTION,
            measure=Measure.LOAD_CURVE,
            generation=Generation.QUOALISE,
        )


def test_authorize_message_text_or_id_attribute() -> None:
    x = fixture("xmpp_authorize_complete_message").find(f"{{{AUTHORIZE}}}x")
    assert x is not None
    authorization = parse_authorization(x)
    assert authorization.prms == ("22516914714270",)
    assert authorization.state == "ton_etat"
    early = ET.fromstring(f'<x xmlns="{AUTHORIZE}"><usage-point id="1"/><usage-point id="2"/></x>')  # noqa: S314
    assert parse_authorization(early).prms == ("1", "2")
    assert parse_authorization(early).state == ""


def test_errors_map_like_data_connect() -> None:
    error = fixture("xmpp_error_ADAM-ERR0123").find("error")  # a standalone document: no jabber:client
    mapped = stanza_error(error, about_prm=True)
    assert isinstance(mapped, BeforeActivationError)
    assert mapped.code == "ADAM-ERR0123"
    assert "anterior" in mapped.description

    def condition(name: str) -> ET.Element:
        return ET.fromstring(  # noqa: S314
            f'<error xmlns="{CLIENT}" type="cancel"><{name} xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>'
        )

    assert isinstance(stanza_error(condition("not-authorized"), about_prm=True), ConsentError)
    assert isinstance(stanza_error(condition("service-unavailable"), about_prm=True), ProxyUnreachableError)
    assert isinstance(stanza_error(condition("item-not-found"), about_prm=False), ProxyUnreachableError)
    assert isinstance(stanza_error(condition("internal-server-error"), about_prm=True), ServerError)
    note = '{\n    "error": "STM-ERR-0000020",\n    "error_description": "no measure found for this usage point"\n}'
    assert isinstance(note_error(note), NoDataError)  # the seed's example
    assert isinstance(note_error("ADAM-ERR0069: Le sens de la mesure ne correspond pas"), WrongDirectionError)


def test_generation_from_nodes() -> None:
    assert generation_of({"get_authorize_uri", "get_load_curve", "get_daily"}) is Generation.QUOALISE
    both = {"get_authorize_uri", "get_load_curve", "get_daily", "get_consumption_load_curve"}
    assert generation_of(both) is Generation.QUOALISE
    assert generation_of({"get_authorize_uri", "get_consumption_load_curve"}) is Generation.LEGACY
    assert generation_of({"get_history"}) is None
