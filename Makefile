# Naviyam — the two commands a newcomer needs:
#   make demo   set up everything and run the main job end to end
#   make test   run the whole test suite (what CI runs)
SHELL := /bin/bash
# the lock is for CPython 3.11: prefer a python3.11 on PATH over whatever python3 is
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# uv installs the locked wheels in parallel (12 s here against pip's ~2 min); torch stays with pip,
# which finds the local CPU wheel (uv would not look there)
UV_VERSION := 0.13.10
export BENTOML_DO_NOT_TRACK := true
export GX_ANALYTICS_ENABLED := false
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
# Python's bytecode cache stays on. Where PYTHONDONTWRITEBYTECODE is set (some CI images and
# sandboxes set it), every process compiles each module it imports from source again: Dagster, dbt,
# great-expectations and torch took 12.7 s to import instead of 7.7, in every command, every dbt run
# and every service worker (the 5-minute batch: 32.7 → 22 s of wall time)
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help install demo test test-fast browser deps-check dagster-ui mlflow-ui clean-data
help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install: $(VENV)/.installed  ## create the venv and install the locked dependencies

# torch first, pinned: a bare "torch" pulls a multi-GB CUDA build; 2.13.0 is a local CPU wheel here
$(VENV)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "error: Naviyam needs Python 3.11 (found %d.%d at $(PYTHON)); run make PYTHON=/path/to/python3.11" % sys.version_info[:2])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> installing torch 2.13.0 (CPU)"; $(PIP) install -q torch==2.13.0
	@echo "==> installing locked dependencies (uv: ~15 s; pip where uv cannot: ~2 minutes)"; \
	  { $(PIP) install -q uv==$(UV_VERSION) && UV_NATIVE_TLS=1 $(VENV)/bin/uv pip install -q --python $(PY) -r requirements.lock; } \
	  || $(PIP) install -q -r requirements.lock
	@$(PIP) install -q --no-deps -e .
	@touch $@

demo: install  ## command 1: services, schema, sample data, ingest, assets, training, sample chats
	$(VENV)/bin/naviyam demo

test: install browser deps-check  ## command 2: the whole pytest suite against real PostgreSQL and Redis
	$(PY) -m pytest -q

# the playground test drives a real headless Chromium (Debian's, through Selenium); CI runs as root
browser:  ## install Chromium and chromedriver when missing (apt-get; needs root or sudo)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list :lang=ko 2>/dev/null | grep -q . \
	  && fc-list 2>/dev/null | grep -q "Noto Color Emoji" || { \
	  echo "==> installing chromium, chromium-driver, a Korean and an emoji font (apt-get)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver fonts-noto-cjk fonts-noto-color-emoji >/dev/null \
	  || echo "warning: could not install chromium: the browser test will be skipped"; }

deps-check: install  ## declared dependencies match the imports (deptry)
	$(VENV)/bin/deptry . --no-ansi

test-fast: install  ## unit tests only
	$(PY) -m pytest -q tests/unit

dagster-ui: install  ## the Dagster UI over the whole graph and the runs of make demo (http://127.0.0.1:3001)
	@mkdir -p $(DAGSTER_HOME); test -f $(DAGSTER_HOME)/dagster.yaml || cp orchestration/dagster.yaml $(DAGSTER_HOME)/
	@echo "==> schedules and the retrain sensor start $$(NAVIYAM_LOG_LEVEL=ERROR $(PY) -c 'from infra.settings import get_settings; print("RUNNING: batch_5min runs every 5 minutes against this database" if get_settings().dagster_schedules_running else "STOPPED (NAVIYAM_DAGSTER_SCHEDULES=true runs batch_5min every 5 minutes)")')"
	$(VENV)/bin/dagster dev -p 3001

mlflow-ui: install  ## the MLflow UI over the local runs and registry (http://127.0.0.1:5000)
	$(VENV)/bin/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/data/mlflow/mlflow.db --port 5000

clean-data:  ## remove generated data, models and embedded servers' files under ./data
	rm -rf data
