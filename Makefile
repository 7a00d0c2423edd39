# `make run` and `make test` each do all the set-up a fresh clone needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall only when pyproject.toml changes.
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test bench migrate install

run: migrate
	$(BIN)/dsdesk run

test: migrate
	$(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

bench: migrate
	@set -e; found=0; \
	for script in bench/[!_]*.py; do \
		[ -e "$$script" ] || continue; found=1; \
		echo "== $$script"; $(BIN)/python "$$script"; \
	done; \
	[ $$found = 1 ] || echo "no benchmarks in bench/ yet"

migrate: install
	$(BIN)/dsdesk db upgrade

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $(STAMP)
