# The two commands: `make run` (the control plane, locally) and `make test` (the whole suite).
# Both install what they need on a fresh machine: a venv with pinned packages and Azurite from npm.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
MODE ?= auto

.PHONY: run test setup lint bench clean

run: setup
	@MODE=$(MODE) bash scripts/run.sh

test: setup
	$(PY) -m sandbox.azurite -- $(PY) -m pytest $(PYTEST_ARGS)

# Fleet-scale figures (not part of `make test`): N twins (default 1000), request cost at LARGE rows.
bench: setup
	$(PY) -m bench.run $(if $(N),--twins $(N)) $(if $(LARGE),--large $(LARGE))

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules .pytest_cache __azurite_db* __blobstorage__ __queuestorage__
