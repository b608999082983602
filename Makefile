# Portail Famille — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
PORTAIL_DB ?= data/portail.duckdb
export PORTAIL_DB

.PHONY: run test demo bench clean

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

## run: install, create the demo town's database on first start, serve on 127.0.0.1:$(PORT)
run: $(VENV)/.installed-runtime
	$(PY) -m lib.services.demo --if-missing
	$(VENV)/bin/streamlit run server.py --server.address 127.0.0.1 --server.port $(PORT)

## test: install what the tests need and run them all
test: $(VENV)/.installed-dev
	$(PY) -m pytest

## demo: rebuild the demo database at $(PORTAIL_DB) (refused while a server holds the file)
demo: $(VENV)/.installed-runtime
	$(PY) -m lib.services.demo

clean:
	rm -rf $(VENV) .pytest_cache
