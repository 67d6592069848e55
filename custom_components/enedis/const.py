"""Constants of the Enedis Linky integration."""

from typing import Final

DOMAIN: Final = "enedis"
