# The two commands: `make run` (the control plane, locally) and `make test` (the whole suite).
# Both install what they need on a fresh machine: a venv with pinned packages and Azurite from npm.

# The product targets Python 3.13 (what its Flex Consumption deployment runs). Found on PATH, or
# under pyenv (whose shims need PYENV_VERSION), or named with `make PYTHON=/path/to/python3.13`.
PYTHON ?= $(shell scripts/find-python.sh 3.13)
VENV := .venv
PY := $(VENV)/bin/python
MODE ?= auto
# The floor is the measured figure less a little headroom (see README, Contributing).
COVERAGE ?= --cov --cov-report=term:skip-covered --cov-fail-under=$(shell cat .coverage-floor 2>/dev/null || echo 0)

.PHONY: run test pytest types setup lint bench clean iac-lint contract browser

run: setup
	@MODE=$(MODE) bash scripts/run.sh

# The whole suite: lint, format, types, then every test against a private Azurite, with coverage.
test: setup lint types contract
	$(PY) -m sandbox.azurite -- $(PY) -m pytest $(COVERAGE) $(PYTEST_ARGS)

# Only the tests (a part of them with PYTEST_ARGS="tests/api -x"): quick while working.
pytest: setup
	$(PY) -m sandbox.azurite -- $(PY) -m pytest $(PYTEST_ARGS)

types: setup
	$(VENV)/bin/mypy

# Fleet-scale figures (not part of `make test`): N twins (default 1000), request cost at LARGE rows.
bench: setup
	$(PY) -m bench.run $(if $(N),--twins $(N)) $(if $(LARGE),--large $(LARGE))

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports  # the layer contracts in .importlinter

# checkov over infra/ (infra/.checkov.yaml: our checks in infra/checks, and why each skipped one
# does not fit). Its own venv: checkov pins its own Bicep parser, apart from the tests' pycep-parser.
IAC_VENV := .venv-iac
iac-lint: $(IAC_VENV)/.installed
	$(IAC_VENV)/bin/checkov --config-file infra/.checkov.yaml

$(IAC_VENV)/.installed: requirements-iac.txt
	@test "$(PYTHON)" != false || { echo 'make: Python 3.13 is needed (see above)' >&2; exit 1; }
	rm -rf $(IAC_VENV) && $(PYTHON) -m venv $(IAC_VENV)
	$(IAC_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-iac.txt
	touch $@

setup: $(VENV)/.installed node_modules/.installed browser

# Debian's chromium + chromium-driver for the dashboard's browser tests (a no-op when present).
browser:
	@bash scripts/install-browser.sh

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml sandbox/worker/function_rpc.proto
	@test "$(PYTHON)" != false || { echo 'make: Python 3.13 is needed (see above)' >&2; exit 1; }
	@# A venv left by another Python (an older checkout's 3.11) is replaced, never half-reused.
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -c 'from sandbox.worker.protos import compile_protos; print("compiled", compile_protos().name)'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) $(IAC_VENV) node_modules .pytest_cache __azurite_db* __blobstorage__ __queuestorage__

# The contract: openapi.yaml is valid OpenAPI 3.1 (openapi-spec-validator) and passes Redocly's
# recommended rules with 0 errors (docs/api.md). Schemathesis and a generated client run in the tests.
contract: setup
	$(VENV)/bin/openapi-spec-validator openapi.yaml
	node_modules/.bin/redocly lint openapi.yaml --format=stylish
