# syntax=docker/dockerfile:1
# Three stages: Node builds the frontend bundle; a wheel is built with the bundle and the
# migrations inside it (setup.py takes the bundle as it is when frontend/ is not there); the
# runtime image installs only that wheel: no Node, no source tree.
FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN mkdir -p ../service/static && npm run build

FROM python:3.11-slim-bookworm AS wheel
WORKDIR /src
COPY pyproject.toml setup.py ./
COPY service/ service/
COPY migrations/ migrations/
COPY --from=frontend /src/service/static/app/ service/static/app/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CB_DATA_DIR=/var/lib/community-brain
# The load balancer's address(es), so `serve` believes its X-Forwarded-For (docs/deployment.md);
# empty: the peer address is the client's.
ENV CB_TRUSTED_PROXIES=""
COPY --from=wheel /wheels/ /tmp/wheels/
RUN pip install --no-cache-dir /tmp/wheels/*.whl && rm -rf /tmp/wheels \
    && useradd --system --home /var/lib/community-brain cb \
    && mkdir -p /var/lib/community-brain && chown cb /var/lib/community-brain
USER cb
WORKDIR /var/lib/community-brain
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# `serve` runs the migrations first (one migrator at a time, under a PostgreSQL advisory lock).
CMD ["community-brain", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
