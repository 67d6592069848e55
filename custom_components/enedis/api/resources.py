"""Resource names of every API generation, per (direction, measure)."""

from __future__ import annotations

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

V5_PATHS: dict[tuple[Direction, Measure], str] = {
    (C, Measure.DAILY_ENERGY): "metering_data_dc/v5/daily_consumption",
    (C, Measure.LOAD_CURVE): "metering_data_clc/v5/consumption_load_curve",
    (C, Measure.MAX_POWER): "metering_data_dcmp/v5/daily_consumption_max_power",
    (P, Measure.DAILY_ENERGY): "metering_data_dp/v5/daily_production",
    (P, Measure.LOAD_CURVE): "metering_data_plc/v5/production_load_curve",
}
"""Legacy Data Connect v5 paths (being shut down after 2026-09-28)."""

CONSO_API_LEGACY_TYPES: dict[tuple[Direction, Measure], str] = {
    (C, Measure.DAILY_ENERGY): "daily_consumption",
    (C, Measure.LOAD_CURVE): "consumption_load_curve",
    (C, Measure.MAX_POWER): "consumption_max_power",
    (P, Measure.DAILY_ENERGY): "daily_production",
    (P, Measure.LOAD_CURVE): "production_load_curve",
}
"""Conso API's English types, answered from v5 (``meter_reading`` unwrapped)."""
