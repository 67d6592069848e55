"""Base entity of the Enedis Linky integration: one device per PRM (delivery point)."""

from __future__ import annotations

from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import Contract
from .const import ACCESS_OK, DOMAIN
from .coordinator import EnedisCoordinator

MANUFACTURER = "Enedis"
DEFAULT_MODEL = "Linky"


def device_model(contract: Contract | None) -> str:
    """The device model: ``Linky``, or ``Linky (AMM)`` once the contract tells the meter type.

    Data Connect 2026 answers ``LINKY`` where the older contract API said ``AMM``: no ``Linky (LINKY)``.
    """
    meter_type = contract.meter_type if contract is not None else None
    if not meter_type or meter_type.casefold() == DEFAULT_MODEL.casefold():
        return DEFAULT_MODEL
    return f"{DEFAULT_MODEL} ({meter_type})"


def device_info(coordinator: EnedisCoordinator, prm: str) -> DeviceInfo:
    """The device of one PRM (the PRM is the meter's public identifier, printed on the bill)."""
    prm_data = coordinator.data.prms.get(prm) if coordinator.data else None
    return DeviceInfo(
        identifiers={(DOMAIN, prm)},
        manufacturer=MANUFACTURER,
        model=device_model(prm_data.contract if prm_data else coordinator.contracts.get(prm)),
        name=f"Linky {prm}",
        serial_number=prm,
    )


class EnedisEntity(CoordinatorEntity[EnedisCoordinator]):
    """An entity of one PRM, fed by the entry's coordinator."""

    _attr_has_entity_name = True
    _available_when_refused = False
    """True for the entities that stay meaningful when Enedis refuses the PRM's data (what says why, entry facts)."""

    def __init__(self, coordinator: EnedisCoordinator, prm: str, key: str) -> None:
        """Attach the entity to the device of ``prm``; its unique id is ``{prm}_{key}``."""
        super().__init__(coordinator)
        self.prm = prm
        self._attr_unique_id = f"{prm}_{key}"
        self._attr_device_info = device_info(coordinator, prm)

    @property
    def available(self) -> bool:
        """Available while the coordinator succeeds and publishes this PRM, and Enedis serves the PRM's data.

        A PRM whose consent is missing or revoked is no longer polled while the entry's other PRMs go on: its
        entities are unavailable, except its *Data access* sensor, which says why (`PrmData.access`).
        """
        data = self.coordinator.data
        if not (super().available and data is not None and self.prm in data.prms):
            return False
        return self._available_when_refused or data.prms[self.prm].access == ACCESS_OK

    @callback
    def _handle_coordinator_update(self) -> None:
        """Keep the device model in line with the contract (it arrives after setup), then write the state."""
        prm_data = self.coordinator.data.prms.get(self.prm) if self.coordinator.data else None
        device = self.device_entry
        if (
            prm_data is not None
            and isinstance(device, dr.DeviceEntry)
            and device.model != (model := device_model(prm_data.contract))
        ):
            dr.async_get(self.hass).async_update_device(device.id, model=model)
        super()._handle_coordinator_update()
