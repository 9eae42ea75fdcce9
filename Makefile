# sensorhub: every target creates or refreshes the virtual environment it needs, so a fresh
# clone needs nothing installed by hand (system packages come from apt-get when missing).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSSTAMP := $(VENV)/.sysdeps
SPEED ?= 60
PORT ?= 8501
PYTEST_ARGS ?=

.PHONY: demo test bench eval lint typecheck layers sysdeps clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Debian packages the end-to-end tests use (a real browser for the dashboard).
$(SYSSTAMP): scripts/install-system-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	bash scripts/install-system-deps.sh
	@touch $(SYSSTAMP)

sysdeps: $(SYSSTAMP)

# var/demo.db is a scratch file: every `make demo` starts over (--fresh deletes the last one).
demo: $(STAMP)
	$(BIN)/sensorhub demo --fresh --speed $(SPEED) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

test: $(STAMP) $(SYSSTAMP) lint typecheck layers
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# scikit-digital-health, timed beside sensorhub by the analysis benchmark, lives in its own
# environment so its pins never touch the project's.
SKDH_VENV := .venv-skdh
$(SKDH_VENV)/.installed:
	@test -x $(SKDH_VENV)/bin/python || $(PYTHON) -m venv $(SKDH_VENV)
	$(SKDH_VENV)/bin/python -m pip install --quiet 'scikit-digital-health>=0.17'
	@touch $@

bench: $(STAMP) $(SKDH_VENV)/.installed
	SKDH_PYTHON=$(SKDH_VENV)/bin/python $(BIN)/python -m bench

eval: $(STAMP)
	$(BIN)/python -m eval

clean:
	rm -rf $(VENV) $(SKDH_VENV) .mypy_cache .ruff_cache .pytest_cache
