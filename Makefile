# Two commands do all set-up: `make run` and `make test` create .venv from the requirements on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: run test lint clean

run: $(READY)
	$(BIN)/python main.py $(ARGS)

test: $(READY)
	$(BIN)/python -m pytest -n 2  # two workers: the suite is mostly Python-bound
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy caching

$(READY): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed: found " + sys.version.split()[0] + "; set PYTHON=/path/to/python3.10+ and run make again.")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --editable .
	touch $(READY)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
