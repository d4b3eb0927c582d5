"""Helpers for the live stream's tests and benchmarks: free ports, migrations, a Redis of our own, a server."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import uvicorn
from alembic import command
from alembic.config import Config
from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


class RedisServer:
    """A redis-server of our own on a free port, to stop and start during a test."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=5)
            self.process = None


@asynccontextmanager
async def serve(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """Run the app under uvicorn on a (free) port in this event loop; yields "127.0.0.1:PORT"."""
    port = port or free_port()
    # log_config=None: a test server leaves the process's loggers as they are (uvicorn's own config would
    # stop uvicorn.error propagating, and the log tests that run later would see none of its lines).
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_config=None,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


async def wait_until(check: Callable[[], Awaitable[bool]], within: float, step: float = 0.02) -> None:
    """Poll `check` until it holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        if await check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {within} s: {check}")
        await asyncio.sleep(step)


class ServerProcess:
    """`uvicorn tests.live.liveapp:app_from_env` in a process of its own (optionally several workers)."""

    def __init__(self, env: dict[str, str], workers: int = 1, port: int | None = None):
        self.port = port or free_port()
        self.env = env
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, ready_within: float = 30.0) -> None:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.live.liveapp:app_from_env",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--ws",
            "websockets-sansio",
            "--ws-per-message-deflate",
            "false",
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        env = {**os.environ, "PYTHONPATH": str(ROOT), **self.env}
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}")
            try:
                if httpx.get(f"http://{self.address}/_test/hub", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not become ready")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
