"""Processes and HTTP helpers of the end-to-end test: the fake gateway and a real ``hass``, as child processes.

Everything runs in the project's Python environment (``scripts/run``: the forky chroot on Debian 12), so the
gateway and Home Assistant are started with ``sys.executable`` and talk over 127.0.0.1 only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import os
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import Any, Self

import aiohttp

ROOT = Path(__file__).resolve().parents[2]

CONFIGURATION = """\
# Written by tests/e2e: the smallest Home Assistant that runs the integration (no frontend, no default_config).
homeassistant:
  name: Enedis e2e
  time_zone: Europe/Paris
  country: FR
  currency: EUR
  unit_system: metric
  latitude: 48.8566
  longitude: 2.3522
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
auth:
config:
diagnostics:
onboarding:
recorder:
  commit_interval: 1
logger:
  default: info
  logs:
    custom_components.enedis: debug
"""


def write_config(config_dir: Path, port: int) -> None:
    """A fresh config dir with our integration linked into ``custom_components``."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(CONFIGURATION.format(port=port))
    components = config_dir / "custom_components"
    components.mkdir(exist_ok=True)
    link = components / "enedis"
    if not link.exists():
        # ENEDIS_E2E_COMPONENT: run the test against another copy of the integration (to try a fix).
        link.symlink_to(os.environ.get("ENEDIS_E2E_COMPONENT") or ROOT / "custom_components" / "enedis")


@dataclass
class Process:
    """A child process whose output goes to a log file; stopped with SIGTERM (then SIGKILL)."""

    name: str
    args: list[str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.starts.append(time.monotonic())
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [sys.executable, *self.args],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 60.0) -> float:
        """SIGTERM and wait; SIGKILL after ``timeout``. Returns the seconds the stop took."""
        if self.popen is None:
            return 0.0
        began = time.monotonic()
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
                msg = f"{self.name} ignored SIGTERM for {timeout} s and was killed"
                raise AssertionError(msg) from None
        self.popen = None
        return time.monotonic() - began


async def wait_until_up(session: aiohttp.ClientSession, url: str, process: Process, limit: float = 180.0) -> float:
    """Poll ``url`` until it answers 200; fail early if the process died. Returns the seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < limit:
        if not process.running():
            msg = f"{process.name} exited early, see {process.log}"
            raise AssertionError(msg)
        try:
            async with session.get(url) as response:
                if response.status == 200:
                    return time.monotonic() - began
        except aiohttp.ClientError:
            pass
        await _sleep(0.5)
    msg = f"{process.name} did not answer {url} within {limit} s, see {process.log}"
    raise AssertionError(msg)


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


async def onboard(session: aiohttp.ClientSession, base: str, username: str, password: str) -> str:
    """Create the owner through the onboarding REST API and return an access token."""
    client_id = f"{base}/"
    async with session.post(
        f"{base}/api/onboarding/users",
        json={
            "client_id": client_id,
            "name": "E2E Owner",
            "username": username,
            "password": password,
            "language": "en",
        },
    ) as response:
        assert response.status == 200, await response.text()
        auth_code = (await response.json())["auth_code"]
    async with session.post(
        f"{base}/auth/token",
        data={"client_id": client_id, "grant_type": "authorization_code", "code": auth_code},
    ) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["access_token"])


async def rest(
    session: aiohttp.ClientSession, method: str, url: str, token: str, payload: Any = None
) -> tuple[int, Any]:
    """An authenticated REST call; (status, JSON body or text)."""
    async with session.request(method, url, json=payload, headers={"Authorization": f"Bearer {token}"}) as response:
        try:
            body: Any = await response.json(content_type=None)
        except ValueError:
            body = await response.text()
        return response.status, body


class WebSocket:
    """A minimal Home Assistant websocket client (auth, then numbered commands)."""

    def __init__(self, session: aiohttp.ClientSession, base: str, token: str) -> None:
        self._session = session
        self._url = base.replace("http://", "ws://") + "/api/websocket"
        self._token = token
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._id = 0

    async def __aenter__(self) -> Self:
        self._ws = await self._session.ws_connect(self._url)
        hello = await self._ws.receive_json()
        assert hello["type"] == "auth_required", hello
        await self._ws.send_json({"type": "auth", "access_token": self._token})
        answer = await self._ws.receive_json()
        assert answer["type"] == "auth_ok", answer
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def call(self, command: dict[str, Any]) -> Any:
        assert self._ws is not None
        self._id += 1
        await self._ws.send_json({"id": self._id, **command})
        while True:
            message = await self._ws.receive_json()
            if message.get("id") == self._id and message.get("type") == "result":
                assert message["success"], message
                return message["result"]
