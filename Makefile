# ReleasePilot: the two commands are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null || echo .uv/bin/uv)
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 60
export PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW ?= ignore
export DO_NOT_TRACK ?= 1

.PHONY: help venv demo test lint bench clean up down

help:
	@echo "make demo   set up the environment from uv.lock and run the whole journey on a simulated history"
	@echo "make test   set up the environment and run the test suite"
	@echo "make bench  run the benchmarks and print their tables"
	@echo "make up     start the Prefect server + worker, the MLflow UI and the dashboard on localhost"
	@echo "make down   stop them"

.uv/bin/uv:
	python3 -m venv .uv && .uv/bin/pip install --quiet uv

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --all-groups
	@touch $@

venv: $(VENV)/.synced

demo: venv
	$(BIN)/python flows/demo.py

test: venv
	$(BIN)/pytest -q

lint: venv
	$(BIN)/ruff check src flows tests benchmarks

up: venv
	$(BIN)/releasepilot up

down:
	@if [ -x $(BIN)/releasepilot ]; then $(BIN)/releasepilot down; else echo "nothing to stop (no $(BIN))"; fi

bench: venv
	$(BIN)/python benchmarks/bench_history.py

clean:
	rm -rf data/sim data/warehouse.duckdb* mlflow.db mlartifacts dbt_project/target dbt_project/logs
