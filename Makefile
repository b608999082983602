# Portail Famille — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
PORTAIL_DB ?= data/portail.duckdb
export PORTAIL_DB

.PHONY: run test test-postgresql test-fast lint demo bench load backup restore clean lighthouse system-packages cluster cluster-stop

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changed.
$(VENV)/.installed-runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-runtime

## run: install, create the demo town's database on first start, serve on 127.0.0.1:$(PORT). With
## PORTAIL_MODE=production no demo is built and the server refuses demo data or settings (python -m lib.services.setup)
run: $(VENV)/.installed-runtime
	$(PY) -m lib.tools.demo --if-missing
	PORTAIL_PUBLIC_URL="$${PORTAIL_PUBLIC_URL:-http://127.0.0.1:$(PORT)}" $(VENV)/bin/streamlit run server.py --server.address 127.0.0.1 --server.port $(PORT)

## cluster: REPLICAS (default 2) servers behind HAProxy on CLUSTER_PORT (default 8501), on PostgreSQL:
## PORTAIL_DB if it is a postgresql:// URL, else a local server in .cluster/ (PG_PORT); the demo town is built
## there if empty. Runs in the background (logs in .cluster/); `make cluster-stop` ends it.
REPLICAS ?= 2
CLUSTER_PORT ?= 8501
cluster: $(VENV)/.installed-runtime
	REPLICAS=$(REPLICAS) CLUSTER_PORT=$(CLUSTER_PORT) $(PY) -m lib.tools.cluster start

## cluster-stop: stop what `make cluster` started (servers, HAProxy, the local PostgreSQL)
cluster-stop:
	$(PY) -m lib.tools.cluster stop

## system-packages: the Debian packages the tests need (chromium, emoji font, haproxy, openssl)
system-packages:
	.ci/packages

# The tests run in parallel (pytest-xdist): one worker per core, at most 4 (WORKERS=1 for one). A test
# file stays on one worker (its module fixtures are built once) and the files go out in their order, so
# the long browser files start first instead of ending the run.
WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n < 4 ? n : 4 )))
PARALLEL = -n $(WORKERS) --dist loadfile --no-loadscope-reorder

# The suites that run a second time on PostgreSQL (a server the test session starts itself).
POSTGRESQL_SUITES ?= tests/store tests/services tests/web

## test: install what the tests need, check the code (lint), run every test on DuckDB, then the store,
## service and web suites again on PostgreSQL (WORKERS in parallel)
test: lint system-packages
	$(PY) -m pytest $(PARALLEL)
	PORTAIL_TEST_ENGINE=postgresql $(PY) -m pytest $(PARALLEL) $(POSTGRESQL_SUITES)

## test-postgresql: the store, service and web suites on PostgreSQL only (while working)
test-postgresql: $(VENV)/.installed-dev system-packages
	PORTAIL_TEST_ENGINE=postgresql $(PY) -m pytest $(PARALLEL) $(POSTGRESQL_SUITES)

## lint: the code's habits, checked before any test runs: ruff (lint and format) and mypy (lib/domain strict)
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## test-fast: the tests without the browser and the slow ones (no Debian packages needed), while working
test-fast: lint
	$(PY) -m pytest $(PARALLEL) -m "not browser and not slow"

## demo: rebuild the demo database at $(PORTAIL_DB) (refused while a server holds the file)
demo: $(VENV)/.installed-runtime
	$(PY) -m lib.tools.demo

## bench: build a city in a temporary directory (SCALE=town|city|paris, default city) and time it; ENGINE=postgresql:
## the same on PostgreSQL (a local server, or PORTAIL_DB's if a postgresql:// URL) into bench/RESULTS-postgresql*.md
SCALE ?= city
ENGINE ?= duckdb
BENCH_NAME = $(if $(filter postgresql,$(ENGINE)),RESULTS-postgresql,RESULTS)
RESULTS = $(if $(filter city,$(SCALE)),bench/$(BENCH_NAME).md,bench/$(BENCH_NAME)-$(SCALE).md)
LOAD_RESULTS = $(if $(filter city,$(SCALE)),bench/LOAD.md,bench/LOAD-$(SCALE).md)
bench: $(VENV)/.installed-dev
	$(PY) -m bench.run --scale "$(SCALE)" --engine "$(ENGINE)" --output $(RESULTS)

## load: many families at once. First through the services on a city database (SCALE, THREADS; BROWSERS
## Chromium sessions, 0 by default: on two cores they mostly measure Chromium), then the real server driven
## at Streamlit's protocol level (bench/wsload.py): FAMILIES at once clicking without pause for LOAD_SECONDS,
## on SETUPS (duckdb: one process; postgresql: one process; cluster: 2 replicas behind HAProxy), into bench/LOAD.md
THREADS ?= 200
BROWSERS ?= 0
FAMILIES ?= 10,50,100
LOAD_SECONDS ?= 60
SETUPS ?= duckdb,postgresql,cluster
load: $(VENV)/.installed-dev
	$(PY) -m bench.load --scale "$(SCALE)" --threads $(THREADS) --browsers $(BROWSERS) --output $(LOAD_RESULTS)
	$(PY) -m bench.wsload --families "$(FAMILIES)" --seconds $(LOAD_SECONDS) --setups "$(SETUPS)" --output $(LOAD_RESULTS)

## lighthouse: Lighthouse's mobile profile (slow 4G) on the login page and the family pages, logged in
## (a temporary demo town; LIGHTHOUSE_RUNS per page, median) into bench/LIGHTHOUSE.md
LIGHTHOUSE_RUNS ?= 3
LIGHTHOUSE_SECTION ?= Latest run
bench/node_modules/.installed: bench/package.json bench/package-lock.json
	cd bench && npm ci --ignore-scripts --no-audit --no-fund
	touch $@
lighthouse: $(VENV)/.installed-dev bench/node_modules/.installed system-packages
	$(PY) -m bench.lighthouse --runs $(LIGHTHOUSE_RUNS) --section "$(LIGHTHOUSE_SECTION)" --output bench/LIGHTHOUSE.md

## backup: a verified backup of $(PORTAIL_DB) (+ manifest + checksum) into $${PORTAIL_BACKUP_DIR:-backups}/; while
## a server holds the file, taken online by the server on 127.0.0.1:$(PORT) (POST /admin/sauvegarde, backup token).
## PORTAIL_DB=postgresql://…: pg_dump -Fc while the replicas serve, restored into a scratch database to be checked
backup: $(VENV)/.installed-runtime
	$(PY) -m lib.tools.backup save --url http://127.0.0.1:$(PORT)

## restore: FILE=backups/portail-….duckdb make restore (verified whole first; the replaced file is kept beside it;
## refused while a server holds the file). FILE=….pgdump on PostgreSQL: restored into a new database, checked, then
## renamed in place of the live one (kept as <name>_replaced_…); refused while replicas are connected unless FORCE=1
restore: $(VENV)/.installed-runtime
	$(PY) -m lib.tools.backup restore "$(FILE)" $(if $(FORCE),--force)

clean:
	rm -rf $(VENV) .pytest_cache
