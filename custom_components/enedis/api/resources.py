"""Resource names per (direction, measure) of the APIs the sources request (Data Connect 2026 only: v5 is shut down)."""

from __future__ import annotations

from datetime import date

from .errors import UnsupportedError
from .models import Direction, Measure

C, P = Direction.CONSUMPTION, Direction.PRODUCTION

DC2026_RESOURCES: dict[tuple[Direction, Measure], str] = {
    (C, Measure.DAILY_ENERGY): "consommation_quotidienne",
    (C, Measure.LOAD_CURVE): "courbe_de_charge_consommation",
    (C, Measure.MAX_POWER): "puissance_conso_max_quotidienne",
    (C, Measure.INDEX): "index_consommation",
    (P, Measure.DAILY_ENERGY): "production_quotidienne",
    (P, Measure.LOAD_CURVE): "courbe_de_charge_production",
    (P, Measure.INDEX): "index_production",
}
"""``mesure_synchrone_auto/v2/<resource>``; also Conso API's French types."""

DC2026_MAX_POWER_PARAMS: dict[str, str] = {"mesuresPas": "P1D", "grandeurPhysique": "PMA"}
"""Required by ``puissance_conso_max_quotidienne`` (daily single-phase-equivalent maximum)."""


def dc2026_request(
    prm: str, direction: Direction, measure: Measure, start: date, end: date, *, source_name: str
) -> tuple[str, dict[str, str]]:
    """(resource, query) of a Data Connect 2026 measure request: the same for Enedis and Conso API's pass-through.

    Raises `UnsupportedError` (naming ``source_name``) for a measure the API does not have (e.g. production max power).
    """
    resource = DC2026_RESOURCES.get((direction, measure))
    if resource is None:
        raise UnsupportedError(f"{source_name} has no {direction} {measure}")
    params = {"pointId": prm, "dateDebut": start.isoformat(), "dateFin": end.isoformat()}
    if measure is Measure.MAX_POWER:
        params.update(DC2026_MAX_POWER_PARAMS)
    return resource, params
