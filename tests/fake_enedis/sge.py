"""Enedis SGE routes of the fake gateway: the same ground truth as Data Connect, as SGE SOAP.

``POST /ConsultationMesuresDetaillees/v3.0`` and ``POST /ConsultationDonneesTechniquesContractuelles/v1.0``. The
request is read with the standard library (local names), its ``demande`` must follow the XSD's order, the
SOAPAction must be the service's. Measures are validated and computed by `measures` (Enedis' rules, the ground
truth of `data`) and written as SGE v3.0 XML; refusals become ``soap:Fault`` answers (HTTP 500) with an SGT
code. The codes SGT4G3/SGT400/SGT500 are real; SGT401-SGT404 are the project's assumption (see
``custom_components/enedis/api/sge_parsers.py``).

Transport: the tests serve this app over HTTPS requiring a client certificate (`tests.fake_enedis.tls`); the
TLS layer, not this code, refuses a wrong certificate. With ``SgeConfig.gateway_key`` set, a header carrying that
key is required instead (an API gateway in front of SGE).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from aiohttp import web

from . import data, measures
from .measures import Reply
from .server import STATE_KEY
from .state import FakeState

CMD_PATH = "/ConsultationMesuresDetaillees/v3.0"
CDTC_PATH = "/ConsultationDonneesTechniquesContractuelles/v1.0"
SOAP_ACTIONS = {
    CMD_PATH: '"http://www.enedis.fr/sge/b2b/services/consultationmesuresdetaillees/v3.0"',
    CDTC_PATH: '""',
}
CMD_ORDER = (
    "initiateurLogin",
    "pointId",
    "mesuresTypeCode",
    "grandeurPhysique",
    "dateDebut",
    "dateFin",
    "mesuresPas",
    "mesuresCorrigees",
    "sens",
    "cadreAcces",
)
KINDS: dict[tuple[str, str], measures.Kind] = {
    ("COURBE", "PA"): "curve",
    ("ENERGIE", "EA"): "daily",
    ("PMAX", "PMA"): "pmax",
    ("INDEX", "EA"): "index",
}
DIRECTIONS: dict[str, data.Direction] = {"SOUTIRAGE": data.CONS, "INJECTION": data.PROD}
DEMO_LOGIN = "sge-demo@fournisseur.example"


@dataclass
class SgeConfig:
    """Who the fake SGE accepts."""

    logins: set[str] = field(default_factory=lambda: {DEMO_LOGIN})
    """``initiateurLogin`` values of the supplier's contract (others: SGT402)."""
    out_of_perimeter: set[str] = field(default_factory=set)
    """Known PRMs outside the supplier's contract perimeter (SGT403)."""
    gateway_key: str | None = None
    """When set, every call needs ``gateway_header: gateway_key`` (an API gateway in front of SGE)."""
    gateway_header: str = "apikey"
    contract_refusals: dict[str, tuple[str, str]] = field(default_factory=dict)
    """PRM -> (SGT code, message) its contract call answers after the access checks (a refusal a test picks, e.g.
    the real SGT4B8 "several requests in progress on the point")."""


SGE_KEY: web.AppKey[SgeConfig] = web.AppKey("fake_sge_config", SgeConfig)


def fault(code: str, message: str, *, faultcode: str = "soap:Client") -> web.Response:
    """A SOAP fault as SGE sends it (HTTP 500, ``detail/erreur/resultat[@code]``)."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>'
        f"<faultcode>{faultcode}</faultcode><faultstring>{escape(message)}</faultstring>"
        '<detail><ns2:erreur xmlns:ns2="http://www.enedis.fr/sge/b2b/technique/v1.0">'
        f'<resultat code="{code}">{escape(message)}</resultat></ns2:erreur></detail>'
        "</soap:Fault></soap:Body></soap:Envelope>"
    )
    return web.Response(status=500, text=body, content_type="text/xml", charset="utf-8")


def _xml(tag: str, value: Any) -> str:
    """Data Connect 2026 JSON (the fake's own bodies) as SGE XML: lists repeat their element."""
    if isinstance(value, list):
        return "".join(_xml(tag, item) for item in value)
    if isinstance(value, dict):
        return f"<{tag}>" + "".join(_xml(k, v) for k, v in value.items()) + f"</{tag}>"
    return f"<{tag}>{escape(str(value))}</{tag}>"


_RENAMES = {"idPrm": "pointId", "etapeMetier": "mesuresCorrigees"}


def measures_xml(body: dict[str, Any]) -> str:
    """A ``consulterMesuresDetailleesResponseV3`` envelope from the fake's v2 JSON body (same vocabulary)."""
    parts: list[str] = []
    is_index = bool(body.get("contexte"))
    for key, value in body.items():
        if value in ([], None):
            continue
        if is_index and key == "etapeMetier":
            continue
        parts.append(_xml(_RENAMES.get(key, key), value))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<ns3:consulterMesuresDetailleesResponseV3 xmlns:ns3="http://www.enedis.fr/sge/b2b/services/'
        'consultationmesuresdetaillees/common">' + "".join(parts) + "</ns3:consulterMesuresDetailleesResponseV3>"
        "</soap:Body></soap:Envelope>"
    )


def contract_xml(prm: str) -> str:
    """A ``consulterDonneesTechniquesContractuellesResponse`` from the ground truth's contract data."""
    info = data.contract(prm)
    if info is None:  # pragma: no cover - callers checked the PRM
        raise KeyError(prm)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<ns7:consulterDonneesTechniquesContractuellesResponse xmlns:ns7="http://www.enedis.fr/sge/b2b/services/'
        'consulterdonneestechniquescontractuelles/v1.0">'
        f'<point id="{prm}"><donneesGenerales>'
        '<etatContractuel code="SERVC"><libelle>En service</libelle></etatContractuel>'
        f'<segment code="{info.segment}"><libelle>{info.segment}</libelle></segment>'
        "<niveauOuvertureServices>2</niveauOuvertureServices>"
        f"<dateDerniereModificationFormuleTarifaireAcheminement>{info.last_activation_date.isoformat()}"
        "</dateDerniereModificationFormuleTarifaireAcheminement>"
        "</donneesGenerales>"
        "<situationComptage><dispositifComptage>"
        f'<typeComptage code="{info.meter_type}"><libelle>Compteur Linky</libelle></typeComptage>'
        f"<relais><plageHeuresCreuses>{escape(info.offpeak_hours)}</plageHeuresCreuses></relais>"
        "</dispositifComptage></situationComptage>"
        "<situationContractuelle><structureTarifaire>"
        f'<formuleTarifaireAcheminement code="{info.distribution_tariff}">'
        f"<libelle>{escape(info.distribution_tariff_label)}</libelle></formuleTarifaireAcheminement>"
        f"<puissanceSouscriteMax><valeur>{info.subscribed_power_kva}</valeur><unite>kVA</unite>"
        "</puissanceSouscriteMax></structureTarifaire></situationContractuelle>"
        "</point></ns7:consulterDonneesTechniquesContractuellesResponse></soap:Body></soap:Envelope>"
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(root: ET.Element, name: str) -> ET.Element | None:
    return next((e for e in root.iter() if _local(e.tag) == name), None)


def _fields(node: ET.Element) -> list[tuple[str, str]]:
    return [(_local(child.tag), (child.text or "").strip()) for child in node]


def _state(request: web.Request) -> FakeState:
    return request.app[STATE_KEY]


def _refusal(reply: Reply) -> web.Response:
    """A Data Connect refusal of `measures.validate`/`build` as the SGE fault of the same meaning."""
    body = reply.body if isinstance(reply.body, dict) else {}
    error = body.get("error")
    description = str(body.get("error_description", "refused"))
    if reply.status == 404:
        return fault("SGT4G3", "Aucune mesure trouvée pour ce PRM")
    if error == "ADAM-ERR0069":
        return fault("SGT404", "Le sens de la mesure ne correspond pas pour le PRM demandé")
    if error in {"ADAM-DC-0008", "ADAM-DC-0007"}:
        return fault("SGT403", "Le point n'appartient pas au périmètre du contrat")
    if reply.status >= 500:
        return fault("SGT500", "Une erreur technique est survenue", faultcode="soap:Server")
    return fault("SGT400", f"Une erreur fonctionnelle est survenue. {description}")


def _check_access(request: web.Request, config: SgeConfig, login: str, prm: str) -> web.Response | None:
    if config.gateway_key is not None and request.headers.get(config.gateway_header) != config.gateway_key:
        return web.json_response(
            {"fault": {"code": 900901, "message": "Invalid Credentials", "description": "Invalid API key"}},
            status=401,
        )
    if login not in config.logins:
        return fault("SGT402", "Le login n'est pas habilité pour ce contrat")
    if not measures.PRM_RE.match(prm) or data.prm_info(prm) is None:
        return fault("SGT401", "Le point demandé est inexistant")
    if prm in config.out_of_perimeter:
        return fault("SGT403", "Le point n'appartient pas au périmètre du contrat")
    return None


async def _envelope(request: web.Request, path: str) -> ET.Element | web.Response:
    if request.headers.get("SOAPAction") != SOAP_ACTIONS[path]:
        return fault("SGT400", "SOAPAction inattendue")
    try:
        return ET.fromstring(await request.read())  # noqa: S314 - the test's own request
    except ET.ParseError:
        return fault("SGT400", "Requête mal formée")


def _technical_fault(state: FakeState, path: str) -> web.Response | None:
    for armed in state.take_faults(path):
        if armed.kind == "technical_error":
            return fault("SGT500", "Une erreur technique est survenue", faultcode="soap:Server")
        if armed.kind == "plain_500":
            return web.Response(status=503, text="Service Unavailable", content_type="text/plain")
    return None


async def cmd_handler(request: web.Request) -> web.Response:
    """``consulterMesuresDetailleesV3``."""
    state, config = _state(request), request.app[SGE_KEY]
    root = await _envelope(request, CMD_PATH)
    if isinstance(root, web.Response):
        return root
    demande = _find(root, "demande")
    if demande is None:
        return fault("SGT400", "Requête mal formée : demande absente")
    fields = _fields(demande)
    names = [name for name, _ in fields]
    if names != [n for n in CMD_ORDER if n in names] or len(set(names)) != len(names):
        return fault("SGT400", "Requête mal formée : ordre des éléments")
    values = dict(fields)
    refused = _check_access(request, config, values.get("initiateurLogin", ""), values.get("pointId", ""))
    if refused is not None:
        return refused
    kind = KINDS.get((values.get("mesuresTypeCode", ""), values.get("grandeurPhysique", "")))
    direction = DIRECTIONS.get(values.get("sens", ""))
    if kind is None or direction is None or values.get("cadreAcces") != "ACCORD_CLIENT":
        return fault("SGT400", "Une erreur fonctionnelle est survenue.")
    if (kind == "pmax") != ("mesuresPas" in values) or (kind == "pmax" and values["mesuresPas"] != "P1D"):
        return fault("SGT400", "Une erreur fonctionnelle est survenue. mesuresPas")
    if (technical := _technical_fault(state, CMD_PATH)) is not None:
        return technical
    req = measures.validate(
        state,
        kind=kind,
        direction=direction,
        prm=values["pointId"],
        start_s=values.get("dateDebut", ""),
        end_s=values.get("dateFin", ""),
        flavour="v2",
    )
    if isinstance(req, Reply):
        return _refusal(req)
    reply = measures.build(state, req)
    if reply.status != 200:
        return _refusal(reply)
    return web.Response(text=measures_xml(reply.body), content_type="text/xml", charset="utf-8")


async def cdtc_handler(request: web.Request) -> web.Response:
    """``consulterDonneesTechniquesContractuelles``."""
    state, config = _state(request), request.app[SGE_KEY]
    root = await _envelope(request, CDTC_PATH)
    if isinstance(root, web.Response):
        return root
    header_login = _find(root, "loginDemandeur")
    body = _find(root, "consulterDonneesTechniquesContractuelles")
    if body is None or header_login is None:
        return fault("SGT400", "Requête mal formée")
    values = dict(_fields(body))
    if values.get("loginUtilisateur") != (header_login.text or "").strip():
        return fault("SGT400", "Requête mal formée : logins différents")
    refused = _check_access(request, config, values.get("loginUtilisateur", ""), values.get("pointId", ""))
    if refused is not None:
        return refused
    if values.get("autorisationClient") != "true":
        return fault("SGT400", "Une erreur fonctionnelle est survenue. autorisationClient")
    if (technical := _technical_fault(state, CDTC_PATH)) is not None:
        return technical
    if (refusal := config.contract_refusals.get(values["pointId"])) is not None:
        return fault(*refusal)
    return web.Response(text=contract_xml(values["pointId"]), content_type="text/xml", charset="utf-8")


def install(app: web.Application, config: SgeConfig | None = None) -> None:
    """Add the SGE routes to the fake gateway's app."""
    app[SGE_KEY] = config if config is not None else SgeConfig()
    app.router.add_post(CMD_PATH, cmd_handler)
    app.router.add_post(CDTC_PATH, cdtc_handler)


def request_times(state: FakeState) -> list[float]:
    """Arrival times (the state's clock) of the SGE calls in the fake's log."""
    return [r.time for r in state.requests if r.path in {CMD_PATH, CDTC_PATH}]
