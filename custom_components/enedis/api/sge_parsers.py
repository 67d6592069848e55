"""Pure parsers of Enedis SGE SOAP answers: hardened XML, elements matched by local name.

Nothing here sends anything. The XML is read with the standard library's expat parser, with any document type
declaration refused (so no entity can be declared, expanded or fetched) and a size limit; the tree keeps local
names only, so a change of namespace prefix (``ns3:``, ``soap:``, none) changes nothing.

Measures: a ``consulterMesuresDetailleesResponseV3`` (v3.0) or ``consulterMesuresDetailleesResponse`` (v2.0) has
the vocabulary of Data Connect 2026's measures (``grandeur``/``points``/``v``/``d``/``p``; v2 says ``mesure``
for ``points``), so it is converted to that shape and read by `parsers.parse_measure` / `parsers.parse_index`:
one set of time rules for every source. v3 stamps are Paris wall clock without offset, v2 stamps ISO with
offset; curve stamps mark the END of each interval and the step is each point's ``p`` (it may change within a
day); a PMAX ``d`` is the instant of the day's peak; a nil or empty ``v`` is a hole, never 0.

Contract: ``consulterDonneesTechniquesContractuellesResponse`` (v1.0) -> `Contract`. Its element names are the
v1.0 XSD's (``point/donneesGenerales``, ``situationComptage/dispositifComptage``,
``situationContractuelle/structureTarifaire``); no real captured answer was available, so fields absent from
an answer are ``None``, never guessed.

Faults: ``Fault/faultcode``, ``faultstring`` and ``detail/erreur/resultat[@code]`` (the SGT code) -> the typed
error of `errors` (see `SGT_ERRORS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
import re
from typing import Final
from xml.parsers import expat

from .errors import (
    AuthError,
    EnedisError,
    InvalidResponseError,
    NoDataError,
    NotHolderError,
    RequestError,
    ServerError,
    WrongDirectionError,
)
from .models import Contract, Direction, IndexSeries, Measure, Series
from .parsers import DESCRIPTION_MAX_LEN, parse_index, parse_local_datetime, parse_measure

__all__ = [
    "SGT_ERRORS",
    "LoginRefusedError",
    "OutOfPerimeterError",
    "UnknownPrmError",
    "XmlNode",
    "parse_sge_contract",
    "parse_sge_fault",
    "parse_sge_index",
    "parse_sge_measure",
    "parse_xml",
]

MAX_BODY_BYTES: Final = 32 * 1024 * 1024
"""Larger answers are refused (a 7-day curve at 5 min is about 150 kB; a 365-day daily answer 40 kB)."""
_XSI_NIL: Final = "http://www.w3.org/2001/XMLSchema-instance nil"


class UnknownPrmError(RequestError):
    """SGE does not know this PRM (``pointId``)."""


class LoginRefusedError(AuthError):
    """SGE refused the ``initiateurLogin`` (not a login of the supplier's contract)."""


class OutOfPerimeterError(NotHolderError):
    """The PRM exists but lies outside the perimeter of the supplier's SGE contract: only this PRM is refused."""


SGT_ERRORS: Mapping[str, type[EnedisError]] = {
    # Seen in real SGE answers (lowatt-enedis doc/homologation.md, SGE homologation v23.2):
    "SGT4G3": NoDataError,  # "Aucune mesure trouvée pour ce PRM"
    "SGT400": RequestError,  # "Une erreur fonctionnelle est survenue."
    "SGT4B8": RequestError,  # "Il existe déjà plusieurs demandes en cours sur le point."
    "SGT500": ServerError,  # "Une erreur technique est survenue"
    # ASSUMED: the catalogue (Enedis.SGE.AX.0466 "Annexe Codes retour") was not readable here; these codes are the
    # project's fake gateway's, chosen for the cases the integration must tell apart.
    "SGT401": UnknownPrmError,
    "SGT402": LoginRefusedError,
    "SGT403": OutOfPerimeterError,
    "SGT404": WrongDirectionError,
}
"""SGT result codes -> typed errors. An unknown code falls back on the SOAP ``faultcode`` (Client: the request,
Server: SGE)."""


# --------------------------------------------------------------------------------------------- XML


@dataclass(slots=True)
class XmlNode:
    """An element by local name: attributes (local names), children, text, and whether ``xsi:nil`` is true."""

    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[XmlNode] = field(default_factory=list)
    text: str = ""
    nil: bool = False

    def child(self, name: str) -> XmlNode | None:
        """The first child called ``name``."""
        return next((c for c in self.children if c.name == name), None)

    def find(self, name: str) -> XmlNode | None:
        """The first descendant called ``name`` (depth first, document order)."""
        for node in self.children:
            if node.name == name:
                return node
            found = node.find(name)
            if found is not None:
                return found
        return None

    def path(self, *names: str) -> XmlNode | None:
        """The node reached by following the first child of each name."""
        node: XmlNode | None = self
        for name in names:
            node = node.child(name) if node is not None else None
        return node

    def value(self) -> str | None:
        """The stripped text, or None when nil or empty."""
        text = self.text.strip()
        return None if self.nil or not text else text


def _local(name: str) -> str:
    return name.rsplit(" ", 1)[-1]


def _refuse(*_args: object) -> int:
    msg = "document type declarations and entities are refused"
    raise _XmlRefusedError(msg)


class _XmlRefusedError(Exception):
    pass


def parse_xml(raw: bytes | str) -> XmlNode:
    """Parse an XML document into `XmlNode`s; `InvalidResponseError` if malformed, too large or declaring a DTD.

    No DTD (so no entity, internal or external), no processing of external references: a hostile answer cannot
    expand or fetch anything.
    """
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if len(data) > MAX_BODY_BYTES:
        msg = f"XML answer of {len(data)} bytes refused (limit {MAX_BODY_BYTES})"
        raise InvalidResponseError(msg)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    root = XmlNode("#document")
    stack = [root]
    texts: list[list[str]] = [[]]

    def start(name: str, attrs: dict[str, str]) -> None:
        node = XmlNode(
            _local(name),
            {_local(k): v for k, v in attrs.items()},
            nil=attrs.get(_XSI_NIL, "").strip().lower() in {"true", "1"},
        )
        stack[-1].children.append(node)
        stack.append(node)
        texts.append([])

    def end(_name: str) -> None:
        node = stack.pop()
        node.text = "".join(texts.pop())

    def chars(text: str) -> None:
        texts[-1].append(text)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)  # noqa: FBT003 - expat's isfinal
    except _XmlRefusedError as err:
        raise InvalidResponseError(f"XML answer refused: {err}") from None
    except expat.ExpatError as err:
        raise InvalidResponseError(f"malformed XML answer: {expat.ErrorString(err.code)}") from None
    if len(root.children) != 1:
        raise InvalidResponseError("the XML answer has no root element")
    return root.children[0]


def looks_like_xml(text: str) -> bool:
    """Whether a body is XML (an SGE answer or fault) rather than JSON, HTML or plain text."""
    head = text.lstrip()[:200].lower()
    return head.startswith("<?xml") or (head.startswith("<") and "envelope" in head)


# --------------------------------------------------------------------------------------------- faults


_SPACES_RE = re.compile(r"\s+")


def _clean(text: str | None) -> str:
    text = _SPACES_RE.sub(" ", text or "").strip()
    return text if len(text) <= DESCRIPTION_MAX_LEN else text[: DESCRIPTION_MAX_LEN - 1] + "…"


def parse_sge_fault(root: XmlNode, *, status: int | None = None) -> EnedisError | None:
    """The typed error of a ``soap:Fault`` (None when the envelope holds none).

    ``detail/erreur/resultat[@code]`` gives the SGT code and its text; without it ``faultcode``/``faultstring``
    (e.g. ``soap:Server`` "Erreur Technique MFI") decide.
    """
    fault = root.find("Fault")
    if fault is None:
        # A 200 answer may still say "refused" in its header's acknowledgement (anything but SGT200).
        ack = root.path("Header", "acquittement", "resultat")
        ack_code = (ack.attrs.get("code") or "").strip() if ack is not None else ""
        if ack is None or not ack_code or ack_code == "SGT200":
            return None
        ack_cls = SGT_ERRORS.get(ack_code, RequestError)
        return ack_cls(_clean(ack.value()) or "SGE refused the request", code=ack_code, status=status)
    result = fault.path("detail", "erreur", "resultat") or fault.find("resultat")
    code = (result.attrs.get("code") or "").strip() if result is not None else ""
    faultcode = _text_of(fault.child("faultcode")) or ""
    description = _clean((result.value() if result is not None else None) or _text_of(fault.child("faultstring")))
    cls = SGT_ERRORS.get(code)
    if cls is None:
        cls = RequestError if _local(faultcode.replace(":", " ")).lower() == "client" else ServerError
    return cls(description or "SGE fault without description", code=code or faultcode or None, status=status)


# --------------------------------------------------------------------------------------------- measures

_LISTS: Final = frozenset({"grandeur", "points", "mesure", "contexte", "calendrier", "classeTemporelle", "valeur"})
_RENAMES: Final = {"pointId": "idPrm", "mesure": "points", "mesuresCorrigees": "etapeMetier"}
_PHYSICAL: Final = {Measure.DAILY_ENERGY: "EA", Measure.LOAD_CURVE: "PA", Measure.MAX_POWER: "PMA", Measure.INDEX: "EA"}
_RESPONSES: Final = ("consulterMesuresDetailleesResponseV3", "consulterMesuresDetailleesResponse")


def _to_mapping(node: XmlNode) -> dict[str, object]:
    """An element as Data Connect 2026's JSON: repeated elements (`_LISTS`) as lists, leaves as text or None."""
    out: dict[str, object] = {}
    for child in node.children:
        name = _RENAMES.get(child.name, child.name)
        value: object = _to_mapping(child) if child.children else child.value()
        if child.name in _LISTS:
            items = out.setdefault(name, [])
            if isinstance(items, list):
                items.append(value)
        else:
            out[name] = value
    return out


def _measure_body(root: XmlNode, measure: Measure) -> dict[str, object]:
    fault = parse_sge_fault(root)
    if fault is not None:
        raise fault
    response = next((n for name in _RESPONSES if (n := root.find(name)) is not None), None)
    if response is None:
        raise InvalidResponseError("not a consulterMesuresDetaillees answer")
    body = _to_mapping(response)
    grandeurs = body.get("grandeur")
    for grandeur in grandeurs if isinstance(grandeurs, list) else []:
        physical = grandeur.get("grandeurPhysique") if isinstance(grandeur, dict) else None
        if physical is not None and physical != _PHYSICAL[measure]:
            msg = f"grandeurPhysique {str(physical)[:10]!r} answers another measure than {measure}"
            raise InvalidResponseError(msg)
    return body


def parse_sge_measure(raw: bytes | str | XmlNode, *, measure: Measure, direction: Direction, prm: str) -> Series:
    """A ``consulterMesuresDetaillees`` answer (v3.0 or v2.0) -> `Series` (a fault raises its typed error)."""
    root = raw if isinstance(raw, XmlNode) else parse_xml(raw)
    return parse_measure(_measure_body(root, measure), measure=measure, direction=direction, prm=prm)


def parse_sge_index(raw: bytes | str | XmlNode, *, direction: Direction, prm: str) -> IndexSeries:
    """A v3.0 ``INDEX`` answer (``contexte/grandeur/calendrier/classeTemporelle/valeur``) -> `IndexSeries`."""
    root = raw if isinstance(raw, XmlNode) else parse_xml(raw)
    return parse_index(_measure_body(root, Measure.INDEX), direction=direction, prm=prm)


# --------------------------------------------------------------------------------------------- contract


def _code_or_text(node: XmlNode | None) -> str | None:
    if node is None:
        return None
    return (node.attrs.get("code") or "").strip() or node.value() or _text_of(node.child("libelle"))


def _text_of(node: XmlNode | None) -> str | None:
    return node.value() if node is not None else None


def _kva(node: XmlNode | None) -> float | None:
    if node is None:
        return None
    raw, unit = _text_of(node.child("valeur")), (_text_of(node.child("unite")) or "kVA").lower()
    if raw is None:
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise InvalidResponseError(f"power {raw[:20]!r} is not a number") from None
    if unit not in {"kva", "va"}:
        raise InvalidResponseError(f"power unit {unit[:10]!r} is not kVA")
    return value / 1000 if unit == "va" else value


def _day(node: XmlNode | None) -> date | None:
    text = _text_of(node)
    if text is None:
        return None
    return parse_local_datetime(text).date() if len(text) > 10 else date.fromisoformat(text[:10])


def _latest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return max(known) if known else None


def parse_sge_contract(raw: bytes | str | XmlNode, *, prm: str) -> Contract:
    """A ``consulterDonneesTechniquesContractuelles`` v1.0 answer -> `Contract` (a fault raises its typed error).

    Reads the segment and contractual state (``donneesGenerales``), the subscribed power
    (``structureTarifaire/puissanceSouscriteMax``), the routing tariff (``formuleTarifaireAcheminement``), the
    meter (``dispositifComptage/typeComptage``), the off-peak hours (``relais/plageHeuresCreuses``, else a
    meter's ``plagesHeuresCreuses``) and the dates of the last tariff and power changes. ``has_consumption`` is
    False for a producer's segment (``P…``); ``has_production`` is always True: the answer does not tell whether a
    consumer injects, so the engine asks and learns it from the refusal.
    """
    root = raw if isinstance(raw, XmlNode) else parse_xml(raw)
    fault = parse_sge_fault(root)
    if fault is not None:
        raise fault
    point = root.find("point")
    if point is None:
        raise InvalidResponseError("not a consulterDonneesTechniquesContractuelles answer (no point)")
    point_id = (point.attrs.get("id") or "").strip() or _text_of(point.child("id"))
    if point_id is not None and point_id != prm.strip():
        raise InvalidResponseError("the contract answer is for another PRM than the one requested")
    general = point.child("donneesGenerales") or XmlNode("donneesGenerales")
    device = point.path("situationComptage", "dispositifComptage")
    tariff = point.path("situationContractuelle", "structureTarifaire")
    meter = device.path("compteurs", "compteur") if device is not None else None
    offpeak = _text_of(device.path("relais", "plageHeuresCreuses")) if device is not None else None
    segment = _code_or_text(general.child("segment"))
    try:
        return Contract(
            prm=prm.strip(),
            segment=segment,
            # A producer's segment is P1-P4 (as for Data Connect). Whether a consumer also injects is not known from
            # this answer: production is left to the engine's probe (a refused direction is then marked absent).
            has_consumption=not (segment or "").upper().startswith("P"),
            has_production=True,
            subscribed_power_kva=_kva(tariff.child("puissanceSouscriteMax")) if tariff is not None else None,
            offpeak_hours=offpeak or (_text_of(meter.child("plagesHeuresCreuses")) if meter is not None else None),
            distribution_tariff=(
                _code_or_text(tariff.child("formuleTarifaireAcheminement")) if tariff is not None else None
            ),
            meter_type=_code_or_text(device.child("typeComptage")) if device is not None else None,
            contract_status=_code_or_text(general.child("etatContractuel")),
            last_tariff_change_date=_day(general.child("dateDerniereModificationFormuleTarifaireAcheminement")),
            last_power_change_date=_latest(
                _day(general.child("dateDerniereAugmentationPuissanceSouscrite")),
                _day(general.child("dateDerniereDiminutionPuissanceSouscrite")),
            ),
            services_level=_text_of(general.child("niveauOuvertureServices")),
        )
    except ValueError as err:
        raise InvalidResponseError(f"contract answer: {err}") from None
