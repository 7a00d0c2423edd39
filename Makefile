# `make run` and `make test` each do all the set-up a fresh clone needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall only when pyproject.toml changes.
STAMP := $(VENV)/.installed
# Three workers on two cores: many tests wait on sockets and simulated calls (-n 0: one process).
# worksteal: an idle worker takes queued tests from a busy one (the hostile sweeps take 20–55 s each).
PYTEST_ARGS ?= -n 3 --dist worksteal

.PHONY: run test lint bench migrate install browser

run: migrate
	$(BIN)/dsdesk run

# Lint and types first: a failure stops the run with the tool's own message, before any test.
test: lint migrate browser
	$(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

# ruff (lint rules only, never the formatter) and mypy; both read their settings from pyproject.toml.
lint: install
	$(BIN)/ruff check
	$(BIN)/mypy

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

# The browser tests drive Debian's Chromium (never `playwright install`). As root it is installed
# through apt when missing; otherwise the run stops here, before any test, saying what to do.
DSDESK_CHROMIUM ?= /usr/bin/chromium
export DSDESK_CHROMIUM
browser:
	@if [ -x "$(DSDESK_CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Chromium is missing: installing Debian's chromium and chromium-driver"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	else \
		echo "The browser tests need Debian's Chromium at $(DSDESK_CHROMIUM)." >&2; \
		echo "Install it once as root:  sudo apt-get install -y chromium chromium-driver" >&2; \
		echo "(or point DSDESK_CHROMIUM=/path/to/chromium at another build), then run make test again." >&2; \
		exit 1; \
	fi
