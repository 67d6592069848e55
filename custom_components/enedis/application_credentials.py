"""Application Credentials for Enedis Data Connect: the user's own DataHub ``client_id``/``client_secret``.

The config flow does not use Home Assistant's stock OAuth2 flow (Enedis answers the consent with
``autorisation_id`` and no ``code``, and limits ``state`` to 100 characters): it only reads the client id and
secret of the credentials stored here, sends the holder to the consent page itself and receives the answer at
its own redirect URL (`views.py`). The authorization server below is what Home Assistant shows and stores.
"""

from __future__ import annotations

from typing import Final

from homeassistant.components.application_credentials import AuthorizationServer
from homeassistant.core import HomeAssistant

from .views import consent_redirect_url

AUTHORIZE_URL: Final = "https://mon-compte-particulier.enedis.fr/dataconnect/v2/oauth2/authorize"
TOKEN_URL: Final = "https://gw.ext.prod.api.enedis.fr/oauth2/v3/token"  # noqa: S105
DATAHUB_URL: Final = "https://datahub-enedis.fr"


async def async_get_authorization_server(hass: HomeAssistant) -> AuthorizationServer:
    """The Enedis consent page (v2) and token endpoint."""
    return AuthorizationServer(authorize_url=AUTHORIZE_URL, token_url=TOKEN_URL)


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Placeholders of the credentials dialog: the exact redirect URL to register on DataHub."""
    return {"redirect_url": consent_redirect_url(hass), "datahub_url": DATAHUB_URL}
