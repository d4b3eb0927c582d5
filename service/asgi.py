"""The entry point uvicorn imports in every worker process: JSON logs, then the app."""

from __future__ import annotations

from fastapi import FastAPI

from service.logs import configure_logging
from service.main import create_app
from service.settings import Settings


def app_factory() -> FastAPI:
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)
