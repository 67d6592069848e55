"""Measure and contract payloads of the fake gateway (2026 and v5 shapes) with Enedis' rules."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
import json
import re
from typing import Any, Literal

from . import data
from .data import CONS, PROD, Direction
from .state import FakeState

type Kind = Literal["daily", "curve", "pmax", "index"]

V2_RESOURCES: dict[str, tuple[Kind, Direction]] = {
    "consommation_quotidienne": ("daily", CONS),
    "production_quotidienne": ("daily", PROD),
    "courbe_de_charge_consommation": ("curve", CONS),
    "courbe_de_charge_production": ("curve", PROD),
    "puissance_conso_max_quotidienne": ("pmax", CONS),
    "index_consommation": ("index", CONS),
    "index_production": ("index", PROD),
}

#: v5 (api, resource) -> measure.
V5_RESOURCES: dict[tuple[str, str], tuple[Kind, Direction]] = {
    ("metering_data_dc", "daily_consumption"): ("daily", CONS),
    ("metering_data_clc", "consumption_load_curve"): ("curve", CONS),
    ("metering_data_dcmp", "daily_consumption_max_power"): ("pmax", CONS),
    ("metering_data_dp", "daily_production"): ("daily", PROD),
    ("metering_data_plc", "production_load_curve"): ("curve", PROD),
}

#: Conso API legacy type -> v5 (api, resource).
CONSO_LEGACY: dict[str, tuple[str, str]] = {
    "daily_consumption": ("metering_data_dc", "daily_consumption"),
    "consumption_load_curve": ("metering_data_clc", "consumption_load_curve"),
    "consumption_max_power": ("metering_data_dcmp", "daily_consumption_max_power"),
    "daily_production": ("metering_data_dp", "daily_production"),
    "production_load_curve": ("metering_data_plc", "production_load_curve"),
}

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PRM_RE = re.compile(r"^\d{14}$")

# Real error bodies (see /work/shared/reference/fixtures).
TECHNICAL_ERROR = {
    "error": "technical_error",
    "error_description": "Technical error. Please try later.",
}
NO_DATA_FOUND = {
    "error": "no_data_found",
    "error_description": "no measure found for this usage point",
}
NOT_SUBSCRIBED = {
    "code": "900908",
    "message": "Resource forbidden ",
    "description": ("User is NOT authorized to access the Resource. API Subscription validation failed."),
}
INVALID_JWT = {
    "fault": {
        "code": 900901,
        "message": "Invalid Credentials",
        "description": (
            "Invalid JWT token. Signature verification failed.. "
            "Make sure you have provided the correct security credentials"
        ),
    }
}
MISSING_CREDENTIALS = {
    "fault": {
        "code": 900902,
        "message": "Missing Credentials",
        "description": (
            "Invalid Credentials. Make sure your API invocation call has a header: "
            "'Authorization : Bearer ACCESS_TOKEN' or 'Authorization : Basic ACCESS_TOKEN' "
            "or 'apikey: API_KEY'"
        ),
    }
}
NO_CONSENT = {
    "error": "ADAM-DC-0008",
    "error_description": "No consent can be found for this customer and this usage point.",
}
NOT_OWNER = {
    "error": "ADAM-DC-0007",
    "error_description": "Le client n'est pas titulaire du point demandé.",
}
WRONG_DIRECTION = {
    "error": "ADAM-ERR0069",
    "error_description": "Le sens de la mesure ne correspond pas pour le PRM demandé",
}
END_BEFORE_START = {
    "error": "ADAM-ERR0002",
    "error_description": "La date de fin doit être supérieure à la date de début.",
}
END_IN_FUTURE = {
    "error": "invalid_request",
    "error_description": "The end date parameter must be earlier than the current date.",
}
BAD_PRM = {
    "error": "invalid_request",
    "error_description": "usage_point_id parameter must be 14 digits long.",
}
CURVE_TOO_LONG = {
    "error": "ADAM-DC-0015",
    "error_description": ("The requested period must be less than 7 days for an access to the load curve"),
}
CURVE_REFUSED = {
    "error": "ADAM-ERR0075",
    "error_description": "The customer objected to the load curve recording",
}
HISTORY_DEADLINE = {
    "error": "ADAM-ERR0125",
    "error_description": "The start date must be greater than the history deadline.",
}
BEFORE_ACTIVATION_FR = {
    "error": "ADAM-ERR0123",
    "error_description": (
        "La demande ne peut pas aboutir, la période demandée est antérieure à la date de "
        "dernière mise en service du point."
    ),
}
BEFORE_ACTIVATION_EN = {
    "error": "ADAM-ERR0123",
    "error_description": ("The requested period cannot be anterior to the meter's last activation date"),
}


@dataclass(slots=True)
class Reply:
    """An HTTP answer before it becomes an aiohttp response."""

    status: int
    body: Any = None
    text: str | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> str:
        """Serialised body."""
        if self.text is not None:
            return self.text
        return json.dumps(self.body, ensure_ascii=False)


def _invalid(description: str) -> Reply:
    return Reply(400, {"error": "invalid_request", "error_description": description})


def sub_months(day: date, months: int) -> date:
    """``day`` minus ``months`` calendar months (day clamped to the month's length)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, d))
        except ValueError:
            continue
    return date(year, month, 28)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


@dataclass(slots=True)
class MeasureRequest:
    """A validated measure request."""

    kind: Kind
    direction: Direction
    prm: str
    start: date
    end: date
    flavour: Literal["v2", "v5"]
    step: str = "P1D"
    truncate: int = 0


def validate(
    state: FakeState,
    *,
    kind: Kind,
    direction: Direction,
    prm: str,
    start_s: str,
    end_s: str,
    flavour: Literal["v2", "v5"],
) -> MeasureRequest | Reply:
    """Apply Enedis' rules; a Reply on error."""
    if not PRM_RE.match(prm):
        return Reply(400, BAD_PRM)
    start = _parse_date(start_s)
    if start is None:
        return _invalid("Start date parameter must be in the format YYYY-MM-DD")
    end = _parse_date(end_s)
    if end is None:
        return _invalid("End date parameter must be in the format YYYY-MM-DD")
    if start >= end:
        return Reply(400, END_BEFORE_START)
    today = state.current_date()
    if end > today:
        return Reply(400, END_IN_FUTURE)
    info = data.prm_info(prm)
    if info is None:
        return Reply(400, NOT_OWNER)
    if state.consent_revoked(prm):
        return Reply(403, NO_CONSENT)
    if direction not in info.directions:
        return Reply(400, WRONG_DIRECTION)
    if kind == "curve" and (end - start).days > 7:
        return Reply(400, CURVE_TOO_LONG)
    if start < info.activation:
        return Reply(400, BEFORE_ACTIVATION_FR if flavour == "v2" else BEFORE_ACTIVATION_EN)
    months = 24 if kind == "curve" else 36
    if start < sub_months(today, months) - timedelta(days=state.history_margin_days):
        return Reply(400, HISTORY_DEADLINE)
    if kind == "curve" and not info.load_curve_enabled and prm not in state.curve_enabled_from:
        return Reply(400, CURVE_REFUSED) if state.curve_refusal == "ADAM-ERR0075" else Reply(404, NO_DATA_FOUND)
    return MeasureRequest(kind, direction, prm, start, end, flavour)


def _parse_date(text: str) -> date | None:
    if not DATE_RE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _available_days(state: FakeState, req: MeasureRequest) -> list[date]:
    return [
        d
        for d in _days(req.start, req.end)
        if data.has_data(req.prm, d, ignore_holes=state.holes_filled)
        and state.is_published(d)
        and (req.kind != "curve" or state.curve_recorded(req.prm, d))
    ]


def build(state: FakeState, req: MeasureRequest) -> Reply:
    """Success body (or 404 no_data_found when the window holds no point)."""
    if req.kind == "index":
        return _build_index(state, req)
    days = _available_days(state, req)
    points: list[dict[str, str]] = []
    if req.kind == "daily":
        points.extend(
            {"v": str(data.daily_wh(req.prm, req.direction, d, ignore_holes=state.holes_filled)), "d": d.isoformat()}
            for d in days
        )
        if req.truncate and points:
            del points[-1:]
    elif req.kind == "curve":
        for i, d in enumerate(days):
            day_points = data.curve_points(req.prm, req.direction, d, ignore_holes=state.holes_filled)
            if req.truncate and i == len(days) - 1:
                day_points = day_points[: max(0, len(day_points) - req.truncate)]
            for end, watts in day_points:
                points.append(
                    {
                        "v": str(watts),
                        "d": data.local_stamp(end),
                        "p": "PT30M",
                        "n": "B",
                        "iv": "0",
                        "ec": "0",
                    }
                )
    else:
        points = _pmax_points(req, days, ignore_holes=state.holes_filled)
        if req.truncate and points:
            del points[-1:]
    if not points:
        return Reply(404, NO_DATA_FOUND)
    if req.flavour == "v5":
        return Reply(200, _v5_body(req, points))
    return Reply(200, _v2_body(req, points))


def _pmax_points(req: MeasureRequest, days: list[date], *, ignore_holes: bool = False) -> list[dict[str, str]]:
    peaks: list[tuple[date, int, datetime]] = []
    for d in days:
        peak = data.max_power(req.prm, d, ignore_holes=ignore_holes)
        if peak is not None:
            peaks.append((d, peak[0], peak[1]))
    if req.step == "P1M":
        monthly: dict[tuple[int, int], tuple[int, datetime]] = {}
        for d, va, at in peaks:
            key = (d.year, d.month)
            if key not in monthly or va > monthly[key][0]:
                monthly[key] = (va, at)
        return [{"v": str(va), "d": at.strftime("%Y-%m-%d %H:%M:%S")} for va, at in monthly.values()]
    return [{"v": str(va), "d": at.strftime("%Y-%m-%d %H:%M:%S")} for _, va, at in peaks]


def _v2_body(req: MeasureRequest, points: list[dict[str, str]]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idPrm": req.prm,
        "etapeMetier": "BRUT",
        "periode": {"dateDebut": req.start.isoformat(), "dateFin": req.end.isoformat()},
    }
    if req.kind == "daily":
        body |= {"typeValeur": "GLOBALE", "modeCalcul": "DIFF.INDEX", "pas": "P1D"}
        physique, unite = "EA", "Wh"
    elif req.kind == "curve":
        body["modeCalcul"] = "MESURE"
        physique, unite = "PA", "W"
    else:
        body |= {"modeCalcul": "MESURE", "pas": req.step}
        physique, unite = "PMA", "VA"
    body["grandeur"] = [
        {
            "grandeurMetier": req.direction,
            "grandeurPhysique": physique,
            "unite": unite,
            "points": points,
            "calendrier": [],
        }
    ]
    body["contexte"] = []
    return body


def _v5_body(req: MeasureRequest, points: list[dict[str, str]]) -> dict[str, Any]:
    if req.kind == "daily":
        reading_type = {
            "unit": "Wh",
            "measurement_kind": "energy",
            "aggregate": "sum",
            "measuring_period": "P1D",
        }
        readings: list[dict[str, str]] = [{"value": p["v"], "date": p["d"]} for p in points]
    elif req.kind == "curve":
        reading_type = {"unit": "W", "measurement_kind": "power", "aggregate": "average"}
        readings = [
            {
                "value": p["v"],
                "date": p["d"],
                "interval_length": p["p"],
                "measure_type": p["n"],
            }
            for p in points
        ]
    else:
        reading_type = {
            "unit": "VA",
            "measurement_kind": "power",
            "aggregate": "maximum",
            "measuring_period": "P1D",
        }
        readings = [{"value": p["v"], "date": p["d"]} for p in points]
    return {
        "meter_reading": {
            "usage_point_id": req.prm,
            "start": req.start.isoformat(),
            "end": req.end.isoformat(),
            "quality": "BRUT",
            "reading_type": reading_type,
            "interval_reading": readings,
        }
    }


def _build_index(state: FakeState, req: MeasureRequest) -> Reply:
    """Index body: one value per day at local midnight for each day in [start, end]."""
    info = data.PRMS[req.prm]
    if req.prm in state.no_index_prms:
        return Reply(404, NO_DATA_FOUND)
    days = [req.start + timedelta(days=i) for i in range((req.end - req.start).days + 1)]
    days = [d for d in days if d >= info.activation and state.is_published(d - timedelta(days=1))]
    if req.truncate and days:
        days = days[:-1]
    if not days:
        return Reply(404, NO_DATA_FOUND)
    regs = [(d, data.index_registers(req.prm, req.direction, d)) for d in days]

    def values(cls: str | None) -> list[dict[str, Any]]:
        return [
            {
                "d": f"{d.isoformat()} 00:00:00",
                "v": sum(r.values()) if cls is None else r[cls],
                "iv": 0,
            }
            for d, r in regs
        ]

    calendars: list[dict[str, Any]] = []
    if req.direction == CONS:
        calendars.append(
            {
                "idCalendrier": "FC000012",
                "libelleCalendrier": "Heures pleines / heures creuses",
                "classeTemporelle": [
                    {
                        "idClasseTemporelle": "HC",
                        "libelleClasseTemporelle": "Heures creuses",
                        "codeCadran": "IDX_EAS_F1",
                        "valeur": values("HC"),
                    },
                    {
                        "idClasseTemporelle": "HP",
                        "libelleClasseTemporelle": "Heures pleines",
                        "codeCadran": "IDX_EAS_F2",
                        "valeur": values("HP"),
                    },
                ],
            }
        )
    calendars.append(
        {
            "idCalendrier": "DI000001",
            "libelleCalendrier": "Sans différenciation temporelle",
            "classeTemporelle": [
                {
                    "idClasseTemporelle": "BASE",
                    "libelleClasseTemporelle": "Base",
                    "codeCadran": "IDX_EAS_D1",
                    "valeur": values(None),
                }
            ],
        }
    )
    body = {
        "idPrm": req.prm,
        "periode": {"dateDebut": req.start.isoformat(), "dateFin": req.end.isoformat()},
        "grandeur": [],
        "contexte": [
            {
                "etapeMetier": "BRUT",
                "contexteReleve": "COL",
                "typeReleve": "AQ",
                "grandeur": [
                    {
                        "grandeurMetier": req.direction,
                        "grandeurPhysique": "EA",
                        "unite": "Wh",
                        "points": [],
                        "calendrier": calendars,
                        "cadranTotalisateur": {
                            "codeCadran": "IDX_EAS_T",
                            "valeur": values(None),
                        },
                    }
                ],
            }
        ],
    }
    return Reply(200, body)


# ---------------------------------------------------------------------------------------------
# Contracts
# ---------------------------------------------------------------------------------------------


def _offset_stamp(day: date) -> str:
    """``2026-02-11T00:00:00+0100`` (contract APIs: offset without colon)."""
    return datetime.combine(day, datetime.min.time(), tzinfo=data.PARIS).strftime("%Y-%m-%dT%H:%M:%S%z")


def _v5_date(day: date) -> str:
    """``2015-06-01+02:00`` (v5 customers API)."""
    offset = datetime.combine(day, datetime.min.time(), tzinfo=data.PARIS).strftime("%z")
    return f"{day.isoformat()}{offset[:3]}:{offset[3:]}"


_CUSTOMER = {
    "customer": {
        "adress": {
            "line1": "M. CLIENT SANDBOX",
            "line4": "1 RUE DE LA PAIX",
            "line6": "75002 PARIS",
            "line7": "FRANCE",
        }
    }
}
_CONTACT = {"email": "client.sandbox@example.org", "phone": "0600000000"}
_PERSON = {"title": "M.", "lastname": "SANDBOX", "firstname": "CLIENT"}


def _contract(state: FakeState, prm: str) -> data.ContractInfo | None:
    """The contract of ``prm``, with the off-peak hours a test set (`FakeState.contract_offpeak`)."""
    contract = data.contract(prm)
    if contract is not None and prm in state.contract_offpeak:
        contract = replace(contract, offpeak_hours=state.contract_offpeak[prm])
    return contract


def contract_reply(state: FakeState, api: str, prm: str) -> Reply:
    """Body of the 2026 contract APIs (PRM in the path)."""
    if not PRM_RE.match(prm):
        return Reply(400, BAD_PRM)
    info = data.prm_info(prm)
    contract = _contract(state, prm)
    if info is None or contract is None:
        return Reply(400, NOT_OWNER)
    if state.consent_revoked(prm):
        return Reply(403, NO_CONSENT)
    if api == "situation_contrat_auto":
        items: list[dict[str, Any]] = []
        if info.consumption:
            items.append(
                {
                    "usage_point_id": prm,
                    "contract_start": _offset_stamp(info.activation),
                    "contract_type": "Contrat GRD-F",
                    "contractor": "FOURNISSEUR SANDBOX",
                    "distribution_tariff": contract.distribution_tariff_label,
                    "subscribed_power": {
                        "unit": "kVA",
                        "value": str(contract.subscribed_power_kva),
                    },
                    "segment": "C5",
                    "customer": _CUSTOMER,
                    "contact_data": _CONTACT,
                    "person": _PERSON,
                }
            )
        if info.production:
            items.append(
                {
                    "usage_point_id": prm,
                    "contract_start": _offset_stamp(info.activation),
                    "contract_type": "Contrat GRD-A",
                    "segment": "P4",
                    "customer": _CUSTOMER,
                    "contact_data": _CONTACT,
                    "person": _PERSON,
                }
            )
        return Reply(200, items)
    if api == "synth_contrat_auto":
        body: dict[str, Any] = {"segments": [{"segment": s} for s in ("C5", "P4") if _has_segment(info, s)]}
        if info.production:
            body["generation_last_activation_date"] = _offset_stamp(info.activation)
        if info.consumption:
            body["consumption_last_activation_date"] = _offset_stamp(info.activation)
            body["last_subscribed_power_change_date"] = _offset_stamp(info.activation)
        body["services_level"] = "Communicant (ouvert aux services)"
        return Reply(200, body)
    if api == "comptage_auto":
        return Reply(
            200,
            {
                "dispositifComptage": {"typeComptage": {"code": "LINKY", "libelle": "Compteur Linky"}},
                "compteurs": [],
                "relais": {"plageHeuresCreuses": contract.offpeak_hours},
            },
        )
    return Reply(
        200,
        {
            "address": {
                "number_street_name": "1 RUE DE LA PAIX",
                "postal_code_city": "75002 PARIS",
                "insee_code": "75102",
            }
        },
    )


def _has_segment(info: data.PrmInfo, segment: str) -> bool:
    return info.consumption if segment == "C5" else info.production


def v5_contracts_reply(state: FakeState, prm: str) -> Reply:
    """``customers_upc/v5/usage_points/contracts`` body."""
    if not PRM_RE.match(prm):
        return Reply(400, BAD_PRM)
    info = data.prm_info(prm)
    contract = _contract(state, prm)
    if info is None or contract is None:
        return Reply(400, NOT_OWNER)
    if state.consent_revoked(prm):
        return Reply(403, NO_CONSENT)
    return Reply(
        200,
        {
            "customer": {
                "customer_id": str(1000000000 + int(prm[-9:])),
                "usage_points": [
                    {
                        "usage_point": {
                            "usage_point_id": prm,
                            "usage_point_status": "com",
                            "meter_type": contract.meter_type,
                        },
                        "contracts": {
                            "segment": contract.segment,
                            "subscribed_power": f"{contract.subscribed_power_kva} kVA",
                            "last_activation_date": _v5_date(contract.last_activation_date),
                            "distribution_tariff": contract.distribution_tariff,
                            "offpeak_hours": contract.offpeak_hours,
                            "contract_status": "SERVC",
                            "last_distribution_tariff_change_date": _v5_date(contract.last_activation_date),
                        },
                    }
                ],
            }
        },
    )
