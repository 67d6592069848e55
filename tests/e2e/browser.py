"""Browser walk-through of the integration in a real Home Assistant (Playwright + Debian's Chromium).

Run by ``tests/e2e/browser`` (which starts the demo gateway and ``hass`` and installs Playwright in a host venv);
runs on the HOST's Python (3.11 is fine): it imports neither Home Assistant nor the project.

Steps (each one saves a screenshot into ``--out``):
 1. onboarding through the REST onboarding endpoints (owner, location, analytics, integrations), then the UI
    is opened with that session's tokens (as the login page would store them);
 2. Settings > Devices & services > Add integration "Enedis Linky": the menu, the Conso API form filled with the
    demo token and the demo gateway's base URL, the entry created;
 3. the Data Connect path: the Application Credentials form (opened by Home Assistant since none exist), the
    DataHub application form, then the consent step up to the Enedis link (not followed: no network here);
 4. the device page of the meter;
 5. the Energy dashboard configuration: "Add consumption" lists the Linky statistic; the preferences are then
    saved, and the Energy dashboard shows the imported week.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
import sys
import time
from typing import Any
import urllib.parse
import urllib.request

from playwright.sync_api import Error as PlaywrightError, Page, sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "demo-Owner-Passw0rd!"  # a throwaway owner of a throwaway instance
SHOTS: list[str] = []
FAILURES: list[str] = []


def post(url: str, payload: dict[str, Any], *, form: bool = False, token: str | None = None) -> Any:
    body = urllib.parse.urlencode(payload).encode() if form else json.dumps(payload).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded" if form else "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - 127.0.0.1
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def onboard(ha: str) -> dict[str, Any]:
    """Every onboarding step through REST; returns the token set the frontend stores after a login."""
    client_id = f"{ha}/"
    code = post(
        f"{ha}/api/onboarding/users",
        {"client_id": client_id, "name": "Demo Owner", "username": "demo", "password": PASSWORD, "language": "en"},
    )["auth_code"]
    tokens = post(
        f"{ha}/auth/token", {"client_id": client_id, "grant_type": "authorization_code", "code": code}, form=True
    )
    access = tokens["access_token"]
    post(f"{ha}/api/onboarding/core_config", {}, token=access)
    post(f"{ha}/api/onboarding/analytics", {}, token=access)
    post(
        f"{ha}/api/onboarding/integration",
        {"client_id": client_id, "redirect_uri": f"{ha}/?auth_callback=1"},
        token=access,
    )
    return {
        "access_token": access,
        "refresh_token": tokens["refresh_token"],
        "token_type": "Bearer",
        "expires_in": tokens["expires_in"],
        "expires": int(time.time() * 1000) + tokens["expires_in"] * 1000,
        "hassUrl": ha,
        "clientId": client_id,
    }


def shot(page: Page, out: Path, name: str, what: str) -> None:
    page.wait_for_timeout(800)  # let animations settle
    path = out / f"{name}.png"
    page.screenshot(path=str(path))
    SHOTS.append(f"{path.name}: {what}")
    print(f"[browser] {path}: {what}", flush=True)


def ws(page: Page, message: dict[str, Any]) -> Any:
    """A websocket command through the frontend's own connection."""
    return page.evaluate("(msg) => document.querySelector('home-assistant').hass.callWS(msg)", message)


def start_flow(page: Page, ha: str) -> None:
    """Open "Add integration: Enedis Linky" by its URL; answer Home Assistant's own confirmations on the way."""
    page.goto(f"{ha}/config/integrations/dashboard/add?domain=enedis")
    for _ in range(20):
        if page.get_by_text("How should Home Assistant get your Linky meter").count():
            return
        try:  # the topmost dialog first: "set up Enedis Linky?", then Home Assistant's HTTP settings (port 8125)
            if page.get_by_text("Do you want to set up Enedis Linky").count():
                page.get_by_role("button", name="OK").last.click(timeout=3000)
            elif page.get_by_text("Confirm new HTTP server configuration").count():
                page.get_by_role("button", name="Confirm").last.click(timeout=3000)
        except PlaywrightError:
            pass
        page.wait_for_timeout(500)


def data_connect(page: Page, args: argparse.Namespace) -> None:
    """The Data Connect path up to the link to the Enedis consent page (never followed)."""
    start_flow(page, args.ha)
    page.get_by_text("My own Enedis DataHub application").click()
    page.get_by_text("Client ID", exact=False).first.wait_for(timeout=10_000)
    inputs = page.locator("ha-dialog input:visible, ha-md-dialog input:visible, dialog input:visible")
    fields = inputs.all()
    # Name (optional), Client ID, Client secret: fill the last two (and the name when present).
    if len(fields) >= 3:
        fields[-3].fill("My DataHub application")
    fields[-2].fill("demo-client-id")
    fields[-1].fill("demo-client-secret")
    shot(page, args.out, "04-application-credentials", "Data Connect: the Application Credentials form")
    page.get_by_role("button", name="Add").last.click()
    # Home Assistant restarts the flow once the credentials exist: the menu comes back first.
    for _ in range(40):
        if page.get_by_text("Your Enedis DataHub application").count():
            break
        menu = page.get_by_text("My own Enedis DataHub application")
        if menu.count():
            with contextlib.suppress(PlaywrightError):
                menu.first.click(timeout=2000)
        page.wait_for_timeout(500)
    page.get_by_text("Your Enedis DataHub application").wait_for()
    shot(page, args.out, "05-data-connect-form", "Data Connect: environment, consent duration, redirect URL")
    dialog_button(page, "Submit")
    # The consent is an external step: Home Assistant shows our description and an "Open website" button.
    page.get_by_text("share your meter's data with your application", exact=False).wait_for()
    shot(page, args.out, "06-consent-step", "Data Connect: the consent step, with the link to the Enedis website")
    link = page.locator("a[href*='/oauth2/authorize']")
    href = link.first.get_attribute("href") if link.count() else None
    if href is None:  # the button may open the URL by script: read it from the flow itself
        flows = ws(page, {"type": "config_entries/flow/progress"})
        step = next((f for f in flows if f.get("handler") == "enedis" and f.get("step_id") == "consent"), None)
        assert step is not None, f"no Enedis flow waiting at the consent step: {flows}"
        href = "flow waiting at step 'consent'"
    else:
        assert "/dataconnect/v2/oauth2/authorize" in href, href
    print(f"[browser] consent link: {href}", flush=True)
    page.keyboard.press("Escape")


def dialog_button(page: Page, label: str) -> None:
    page.get_by_role("button", name=label, exact=False).last.click()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ha", required=True)
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--prm", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--work", type=Path, default=Path())
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tokens = onboard(args.ha)
    print("[browser] onboarding done through REST (owner, location, analytics, integrations)", flush=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
        context.add_init_script(f"localStorage.setItem('hassTokens', JSON.stringify({json.dumps(tokens)}));")
        page = context.new_page()
        page.set_default_timeout(30_000)
        # Home Assistant asks once to confirm the test instance's HTTP settings (port 8125, 127.0.0.1).
        page.goto(args.ha)
        confirm = page.get_by_text("Confirm new HTTP server configuration")
        try:
            confirm.wait_for(timeout=15_000)
            page.get_by_role("button", name="Confirm").last.click()
            page.wait_for_timeout(1000)
        except PlaywrightError:
            pass
        try:
            walk(page, args)
        except Exception:
            failure = args.work / "browser-failure.png"
            page.screenshot(path=str(failure))
            print(f"[browser] failed at {page.url}; the page as it was: {failure}", flush=True)
            raise
        finally:
            browser.close()
    print(f"[browser] {len(SHOTS)} screenshots in {args.out}")
    for failure in FAILURES:
        print(f"[browser] FAILED: {failure}")
    return 1 if FAILURES else 0


def walk(page: Page, args: argparse.Namespace) -> None:
    """The walk-through proper (steps 2 to 5)."""
    if True:
        # --- 2. Conso API path ------------------------------------------------------------------------------
        start_flow(page, args.ha)
        page.get_by_text("Conso API token (conso.boris.sh)").wait_for()
        shot(page, args.out, "01-add-integration-menu", "the config flow's first step: Conso API or Data Connect")
        page.get_by_text("Conso API token (conso.boris.sh)").click()
        page.locator("input[type=password]").first.fill(args.token)
        base = page.locator("input[type=url]").first
        base.fill(f"{args.gateway}/conso/api")
        shot(page, args.out, "02-conso-api-form", "the Conso API step: demo token and the demo gateway's base URL")
        dialog_button(page, "Submit")
        page.get_by_text("Linky", exact=False).first.wait_for()
        page.wait_for_timeout(1500)
        shot(page, args.out, "03-entry-created", "the entry is created: one device per meter (PRM)")
        for label in ("Finish", "Skip and finish", "Skip"):
            button = page.get_by_role("button", name=label)
            if button.count():
                button.last.click()
                break

        # --- 3. Data Connect path: Application Credentials, then consent up to the Enedis link ---------------
        try:
            data_connect(page, args)
        except Exception as err:  # recorded, the walk goes on: the other screenshots are still useful
            failure = args.work / "data-connect-failure.png"
            page.screenshot(path=str(failure))
            FAILURES.append(f"Data Connect path: {type(err).__name__}: {str(err).splitlines()[0]} (see {failure})")
            print(f"[browser] FAILED: {FAILURES[-1]}", flush=True)
            page.keyboard.press("Escape")

        # --- 4. the device page -------------------------------------------------------------------------------

        devices = ws(page, {"type": "config/device_registry/list"})
        device = next(d for d in devices if any(i[0] == "enedis" for i in d["identifiers"]))
        page.goto(f"{args.ha}/config/devices/device/{device['id']}")
        page.get_by_text(args.prm, exact=False).first.wait_for()
        page.wait_for_timeout(1500)
        shot(page, args.out, "07-device-page", "the meter's device page: sensors and diagnostics")

        # --- 5. Energy dashboard configuration ----------------------------------------------------------------
        stat_id = f"enedis:{args.prm}_consumption"
        page.goto(f"{args.ha}/config/energy")
        page.get_by_text("Electricity grid").first.wait_for()
        add = page.get_by_text("Add grid connection")  # 2026.10 label ("Add consumption" before)
        if not add.count():
            add = page.get_by_text("Add consumption")
        try:
            add.first.click(timeout=5000)
            page.wait_for_timeout(1500)
            picker = page.locator("ha-statistic-picker").first
            picker.click(timeout=5000)
            page.wait_for_timeout(1000)
            option = page.get_by_text(f"Linky {args.prm} consumption", exact=False)
            if option.count():
                option.first.click()
                page.wait_for_timeout(800)
            shot(page, args.out, "08-energy-add-grid", "Energy configuration: the Linky statistic as grid consumption")
            if page.get_by_role("button", name="Save").count():
                page.get_by_role("button", name="Save").last.click()
                page.wait_for_timeout(1500)
        except PlaywrightError as err:
            print(f"[browser] the grid dialog could not be driven ({str(err).splitlines()[0]})", flush=True)
            page.keyboard.press("Escape")
        prefs = ws(page, {"type": "energy/get_prefs"})
        if stat_id not in json.dumps(prefs):
            print("[browser] the dialog did not save: saving the grid source through energy/save_prefs", flush=True)
            source = {
                "type": "grid",
                "flow_from": [
                    {
                        "stat_energy_from": stat_id,
                        "stat_cost": None,
                        "entity_energy_price": None,
                        "number_energy_price": None,
                    }
                ],
                "flow_to": [],
                "cost_adjustment_day": 0,
            }
            try:
                ws(page, {"type": "energy/save_prefs", "energy_sources": [source], "device_consumption": []})
            except PlaywrightError as err:
                FAILURES.append(f"energy/save_prefs refused the grid source: {str(err).splitlines()[0]}")
            page.reload()
        page.wait_for_timeout(1500)
        shot(page, args.out, "09-energy-config", "Energy configuration with the Linky consumption statistic")
        page.goto(f"{args.ha}/energy")
        page.wait_for_timeout(3000)
        # Today has no data yet (Enedis publishes day D on D+1): step back to yesterday.
        moved = False
        for label in ("Previous", "Previous period", "Previous day"):
            previous = page.get_by_role("button", name=label)
            if previous.count():
                previous.first.click()
                moved = True
                break
        if not moved:
            page.locator("ha-icon-button-prev, [aria-label*='revious']").first.click(timeout=5000)
        page.wait_for_timeout(3000)
        shot(page, args.out, "10-energy-dashboard", "the Energy dashboard showing yesterday, hour by hour")


if __name__ == "__main__":
    sys.exit(main())
