# Two entry points for a fresh machine with Python 3.11+ and nothing else of ours:
#   make run   sets up the runtime environment and starts the embedded stack (`caseflow up`)
#   make test  sets up the development environment and runs lint, type checks and every test
# uv is bootstrapped into .tools/ so the machine needs nothing but python3.
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export VIRTUAL_ENV := $(abspath $(VENV))

.PHONY: run test lint typecheck pytest browser lock bench bench-all clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv>=0.5,<1"

$(VENV)/bin/python: | $(UV)
	$(UV) venv --quiet --python $(PYTHON) $(VENV)

# Locks are hash-pinned requirement files compiled by uv (see docs/decisions.md, "Locking").
.runtime-env: $(VENV)/bin/python requirements.lock pyproject.toml
	$(UV) pip sync --quiet requirements.lock
	$(UV) pip install --quiet --no-deps -e .
	@rm -f .dev-env; touch .runtime-env

.dev-env: $(VENV)/bin/python requirements-dev.lock pyproject.toml
	$(UV) pip sync --quiet requirements-dev.lock
	$(UV) pip install --quiet --no-deps -e .
	@rm -f .runtime-env; touch .dev-env

run: .runtime-env
	$(VENV)/bin/caseflow up

test: .dev-env lint typecheck pytest

lint: .dev-env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: .dev-env
	$(VENV)/bin/mypy

pytest: .dev-env browser
	$(VENV)/bin/pytest

# The browser tests drive Debian's Chromium (Playwright's own browser downloads are not used).
# As root on Debian it is installed here; elsewhere install it yourself, or those tests skip.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium fonts-wqy-zenhei >/dev/null; \
	  else echo "chromium not found: the browser tests will be skipped (apt-get install chromium)"; fi; }

# `make bench`: the store suite (about a minute). `make bench-all`: every suite (store, the
# eventsourcing library comparison, engine, projector, memory) into one JSON file and one table.
bench: .dev-env
	$(VENV)/bin/python -m benchmarks

bench-all: .dev-env
	$(VENV)/bin/python -m benchmarks --all

lock: $(UV)
	$(UV) pip compile pyproject.toml --universal --generate-hashes --python-version 3.11 -q -o requirements.lock
	$(UV) pip compile pyproject.toml --group dev --universal --generate-hashes --python-version 3.11 -q -o requirements-dev.lock

clean:
	rm -rf $(TOOLS) $(VENV) .runtime-env .dev-env .mypy_cache .ruff_cache .pytest_cache
