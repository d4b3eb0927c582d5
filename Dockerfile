# syntax=docker/dockerfile:1
# Build the frontend bundle, then a slim Python image that migrates and serves.
FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN mkdir -p ../service/static && npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CB_DATA_DIR=/var/lib/community-brain
WORKDIR /app
COPY pyproject.toml alembic.ini ./
COPY service/ service/
COPY migrations/ migrations/
COPY --from=frontend /src/service/static/app/ service/static/app/
RUN pip install --no-cache-dir -e . && useradd --system --home /var/lib/community-brain cb \
    && mkdir -p /var/lib/community-brain && chown cb /var/lib/community-brain
USER cb
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# Installed editable so that migrations/ and alembic.ini beside service/ are found.
# `serve` runs the migrations first (one migrator at a time, under a PostgreSQL advisory lock).
CMD ["community-brain", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
