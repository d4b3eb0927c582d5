"""Serving the bundled frontend (built into service/static/app) for the screens of docs/screens.md."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

APP_DIR = Path(__file__).parent / "static" / "app"
SCREENS = ("/wall", "/login", "/console", "/inspector", "/entities/{entity_id}")

# Plain: the pages' Content-Security-Policy (service/headers.py) allows no inline style.
NOT_BUILT = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>社区大脑</title>
<body>
<h1>社区大脑 · 前端尚未构建</h1><p>The frontend bundle is missing: run <code>make frontend</code>.</p></body></html>"""


def mount_frontend(app: FastAPI) -> None:
    assets = APP_DIR / "assets"
    if assets.is_dir():
        app.mount("/assets", StaticFiles(directory=assets), name="assets")

    async def index() -> FileResponse | HTMLResponse:
        page = APP_DIR / "index.html"
        if page.is_file():
            return FileResponse(page, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(NOT_BUILT, status_code=503)

    for path in SCREENS:
        app.add_api_route(path, index, methods=["GET"], include_in_schema=False, response_model=None)

    async def root() -> RedirectResponse:
        return RedirectResponse("/wall")

    app.add_api_route("/", root, methods=["GET"], include_in_schema=False)
    for static_file in ("favicon.ico", "favicon.svg"):
        if (APP_DIR / static_file).is_file():
            app.add_api_route(
                f"/{static_file}",
                _file_route(APP_DIR / static_file),
                methods=["GET"],
                include_in_schema=False,
            )


def _file_route(path: Path) -> Callable[[], Awaitable[FileResponse]]:
    async def serve() -> FileResponse:
        return FileResponse(path)

    return serve
