# Community Brain — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FRONTEND_STAMP := service/static/app/index.html
PORT ?= 8000

.PHONY: run test setup frontend frontend-test lint format test-python browser-deps bench clean theme-model

## make run: set up, load the demo data and serve it on http://127.0.0.1:$(PORT)/wall
run: setup frontend
	$(BIN)/community-brain demo --port $(PORT)

## make test: set up and run every test (Python on SQLite and PostgreSQL, Redis, frontend, browser)
test: setup frontend browser-deps lint frontend-test test-python

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

frontend: $(FRONTEND_STAMP)

$(FRONTEND_STAMP): $(shell find frontend/src frontend/index.html frontend/package.json frontend/package-lock.json frontend/vite.config.ts -type f 2>/dev/null)
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run build

frontend-test: frontend
	cd frontend && npm test

lint: setup
	$(BIN)/ruff check service tests benchmarks migrations
	$(BIN)/ruff format --check .  # `make format` lays the files out so
	$(BIN)/vulture  # dead code; settings in pyproject.toml [tool.vulture]
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix service tests benchmarks migrations

test-python: setup
	$(BIN)/pytest -q -p no:cacheprovider

# Headless Chromium from Debian for the browser tests (no browser download from the internet), and a
# CJK font so that the screenshots they save show the Chinese text instead of boxes.
browser-deps:
	@(command -v chromium && dpkg -s fonts-wqy-microhei) >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null)

## make bench: every benchmark in benchmarks/, printing its figures (bench_vs_alerta.py installs Alerta
## into a temp venv and needs PostgreSQL and Redis); modules without a __main__ block are helpers, not run
bench: setup
	for script in benchmarks/*.py; do \
		grep -q '^if __name__ == "__main__":' $$script || continue; \
		echo "== $$script"; $(BIN)/python $$script || { echo "make bench: $$script failed (exit $$?)"; exit 1; }; \
	done

## make theme-model: retrain the complaint-theme classifier from the generated corpus (service/residents/theme_model.json)
theme-model: setup
	$(BIN)/python -m service.residents.train

clean:
	rm -rf var service/static/app frontend/node_modules
