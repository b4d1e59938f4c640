# Two commands do all set-up: `make run` and `make test` create .venv from the requirements on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: help run live test lint clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 10

run: $(READY)  ## the chat, offline (flags: make run ARGS="--ttl 1h")
	@$(BIN)/python main.py $(ARGS)

live: $(READY)  ## the chat on real Bedrock (needs AWS credentials; flags in ARGS)
	@$(BIN)/python main.py --live $(ARGS)

# Bytecode is kept even where PYTHONDONTWRITEBYTECODE is set: without it each worker, and each Python a test starts,
# compiles the package and the tests again (seconds a run). __pycache__ is in .gitignore.
test: $(READY)  ## pytest on both cores, then lint
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n 2 --dist loadgroup  # two workers; tests that share a run stay in one (xdist_group)
	@$(MAKE) --no-print-directory lint

lint: $(READY)  ## ruff (checks and formatting) and mypy, without the tests
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy caching

$(READY): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed: found " + sys.version.split()[0] + "; set PYTHON=/path/to/python3.10+ and run make again.")'
	@echo "Setting up .venv (first run only): installing the pinned packages takes about a minute..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --editable .
	touch $(READY)

clean:  ## remove .venv and the tool caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
