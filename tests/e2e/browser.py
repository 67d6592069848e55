"""Browser walk-through of the integration in a real Home Assistant (Playwright + Debian's Chromium).

Run by ``tests/e2e/browser`` (which starts the end-to-end gateway, ``tests.e2e.gateway``, and ``hass`` with
``ENEDIS_DEMO_GATEWAY`` naming that gateway, as ``scripts/develop`` does, and installs Playwright in a host venv);
runs on the HOST's Python (3.11 is fine): it imports neither Home Assistant nor the project. The browser runs in
Europe/Paris, Home Assistant's time zone here, as a French user's would: the Energy dashboard's periods are then
Paris days and years, like the gateway's days.

Steps (each screenshot goes into ``--out``):
 1. onboarding through the REST onboarding endpoints (owner, location, analytics, integrations), then the UI
    is opened with that session's tokens (as the login page would store them);
 2. Conso API: Settings > Devices & services > Add integration "Enedis Linky": the menu (01), the Conso API form
    filled with the demo token and the gateway's base URL (02), the entry created (03);
 3. Data Connect, the user's own DataHub application: the Application Credentials form that Home Assistant opens
    since none exist, filled with the demo gateway's application (04); the *production* environment up to the
    consent step and its link to the Enedis website (05; not followed: no network here); then a second flow on the
    environment "Demo gateway (scripts/develop)" (06), whose PRM picker (07: the Conso API entry's PRM is not
    offered, and is named) creates an entry for one meter of sandbox client 7 (``--dc-prm``), the PRM of issue 10's
    report. Its options keep their defaults (24 months of load curve, 36 of daily energy): through Data Connect the
    whole history of one meter imports in about a minute, and options changed after the entry is created would
    come too late anyway (the import starts 2 s after setup and fetches the 36 months of daily energy first, in
    seconds; a shorter horizon set afterwards does not remove what was imported);
 4. the device pages: the Conso API meter (08), then the Data Connect meter once its *History import* sensor
    reads 100 % (12: contract sensors included);
 5. Energy configuration: both meters' consumption statistics as grid connections, through the "Add grid
    connection" dialog (09: the dialog with the Linky statistic picked; 10: both connections), then the Energy
    dashboard on yesterday, hour by hour (11);
 6. the year that contains the oldest imported row, as a user gets there (date picker > "This year", then the
    previous-period arrow): the gateway's ground truth (``GET /_e2e/truth``: the energy of the days it served for
    that PRM, from ``tests/fake_enedis/data.py``) gives the oldest served day, hence the year, and its energy in Wh;
    the walk-through checks that the recorder's oldest row is that day's midnight, that
    ``recorder/statistic_during_period`` over the year equals the truth within 0.5 Wh per day, and that the
    meter's row of the dashboard's *Totals* card, which shows kWh rounded to 2 decimals (the frontend's
    ``formatNumber`` default), is positive and equals the truth within that rounding (13). Any difference makes
    the walk-through FAIL (exit 1), after the screenshot;
 7. the bill: the Data Connect entry's options (Settings > the entry > Configure > "Tariff and prices"), "Prices" =
    "Regulated tariff (Tarif Bleu)", the tariff option left Base and the subscribed power left to the contract's
    (14: the filled form); once the entry has reloaded, the REST API's ``/api/states`` is polled until its *Bill
    last month* sensor has a value, then the device page with the bill sensors (15). *Bill last month* must be
    positive and equal, to the cent, ``recorder/statistic_during_period`` of ``enedis:{prm}_bill`` over the last
    Paris month (the statistic the Energy dashboard's cost uses); otherwise the walk-through FAILS;
 8. the comparator: Developer tools > Actions in YAML mode, ``action: enedis.compare_tariffs`` with the Data Connect
    PRM, performed; its response (16). The same action through the websocket (``call_service`` with
    ``return_response``) must answer a ``cheapest`` option among options that have a total, with no Tempo day left
    without a colour (after the shipped calendar, colours come from the gateway's copy of RTE's endpoint,
    ``ENEDIS_DEMO_RTE_URL``); the page's response and the *Cheapest tariff option* sensor (when it has a value)
    must name the same cheapest option; otherwise the walk-through FAILS.
"""

from __future__ import annotations

import argparse
import contextlib
from datetime import UTC, date, datetime, timedelta
import json
from pathlib import Path
import re
import sys
import time
from typing import Any
import urllib.parse
import urllib.request
from zoneinfo import ZoneInfo

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
DEMO_APPLICATION = ("demo-client-id", "demo-client-secret")
"""The demo gateway's DataHub application (``FakeState.credentials``; ``scripts/develop`` prints it)."""
DEMO_ENVIRONMENT = "Demo gateway (scripts/develop)"
PARIS = ZoneInfo("Europe/Paris")
IMPORT_TIMEOUT = 300.0
"""Seconds allowed for the Data Connect meter's whole history (about 60 s on a 2-core machine)."""
STATISTICS_TIMEOUT = 120.0
"""Seconds allowed, once the import reads 100 %, for the recorder to hold the year's total."""
PAGE_DECIMALS = 2
"""The Totals card shows kWh through the frontend's ``formatNumber``, whose default is at most 2 decimals."""
BILL_TIMEOUT = 180.0
"""Seconds allowed, once the tariff options are saved, for the entry to reload and price the bill."""
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


def get_json(url: str, *, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - 127.0.0.1
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


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


def fail(message: str) -> None:
    FAILURES.append(message)
    print(f"[browser] FAILED: {message}", flush=True)


def ws(page: Page, message: dict[str, Any]) -> Any:
    """A websocket command through the frontend's own connection; an error answer raises RuntimeError."""
    page.wait_for_function("() => document.querySelector('home-assistant')?.hass?.connection")
    answer = page.evaluate(
        "(msg) => document.querySelector('home-assistant').hass.callWS(msg).then(r => ({ok: r}), e => ({err: e}))",
        message,
    )
    if "err" in answer:
        msg = f"{message['type']}: {answer['err']}"
        raise RuntimeError(msg)
    return answer["ok"]


def state_of(page: Page, entity_id: str) -> str | None:
    page.wait_for_function("() => document.querySelector('home-assistant')?.hass?.states")
    return page.evaluate("(id) => document.querySelector('home-assistant').hass.states[id]?.state ?? null", entity_id)


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


def dialog_button(page: Page, label: str) -> None:
    page.get_by_role("button", name=label, exact=False).last.click()


def finish_dialog(page: Page) -> None:
    """Close the "device created" dialog that ends a config flow."""
    for label in ("Finish", "Skip and finish", "Skip"):
        button = page.get_by_role("button", name=label)
        if button.count():
            button.last.click()
            return


def open_data_connect_form(page: Page, ha: str) -> None:
    """Add integration > "My own Enedis DataHub application", up to the environment form."""
    start_flow(page, ha)
    page.get_by_text("My own Enedis DataHub application").click()
    page.get_by_text("Your Enedis DataHub application").wait_for()


def production_consent(page: Page, args: argparse.Namespace) -> None:
    """Application Credentials (none exist yet), then production up to the link to the Enedis consent page."""
    start_flow(page, args.ha)
    page.get_by_text("My own Enedis DataHub application").click()
    page.get_by_text("Client ID", exact=False).first.wait_for(timeout=10_000)
    fields = page.locator("ha-dialog input:visible, ha-md-dialog input:visible, dialog input:visible").all()
    # Name (required), Client ID, Client secret.
    if len(fields) >= 3:
        fields[-3].fill("Demo DataHub application")
    fields[-2].fill(DEMO_APPLICATION[0])
    fields[-1].fill(DEMO_APPLICATION[1])
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
    dialog_button(page, "Submit")  # Production, the default environment
    # The consent is an external step: Home Assistant shows our description and an "Open website" button.
    page.get_by_text("share your meter's data with your application", exact=False).wait_for()
    shot(page, args.out, "05-consent-step", "Data Connect, production: the consent step, linking to Enedis")
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


def demo_data_connect(page: Page, args: argparse.Namespace) -> None:
    """The environment "Demo gateway": no consent page, the PRM picker; one meter of client 7."""
    open_data_connect_form(page, args.ha)
    environment = page.locator("ha-select").filter(has_text="Environment").first
    environment.click()
    page.get_by_role("menuitem", name=DEMO_ENVIRONMENT).click()
    page.wait_for_function("(e) => e.value === 'demo'", arg=environment.element_handle())
    try:  # the menu closes by itself; click the dialog's title if it does not
        page.get_by_role("menuitem", name="Production").wait_for(state="hidden", timeout=3000)
    except PlaywrightError:
        page.get_by_text("Your Enedis DataHub application").click()
    shot(page, args.out, "06-data-connect-form", "Data Connect: the environment 'Demo gateway (scripts/develop)'")
    dialog_button(page, "Submit")
    page.get_by_text("Choose the delivery points", exact=False).wait_for()
    boxes = page.locator("input[type=checkbox]")
    offered = [boxes.nth(i).get_attribute("value") for i in range(boxes.count())]
    if args.prm in offered:
        fail(f"the PRM picker offers {args.prm}, already imported by the Conso API entry")
    if not page.get_by_text(f"so not offered: {args.prm}", exact=False).count():
        fail(f"the PRM picker does not name {args.prm} as configured in another entry")
    assert args.dc_prm in offered, f"{args.dc_prm} not offered: {offered}"
    for prm in offered:
        if prm != args.dc_prm and page.locator(f"input[type=checkbox][value='{prm}']").is_checked():
            page.get_by_text(f"{prm} (client", exact=False).click()
    checked = [prm for prm in offered if page.locator(f"input[type=checkbox][value='{prm}']").is_checked()]
    assert checked == [args.dc_prm], f"PRMs still checked: {checked}"
    page.get_by_text("Choose the delivery points", exact=False).click()  # focus and hover away from the boxes
    page.wait_for_timeout(700)
    shot(page, args.out, "07-data-connect-prms", f"Data Connect, demo gateway: the PRM picker, {args.dc_prm} chosen")
    dialog_button(page, "Submit")
    # The entry is created: Home Assistant's "Name and assign" dialog names the new device.
    page.get_by_role("button", name=re.compile(r"^(Finish|Skip and finish)$")).last.wait_for()
    entries = ws(page, {"type": "config_entries/get", "domain": "enedis"})
    assert any(e["title"] == f"Linky {args.dc_prm}" for e in entries), f"no entry for {args.dc_prm}: {entries}"
    page.wait_for_timeout(500)
    finish_dialog(page)


def device_page(
    page: Page, args: argparse.Namespace, prm: str, name: str, what: str, *, focus: str | None = None
) -> None:
    """The meter's device page; ``focus``: a text scrolled to the top of the view before the screenshot."""
    devices = ws(page, {"type": "config/device_registry/list"})
    device = next(d for d in devices if ["enedis", prm] in d["identifiers"])
    page.goto(f"{args.ha}/config/devices/device/{device['id']}")
    page.get_by_text(prm, exact=False).first.wait_for()
    page.wait_for_timeout(1500)
    if focus is not None:
        target = page.get_by_text(focus, exact=True).first
        target.wait_for()
        target.evaluate("(e) => e.scrollIntoView({block: 'center'})")
    shot(page, args.out, name, what)


def add_grid_connection(page: Page, args: argparse.Namespace, prm: str, screenshot: str | None) -> None:
    """Energy configuration > "Add grid connection" > the Linky statistic; energy/save_prefs if the UI fails."""
    stat_id = f"enedis:{prm}_consumption"
    page.goto(f"{args.ha}/config/energy")
    page.get_by_text("Electricity grid").first.wait_for()
    add = page.get_by_text("Add grid connection")  # 2026.10 label ("Add consumption" before)
    if not add.count():
        add = page.get_by_text("Add consumption")
    try:
        add.first.click(timeout=5000)
        picker = page.locator("ha-statistic-picker").first
        picker.click(timeout=5000)
        page.get_by_text(f"Linky {prm} consumption", exact=False).last.click(timeout=10_000)
        save = page.get_by_role("button", name="Save").last
        for _ in range(60):  # the dialog reads the statistic's metadata, fills the display name, enables Save
            if save.is_enabled():
                break
            page.wait_for_timeout(250)
        page.wait_for_timeout(1000)
        if screenshot:
            shot(page, args.out, screenshot, "Energy configuration: the Linky statistic as a grid connection")
        save.click()
        page.get_by_text("Configure grid connection").wait_for(state="hidden", timeout=10_000)
    except PlaywrightError as err:
        print(f"[browser] the grid dialog could not be driven ({str(err).splitlines()[0]})", flush=True)
        page.keyboard.press("Escape")
    try:
        prefs = ws(page, {"type": "energy/get_prefs"})
    except RuntimeError:  # no preferences yet
        prefs = {"energy_sources": [], "device_consumption": []}
    if stat_id in json.dumps(prefs):
        return
    print(f"[browser] the dialog did not save {stat_id}: saving it through energy/save_prefs", flush=True)
    source = {
        "type": "grid",
        "stat_energy_from": stat_id,
        "stat_energy_to": None,
        "stat_cost": None,
        "entity_energy_price": None,
        "number_energy_price": None,
        "stat_compensation": None,
        "entity_energy_price_export": None,
        "number_energy_price_export": None,
        "cost_adjustment_day": 0,
    }
    try:
        ws(page, {"type": "energy/save_prefs", "energy_sources": [*prefs["energy_sources"], source]})
    except RuntimeError as err:
        fail(f"energy/save_prefs refused the grid source {stat_id}: {err}")


def wait_import(page: Page, prm: str) -> None:
    """Wait until the meter's History import sensor reads 100 %."""
    registry = ws(page, {"type": "config/entity_registry/list"})
    entity_id = next(
        e["entity_id"] for e in registry if e["platform"] == "enedis" and e["unique_id"] == f"{prm}_backfill_progress"
    )
    began = time.monotonic()
    state = None
    while time.monotonic() - began < IMPORT_TIMEOUT:
        state = state_of(page, entity_id)
        if state is not None and state not in {"unknown", "unavailable"} and float(state) >= 100:
            print(f"[browser] {entity_id} = {state} % after {time.monotonic() - began:.0f} s", flush=True)
            return
        page.wait_for_timeout(2000)
    msg = f"{entity_id} still {state} % after {IMPORT_TIMEOUT:.0f} s"
    raise AssertionError(msg)


def paris_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=PARIS)


def kwh_on_page(text: str) -> float:
    """ "1,228.7 kWh" (en-GB grouping) -> 1228.7."""
    match = re.search(r"-?[\d,]*\.?\d+", text.replace("\u202f", "").replace("\xa0", ""))
    if match is None:
        msg = f"no number in {text!r}"
        raise ValueError(msg)
    return float(match.group().replace(",", ""))


def recorder_year(page: Page, stat_id: str, year: int, truth: dict[str, Any]) -> float | None:
    """``recorder/statistic_during_period`` over the Paris year, once it equals the truth (None if it never does)."""
    period = {
        "start_time": paris_midnight(date(year, 1, 1)).isoformat(),
        "end_time": paris_midnight(date(year + 1, 1, 1)).isoformat(),
    }
    tolerance = 0.5 * truth["days"]
    began = time.monotonic()
    change = None
    while time.monotonic() - began < STATISTICS_TIMEOUT:
        answer = ws(
            page,
            {
                "type": "recorder/statistic_during_period",
                "statistic_id": stat_id,
                "types": ["change"],
                "fixed_period": period,
            },
        )
        change = answer.get("change")
        if change is not None and abs(change * 1000 - truth["wh"]) <= tolerance:
            return float(change)
        page.wait_for_timeout(2000)
    fail(f"recorder/statistic_during_period({stat_id}, {year}) = {change} kWh, ground truth {truth['wh']} Wh")
    return None


def oldest_row(page: Page, stat_id: str, first: date) -> datetime | None:
    """Start of the statistic's oldest hourly row, looked for from 2 days before the oldest served day."""
    rows = ws(
        page,
        {
            "type": "recorder/statistics_during_period",
            "statistic_ids": [stat_id],
            "start_time": paris_midnight(first - timedelta(days=2)).isoformat(),
            "end_time": paris_midnight(first + timedelta(days=1)).isoformat(),
            "period": "hour",
            "types": ["sum"],
        },
    ).get(stat_id, [])
    return datetime.fromtimestamp(rows[0]["start"] / 1000, UTC) if rows else None


def energy_year(page: Page, args: argparse.Namespace) -> None:
    """The Energy dashboard on the year of the oldest imported row, checked against the gateway's ground truth."""
    prm = args.dc_prm
    stat_id = f"enedis:{prm}_consumption"
    served = get_json(f"{args.gateway}/_e2e/truth?prm={prm}&direction=CONS")
    assert served["first"], f"the gateway served no energy for {prm}: {served}"
    first = date.fromisoformat(served["first"])
    year = first.year
    truth = get_json(f"{args.gateway}/_e2e/truth?prm={prm}&direction=CONS&start={year}-01-01&end={year + 1}-01-01")
    print(
        f"[browser] ground truth: {prm} imported {served['first']} .. {served['last']}; year {year}: "
        f"{truth['days']} days, {truth['wh']} Wh",
        flush=True,
    )
    recorded = recorder_year(page, stat_id, year, truth)
    start = oldest_row(page, stat_id, first)
    if start != paris_midnight(first).astimezone(UTC):
        fail(f"the oldest row of {stat_id} starts at {start}, not at the oldest served day's midnight ({first})")

    # As a user: Energy > date picker > "This year", then back year by year.
    page.goto(f"{args.ha}/energy")
    picker = page.get_by_role("button", name="Select time period")
    picker.wait_for()
    picker.click()
    page.get_by_text("This year", exact=True).click()
    this_year = datetime.now(PARIS).year
    for _ in range(this_year - year):
        page.get_by_role("button", name="Previous").last.click()
        page.wait_for_timeout(500)
    page.get_by_text(str(year), exact=True).first.wait_for()
    row = page.locator("hui-energy-sources-table-card tr").filter(has_text=f"Linky {prm} consumption")
    cell = row.locator("td.mdc-data-table__cell--numeric").last
    shown, began = "", time.monotonic()
    while time.monotonic() - began < 30:  # the cards load their statistics after the period changes
        with contextlib.suppress(PlaywrightError):
            text = cell.inner_text(timeout=2000).strip()
            if text and text == shown:
                break
            shown = text
        page.wait_for_timeout(1000)
    total_row = page.locator("hui-energy-sources-table-card tr").filter(has_text="Grid total")
    grid_total = total_row.last.inner_text().strip() if total_row.count() else "?"
    shot(page, args.out, "13-energy-year", f"the Energy dashboard on {year}, the year of the oldest imported row")

    truth_kwh = truth["wh"] / 1000
    page_kwh = kwh_on_page(shown) if shown else None
    print(
        f"[browser] {year}: page {shown!r} (Grid total row: {' '.join(grid_total.split())!r}); "
        f"recorder/statistic_during_period {recorded} kWh; ground truth {truth['wh']} Wh = {truth_kwh:.3f} kWh "
        f"(shown rounded: {round(truth_kwh, PAGE_DECIMALS)} kWh)",
        flush=True,
    )
    page_tolerance = 0.5 * 10**-PAGE_DECIMALS + 0.0005 * truth["days"]
    if truth["wh"] <= 0:
        fail(f"the ground truth of {year} is not positive: {truth}")
    if page_kwh is None or page_kwh <= 0:
        fail(f"the dashboard's total for {year} is not positive: {shown!r}")
    elif abs(page_kwh - truth_kwh) > page_tolerance:
        fail(f"the dashboard shows {page_kwh} kWh for {year}, the ground truth is {truth_kwh:.3f} kWh")


def last_month() -> tuple[date, date]:
    """First day of the last complete Paris month, and the first day of this one."""
    this_month = datetime.now(PARIS).date().replace(day=1)
    return (this_month - timedelta(days=1)).replace(day=1), this_month


def tariff_options(page: Page, args: argparse.Namespace) -> None:
    """Settings > the Data Connect entry > Configure > "Tariff and prices": the regulated tariff, saved."""
    prm = args.dc_prm
    page.goto(f"{args.ha}/config/integrations/integration/enedis")
    row = page.locator("ha-config-entry-row").filter(has_text=f"Linky {prm}").first
    row.wait_for()
    row.get_by_role("button", name="Configure").first.click()
    page.get_by_text("Tariff and prices").first.click()
    page.get_by_text("Regulated tariff (Tarif Bleu)").first.wait_for()
    radio = page.get_by_role("radio", name="Regulated tariff (Tarif Bleu)")
    if radio.count():
        radio.first.check()
    else:
        page.get_by_text("Regulated tariff (Tarif Bleu)").first.click()
    base = page.get_by_role("radio", name="Base", exact=True)
    if base.count() and not base.first.is_checked():
        fail("the tariff options form does not show the option Base (the entry's default)")
    page.get_by_text("Tariff and prices").first.click()  # hover away from the radio
    # The form is long: from the tariff option down to the subscribed power (left empty: the contract's).
    page.get_by_text("the contract's subscribed power is used", exact=False).first.evaluate(
        "(e) => e.scrollIntoView({block: 'end'})"
    )
    shot(page, args.out, "14-tariff-options", "options, Tariff and prices: Prices = Regulated tariff (Tarif Bleu)")
    dialog_button(page, "Submit")
    page.get_by_role("button", name=re.compile(r"^(Finish|OK|Close)$")).last.wait_for()
    options = next(
        e for e in ws(page, {"type": "config_entries/get", "domain": "enedis"}) if e["title"] == f"Linky {prm}"
    )
    print(f"[browser] options saved for {options['title']} (entry {options['entry_id']})", flush=True)
    finish_dialog(page)


def bill_state(args: argparse.Namespace) -> tuple[str | None, dict[str, Any]]:
    """The Data Connect meter's *Bill last month* sensor through the REST API: (entity_id, state object)."""
    states = get_json(f"{args.ha}/api/states", token=args.access_token)
    for state in states:
        entity_id = state["entity_id"]
        if re.fullmatch(r"sensor\..*bill_last_month.*", entity_id) and args.dc_prm in entity_id:
            return entity_id, state
    return None, {}


def bill(page: Page, args: argparse.Namespace) -> None:
    """Wait for the bill sensors, show them on the device page, check last month's bill against the recorder."""
    prm = args.dc_prm
    began = time.monotonic()
    entity_id, state = None, {}
    while time.monotonic() - began < BILL_TIMEOUT:
        entity_id, state = bill_state(args)
        if entity_id and state.get("state") not in {None, "unknown", "unavailable"}:
            break
        time.sleep(2)
    else:
        msg = f"no value for the Bill last month sensor of {prm} after {BILL_TIMEOUT:.0f} s: {entity_id} {state}"
        raise AssertionError(msg)
    print(
        f"[browser] {entity_id} = {state['state']} EUR after {time.monotonic() - began:.0f} s "
        f"({json.dumps(state.get('attributes', {}), ensure_ascii=False)})",
        flush=True,
    )
    others = {
        s["entity_id"]: s["state"]
        for s in get_json(f"{args.ha}/api/states", token=args.access_token)
        if args.dc_prm in s["entity_id"] and re.search(r"bill|cheapest|cost_over", s["entity_id"])
    }
    print(f"[browser] bill and comparator sensors: {others}", flush=True)
    device_page(
        page,
        args,
        prm,
        "15-bill-device",
        "the Data Connect meter on the Tarif Bleu: the bill sensors",
        focus="Bill last month",
    )

    first, end = last_month()
    stat_id = f"enedis:{prm}_bill"
    period = {"start_time": paris_midnight(first).isoformat(), "end_time": paris_midnight(end).isoformat()}
    value = float(state["state"])
    change, began = None, time.monotonic()
    while time.monotonic() - began < STATISTICS_TIMEOUT:
        answer = ws(
            page,
            {
                "type": "recorder/statistic_during_period",
                "statistic_id": stat_id,
                "types": ["change"],
                "fixed_period": period,
            },
        )
        change = answer.get("change")
        if change is not None and abs(change - value) <= 0.005 + 1e-9:
            break
        page.wait_for_timeout(2000)
    print(
        f"[browser] {first:%Y-%m}: Bill last month {value} EUR; recorder/statistic_during_period({stat_id}) "
        f"= {change} EUR",
        flush=True,
    )
    if value <= 0:
        fail(f"Bill last month of {prm} is not positive: {value}")
    if change is None or abs(change - value) > 0.005 + 1e-9:
        fail(f"Bill last month of {prm} is {value} EUR, the recorder's {stat_id} over {first:%Y-%m} is {change} EUR")


def compare_tariffs(page: Page, args: argparse.Namespace) -> None:
    """Developer tools > Actions, YAML mode: enedis.compare_tariffs for the Data Connect PRM; its response."""
    prm = args.dc_prm
    answer = ws(
        page,
        {
            "type": "call_service",
            "domain": "enedis",
            "service": "compare_tariffs",
            "service_data": {"prm": prm},
            "return_response": True,
        },
    )
    response = answer.get("response") or {}
    options = response.get("options") or {}
    cheapest = response.get("cheapest")
    totals = {name: option.get("total_eur") for name, option in options.items()}
    print(
        f"[browser] compare_tariffs({prm}): {response.get('first')} .. {response.get('last')}, "
        f"{response.get('kva')} kVA, current {response.get('current')}, cheapest {cheapest}, "
        f"saving {response.get('saving_eur')} EUR; totals {totals}",
        flush=True,
    )
    if not options or any(not isinstance(total, int | float) for total in totals.values()):
        fail(f"compare_tariffs answered options without totals: {totals}")
    if cheapest not in options or not (totals.get(cheapest) or 0) > 0:
        fail(f"compare_tariffs answered no cheapest option with a positive total: {cheapest!r}, {totals}")
    # The Tempo days after the shipped calendar (2026-08-31) take RTE's colours: the gateway's copy here.
    unknown = (options.get("tempo") or {}).get("days_not_priced", {}).get("unknown_calendar")
    if unknown:
        fail(f"compare_tariffs left {unknown} Tempo days without a colour (is ENEDIS_DEMO_RTE_URL reached?)")

    page.goto(f"{args.ha}/config/tools/action")
    page.get_by_role("button", name="YAML mode").first.click()
    editor = page.locator("ha-yaml-editor#yaml-editor .cm-content").first
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text("action: enedis.compare_tariffs")
    page.keyboard.press("Enter")
    page.keyboard.insert_text(f'data: {{prm: "{prm}"}}')
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Perform action").first.click()
    shown = page.locator(".response .cm-content").first
    shown.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    # A taller window for this one: the action as typed, then the top of its response.
    page.set_viewport_size({"width": 1280, "height": 1280})
    page.locator("ha-card", has=page.locator("ha-yaml-editor#yaml-editor")).first.evaluate(
        "(e) => e.scrollIntoView({block: 'start'})"
    )
    shot(page, args.out, "16-compare-tariffs-response", "Developer tools > Actions: enedis.compare_tariffs's response")
    page.set_viewport_size({"width": 1280, "height": 800})
    text = shown.inner_text()
    if f"cheapest: {cheapest}" not in text:
        fail(f"the page's response does not name the cheapest option {cheapest!r}: {text[:300]!r}")
    # The cheapest-option sensor compares the same default period (the last 12 complete months).
    sensor = next(
        (
            s
            for s in get_json(f"{args.ha}/api/states", token=args.access_token)
            if re.fullmatch(r"sensor\..*cheapest_tariff_option", s["entity_id"]) and prm in s["entity_id"]
        ),
        None,
    )
    print(f"[browser] cheapest-option sensor: {sensor and (sensor['entity_id'], sensor['state'])}", flush=True)
    if sensor is not None and sensor["state"] not in {"unknown", "unavailable"} and sensor["state"] != cheapest:
        fail(f"{sensor['entity_id']} = {sensor['state']}, enedis.compare_tariffs answers {cheapest}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ha", required=True)
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--token", required=True, help="Conso API demo token")
    parser.add_argument("--prm", required=True, help="the Conso API token's PRM")
    parser.add_argument("--dc-prm", required=True, help="the PRM to import through Data Connect (demo gateway)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--work", type=Path, default=Path())
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tokens = onboard(args.ha)
    args.access_token = tokens["access_token"]
    print("[browser] onboarding done through REST (owner, location, analytics, integrations)", flush=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="en-GB", timezone_id="Europe/Paris"
        )
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


def recorded_failure(page: Page, args: argparse.Namespace, what: str, err: Exception) -> None:
    """Record a failed part of the walk (with the page as it was); the walk goes on."""
    failure = args.work / f"{what.lower().replace(' ', '-')}-failure.png"
    page.screenshot(path=str(failure))
    fail(f"{what}: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''} (see {failure})")
    page.keyboard.press("Escape")


def walk(page: Page, args: argparse.Namespace) -> None:
    """The walk-through proper (steps 2 to 8)."""
    # --- 2. Conso API path ----------------------------------------------------------------------------------
    start_flow(page, args.ha)
    page.get_by_text("Conso API token (conso.boris.sh)").wait_for()
    shot(page, args.out, "01-add-integration-menu", "the config flow's first step: Conso API or Data Connect")
    page.get_by_text("Conso API token (conso.boris.sh)").click()
    page.locator("input[type=password]").first.fill(args.token)
    page.locator("input[type=url]").first.fill(f"{args.gateway}/conso/api")
    shot(page, args.out, "02-conso-api-form", "the Conso API step: demo token and the demo gateway's base URL")
    dialog_button(page, "Submit")
    page.get_by_text("Linky", exact=False).first.wait_for()
    page.wait_for_timeout(1500)
    shot(page, args.out, "03-entry-created", "the entry is created: one device per meter (PRM)")
    finish_dialog(page)

    # --- 3. Data Connect: credentials and the production consent step, then the demo gateway ----------------
    try:
        production_consent(page, args)
    except Exception as err:  # recorded, the walk goes on: the other screenshots are still useful
        recorded_failure(page, args, "Data Connect consent step", err)
    data_connect = True
    try:
        demo_data_connect(page, args)
    except Exception as err:
        recorded_failure(page, args, "Data Connect demo gateway", err)
        data_connect = False

    # --- 4. the Conso API meter's device page ---------------------------------------------------------------
    device_page(page, args, args.prm, "08-device-page", "the Conso API meter's device page: sensors and diagnostics")

    # --- 5. Energy configuration: both meters as grid connections; yesterday, hour by hour ------------------
    add_grid_connection(page, args, args.prm, "09-energy-add-grid")
    if data_connect:
        add_grid_connection(page, args, args.dc_prm, None)
    page.goto(f"{args.ha}/config/energy")
    page.get_by_text("Electricity grid").first.wait_for()
    page.wait_for_timeout(1500)
    shot(page, args.out, "10-energy-config", "Energy configuration: both Linky meters as grid connections")
    page.goto(f"{args.ha}/energy")
    page.get_by_role("button", name="Previous").last.wait_for()
    page.wait_for_timeout(1500)
    # Today has no data yet (Enedis publishes day D on D+1): step back to yesterday.
    page.get_by_role("button", name="Previous").last.click()
    page.wait_for_timeout(3000)
    shot(page, args.out, "11-energy-dashboard", "the Energy dashboard showing yesterday, hour by hour")
    if not data_connect:
        return

    # --- 6. the Data Connect meter, its whole history imported; the year of its oldest row ------------------
    wait_import(page, args.dc_prm)
    device_page(
        page, args, args.dc_prm, "12-data-connect-device", "the Data Connect meter: contract sensors, import at 100 %"
    )
    energy_year(page, args)

    # --- 7. the bill: the Data Connect meter on the regulated tariff ----------------------------------------
    began = time.monotonic()
    try:
        tariff_options(page, args)
        bill(page, args)
    except Exception as err:
        recorded_failure(page, args, "Bill", err)

    # --- 8. the comparator: Developer tools > Actions, enedis.compare_tariffs -------------------------------
    try:
        compare_tariffs(page, args)
    except Exception as err:
        recorded_failure(page, args, "Tariff comparator", err)
    print(f"[browser] the bill and the comparator took {time.monotonic() - began:.0f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
