# `make demo` and `make test` are the quick start; both run the idempotent scripts/setup.sh first.
.DEFAULT_GOAL := help
VENV := .venv/bin
MANAGE := $(VENV)/python manage.py
BIND ?= 127.0.0.1:8000

.PHONY: help setup demo test lint format bench bench-pos bench-merchant bench-settlement bench-notices messages cluster-test

help:
	@echo "make demo   set everything up, load the demo data and serve http://$(BIND)"
	@echo "make test   set everything up and run the whole suite"
	@echo "make lint   ruff check, format check and the import-linter layer contracts"
	@echo "make bench  ledger micro-benchmark"
	@echo "make cluster-test  nginx, two app servers, PgBouncer, a replica: payments while one server dies"

setup:
	@bash scripts/setup.sh

demo: setup
	@$(MANAGE) collectstatic -v 0 --no-input
	@$(MANAGE) seed_demo --json demo-logins.json
	@bash scripts/serve.sh $(BIND)

test:
	@WITH_BROWSER=1 bash scripts/setup.sh
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/lint-imports
	$(VENV)/pytest

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/lint-imports

format:
	$(VENV)/ruff check --fix .
	$(VENV)/ruff format .

bench: setup
	$(VENV)/python scripts/bench_ledger.py

messages:
	$(MANAGE) makemessages -l ja --ignore=.venv --ignore=static/vendor

bench-pos: setup
	$(VENV)/python scripts/bench_pos_api.py

bench-merchant: setup
	$(VENV)/python scripts/bench_merchant_admin.py

bench-settlement: setup
	$(VENV)/python scripts/bench_settlement.py

bench-notices: setup
	$(VENV)/python scripts/bench_notices.py

# nginx + two gunicorn app servers + PgBouncer + a primary and a streaming replica, all on
# loopback under a temp dir; real payments while a CSV export runs and one app server is killed.
cluster-test: setup
	bash scripts/cluster.sh test; status=$$?; bash scripts/cluster.sh down; exit $$status
