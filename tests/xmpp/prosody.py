"""A real Prosody XMPP server for tests and ``scripts/develop``, from a temporary configuration.

Prosody (Debian package, installed by ``scripts/setup``) runs in the foreground (``-F``) on 127.0.0.1 only, on a
free port, with plain authentication and no TLS (a local test server), ``run_as_root`` when the process is root
(CI). Accounts are written as Prosody's own account files (what ``prosodyctl register`` writes), so creating one
costs no process. See ``../shared/reference/xmpp-proxy-sge-grtgaz.md`` §A10.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import shutil
import socket
import subprocess
import time

HOST = "localhost"
START_TIMEOUT = 15.0


def free_port() -> int:
    """A TCP port nobody listens on right now (127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _encode(name: str) -> str:
    """Prosody's datamanager file-name encoding: every non-alphanumeric byte as ``%xx``."""
    return "".join(c if c.isascii() and c.isalnum() else "".join(f"%{b:02x}" for b in c.encode()) for c in name)


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Prosody:
    """One Prosody process serving the virtual host ``localhost`` on ``127.0.0.1:port``."""

    def __init__(self, root: Path, *, port: int | None = None) -> None:
        """Prepare ``root`` (configuration, data, log); nothing runs until `start`."""
        self.root = root
        self.port = port or free_port()
        self.host = HOST
        self.config = root / "prosody.cfg.lua"
        self.log = root / "prosody.log"
        self._process: subprocess.Popen[bytes] | None = None
        (root / "data").mkdir(parents=True, exist_ok=True)
        (root / "certs").mkdir(exist_ok=True)
        self._write_config()

    @staticmethod
    def available() -> bool:
        """Whether the ``prosody`` executable is installed (``scripts/setup`` installs it)."""
        return shutil.which("prosody") is not None

    def _write_config(self) -> None:
        root_line = "run_as_root = true\n" if os.geteuid() == 0 else ""
        self.config.write_text(
            f"""{root_line}daemonize = false
pidfile = {_lua_string(str(self.root / "prosody.pid"))}
data_path = {_lua_string(str(self.root / "data"))}
certificates = {_lua_string(str(self.root / "certs"))}
log = {{ {{ levels = {{ min = "info" }}, to = "file", filename = {_lua_string(str(self.log))} }} }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {self.port} }}
c2s_direct_tls_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
modules_enabled = {{ "roster"; "saslauth"; "disco"; "ping" }}
modules_disabled = {{ "s2s"; "tls"; "offline"; "c2s_bidi" }}
authentication = "internal_plain"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
VirtualHost "{HOST}"
"""
        )

    def add_account(self, user: str, password: str) -> str:
        """Create (or reset) ``user@localhost`` with ``password``; returns the bare JID."""
        accounts = self.root / "data" / _encode(HOST) / "accounts"
        accounts.mkdir(parents=True, exist_ok=True)
        (accounts / f"{_encode(user)}.dat").write_text(f'return {{\n\t["password"] = {_lua_string(password)};\n}};\n')
        return f"{user}@{HOST}"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def _spawn(self) -> None:
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - a fixed executable and our own configuration file
                ["prosody", "--config", str(self.config), "-F"],  # noqa: S607 - found on PATH like any test tool
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def _check_started(self, deadline: float) -> bool:
        if self._process is not None and self._process.poll() is not None:
            msg = f"prosody exited with {self._process.returncode}:\n{self.tail()}"
            raise RuntimeError(msg)
        if time.monotonic() > deadline:
            msg = f"prosody did not listen on {self.port} within {START_TIMEOUT:g} s:\n{self.tail()}"
            raise RuntimeError(msg)
        return _port_open(self.port)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._spawn()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._check_started(deadline):
            time.sleep(0.05)

    async def async_start(self) -> None:
        """`start` without blocking the event loop (a server restarted while clients run)."""
        self._spawn()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._check_started(deadline):  # noqa: ASYNC110 - another process's port: no event to wait on
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s) and wait for it."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def tail(self, lines: int = 30) -> str:
        """The end of the server's log (for failure messages)."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
