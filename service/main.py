"""The application: create_app(settings) and the lifespan that owns every long-lived resource."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from starlette.types import ASGIApp

from service import ops
from service.auth.router import router as auth_router
from service.bootstrap import start_services, stop_services
from service.dossier.router import router as dossier_router
from service.exports.router import router as exports_router
from service.feeds.definitions.router import router as definitions_router
from service.feeds.router import router as feeds_router
from service.headers import SecurityHeadersMiddleware
from service.http import (
    BodyLimitMiddleware,
    InputGuardMiddleware,
    RequestContextMiddleware,
    install_error_handlers,
    refuse_other_media_types,
    refuse_unstorable_text,
)
from service.incidents.router import router as incidents_router
from service.ledger.router import router as ledger_router
from service.live.ws import router as live_router
from service.logs import install_redaction
from service.metrics import Metrics
from service.painpoints.router import router as painpoints_router
from service.registry.router import router as registry_router
from service.settings import Settings
from service.stats.router import router as stats_router
from service.visits.router import router as visits_router
from service.web import mount_frontend
from service.webhooks.router import router as webhooks_router

log = logging.getLogger(__name__)

VERSION = "0.1.0"


class CommunityBrainApp(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's own error middleware, so that a 500 it renders gets the headers too.
        return SecurityHeadersMiddleware(super().build_middleware_stack())


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    install_redaction()  # secrets never reach a log line, whoever runs the app (uvicorn, tests, the CLI)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.cb = await start_services(settings, app.state.metrics)
        try:
            yield
        finally:
            await stop_services(app.state.cb)

    app = CommunityBrainApp(
        title="Community Brain 社区大脑",
        version=VERSION,
        description="Joint command centre service: register, department feeds, incidents, ledger, live stream.",
        lifespan=lifespan,
        dependencies=[Depends(refuse_other_media_types), Depends(refuse_unstorable_text)],
    )
    app.state.metrics = Metrics()
    install_error_handlers(app)

    api = APIRouter(prefix="/api/v1")
    for router in (
        auth_router,
        registry_router,
        dossier_router,
        definitions_router,
        visits_router,  # before feeds: /feeds/visits/records is the visit log's own route
        feeds_router,
        incidents_router,
        ledger_router,
        stats_router,
        painpoints_router,
        webhooks_router,
        exports_router,
    ):
        api.include_router(router)
    app.include_router(api)
    app.include_router(ops.router)
    app.include_router(live_router)
    mount_frontend(app)

    app.add_middleware(InputGuardMiddleware)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes
    )
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app
