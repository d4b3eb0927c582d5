"""Security headers on every response: nosniff everywhere, a Content-Security-Policy and no framing on pages.

Pure ASGI, so it also covers responses no route wrote (404s, 413s from the body limit, the
refusal of a WebSocket handshake sent as an HTTP response) and streamed file downloads.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The bundle (service/static/app) loads its scripts, styles and fonts from the service itself and
# talks to it over fetch and the WebSocket ('self' covers ws: and wss: of the same host). Images:
# the favicon is a data: URL, and photos are fetched with the token and shown from blob: URLs.
# Styles set from script (Vue's :style bindings, ECharts) go through the CSSOM, which CSP allows.
PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data: blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

# FastAPI's /docs and /redoc load Swagger UI and ReDoc from the jsDelivr CDN and start them with an
# inline script; they show the API's own description only. They get a policy that allows exactly
# that (docs/deployment.md, "Security headers"); on a network without the CDN they stay blank.
CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = "; ".join(
    (
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' {CDN}",
        f"style-src 'self' 'unsafe-inline' {CDN} https://fonts.googleapis.com",
        "font-src 'self' https://fonts.gstatic.com",
        "img-src 'self' data: https://fastapi.tiangolo.com",
        f"worker-src 'self' blob: {CDN}",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
DOCS_PATHS = ("/docs", "/redoc")

NOSNIFF = (b"x-content-type-options", b"nosniff")


class SecurityHeadersMiddleware:
    """Add nosniff to every response; to every HTML response a Content-Security-Policy and X-Frame-Options."""

    def __init__(self, app: ASGIApp, docs_paths: tuple[str, ...] = DOCS_PATHS):
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        policy = (DOCS_POLICY if scope["path"].startswith(self.docs_paths) else PAGE_POLICY).encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                message["headers"] = _with_security_headers(list(message.get("headers", [])), policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_security_headers(headers: list[tuple[bytes, bytes]], policy: bytes) -> list[tuple[bytes, bytes]]:
    names = {name.lower() for name, _ in headers}
    if NOSNIFF[0] not in names:
        headers.append(NOSNIFF)
    content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
    if content_type.lower().startswith(b"text/html"):
        if b"content-security-policy" not in names:
            headers.append((b"content-security-policy", policy))
        if b"x-frame-options" not in names:
            headers.append((b"x-frame-options", b"DENY"))
    return headers
