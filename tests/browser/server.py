"""A real Community Brain server for the browser tests and the wall soak.

`uvicorn service.asgi:app_factory --factory` in a subprocess on SQLite (the embedded default) in
a data directory of its own, prepared with the `community-brain` command exactly as an operator
would. It can be killed and started again on the same port, which the reconnect test needs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable))
APP_INDEX = ROOT / "service" / "static" / "app" / "index.html"
REGISTRY_CSV = ROOT / "service" / "demo" / "data" / "registry.csv"


@dataclass(frozen=True)
class Login:
    username: str
    password: str


@dataclass(frozen=True)
class Credentials:
    """What `prepare` made: the keys (as printed once by the CLI) and the people."""

    display_key: str
    police_key: str
    city_key: str
    operator: Login
    inspector: Login


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """One server process over one data directory; stop and start it again on the same port."""

    def __init__(self, data_dir: Path, port: int | None = None, env: dict[str, str] | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.log_path = data_dir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._env = self._environment(env or {})

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def _environment(self, extra: dict[str, str]) -> dict[str, str]:
        # Nothing of the caller's CB_* settings may leak in (a CB_DATABASE_URL would point the
        # server at someone else's database).
        env = {name: value for name, value in os.environ.items() if not name.startswith("CB_")}
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "CB_DATA_DIR": str(self.data_dir),
                "CB_LOG_LEVEL": "WARNING",
                **extra,
            }
        )
        return env

    def cli(self, *args: str) -> str:
        """Run `community-brain ARGS` against this data directory; its standard output."""
        (output,) = self.cli_concurrently([list(args)])
        return output

    def cli_concurrently(self, commands: list[list[str]]) -> list[str]:
        """Run several `community-brain` commands at once (most of each one's time is start-up)."""
        # cwd is the data directory so a developer's ./.env cannot change the settings.
        processes = [
            (args, subprocess.Popen(
                [PYTHON, "-m", "service", *args], cwd=self.data_dir, env=self._env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            ))
            for args in commands
        ]  # fmt: skip
        outputs, failures = [], []
        for args, process in processes:
            stdout, stderr = process.communicate(timeout=120)
            outputs.append(stdout)
            if process.returncode != 0:
                failures.append(f"community-brain {' '.join(args)} failed: {stderr.strip()[-2000:]}")
        if failures:
            raise RuntimeError("\n".join(failures))
        return outputs

    def prepare(self) -> Credentials:
        """Migrate, load the sample register, and create the keys and people the tests use."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.cli("migrate")
        self.cli("registry", "import", str(REGISTRY_CSV))
        operator = Login("op_browser", "operator-pass-2026")
        inspector = Login("insp_browser", "inspector-pass-2026")
        # Independent small writes: SQLite (WAL, busy timeout) takes them one after another.
        outputs = self.cli_concurrently(
            [
                ["keys", "create", "--role", "display", "--label", "wall"],
                ["keys", "create", "--role", "department", "--source", "police"],
                ["keys", "create", "--role", "department", "--source", "city"],
                *(
                    ["users", "create", "--username", login.username, "--role", role, "--password", login.password]
                    for login, role in ((operator, "operator"), (inspector, "inspector"))
                ),
            ]
        )
        # A key is printed alone on the last line.
        display, police, city = (output.strip().splitlines()[-1] for output in outputs[:3])
        return Credentials(display, police, city, operator, inspector)

    def start(self, ready_within: float = 30.0) -> None:
        if self.process is not None:
            raise RuntimeError("the server is already running")
        command = [
            PYTHON, "-m", "uvicorn", "service.asgi:app_factory", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.data_dir, env=self._env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise RuntimeError(f"the server exited with {code}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop(kill=True)
        raise RuntimeError(f"the server did not become ready within {ready_within} s:\n{self.log_tail()}")

    def stop(self, kill: bool = False) -> None:
        """SIGTERM and wait (graceful), or SIGKILL: the server vanishes as in a crash."""
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
