# One entry point for people and CI. Everything installs into .venv from the package registry.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: install demo test lint typecheck policy-test pytest bench bench-audit bench-evidence clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

lint: $(STAMP)
	$(BIN)/ruff check engine tests benchmarks examples
	$(BIN)/ruff format --check engine tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

policy-test: $(STAMP)
	$(BIN)/fleetgate policy test policies

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck policy-test pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The decision-log benchmark (SQLite; PostgreSQL too when FLEETGATE_TEST_POSTGRES_URL is set).
bench-audit: $(STAMP)
	$(BIN)/python benchmarks/audit.py

# Evidence: verifying a 100 MB artifact vs one SHA-256 of it; model evidence cold, cached, repeated.
bench-evidence: $(STAMP)
	$(BIN)/python benchmarks/evidence.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
