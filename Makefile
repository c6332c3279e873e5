# JourneyHub — `make run` serves the demo, `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run migrate seed test test-postgres lint format migrations-check system-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py seed_demo_events --if-empty
	$(BIN)/python manage.py snapshot_scorecards --backfill-months 12

run: seed
	@echo ""
	@echo "JourneyHub demo on http://$(HOST):$(PORT)/  — sign in with password 'journeyhub' as:"
	@echo "  admin  (superuser, /admin/)      leader (CX leadership)"
	@echo "  olivia, omar (journey owners)    tess (olivia's team)    vic (viewer)"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

# Browser tests drive Debian's Chromium, the background-work test starts Debian's
# redis-server and the PostgreSQL tests a private cluster of Debian's postgresql:
# install them when missing (needs root, as in CI).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = "0" ]; then \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "The tests need Debian packages:$$missing (sudo apt-get install -y$$missing)"; exit 1; \
		fi; \
	fi

# The suite on the default SQLite, then again on PostgreSQL: a private cluster that
# tests/servers.py starts and stops. The second pass leaves out the tests that do not use
# the test database (browser; servers, postgres and redis start processes of their own),
# and the files whose outcome is Python's or the templates' alone, checked once on SQLite
# (the whole suite stays well inside 20 minutes on two cores):
# - the field-policy matrix (who may change which field: governance/field_policy.py);
# - TheyDo's schema validation and spreadsheet parsing (no SQL of their own);
# - the admin pages (Django's admin, ~3 min on PostgreSQL), error pages, CSP headers,
#   print view, Mermaid text and the content registry (rendering and declarations).
POSTGRES_PASS := -m "not browser and not servers and not postgres and not redis" \
	--ignore=tests/test_field_escalation.py --ignore=tests/test_theydo_validation.py \
	--ignore=tests/test_spreadsheets.py --ignore=tests/test_admin.py \
	--ignore=tests/test_error_pages.py --ignore=tests/test_csp.py --ignore=tests/test_print.py \
	--ignore=tests/test_mermaid.py --ignore=tests/test_content_registry.py

test: install lint migrations-check system-deps
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)
	$(BIN)/python -m tests.servers postgres -- $(BIN)/python -m pytest -n 2 $(POSTGRES_PASS) $(PYTEST_ARGS)

test-postgres: install system-deps
	$(BIN)/python -m tests.servers postgres -- $(BIN)/python -m pytest -n 2 $(POSTGRES_PASS) $(PYTEST_ARGS)

# issue #16's pages and API lists at 1,000 maps; BENCH_ARGS="--scale full" for 10,000
# maps. Writes benchmarks/RESULTS.md (the per-scale figures: benchmarks/results/).
bench: install
	$(BIN)/python benchmarks/run.py --write-results $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
