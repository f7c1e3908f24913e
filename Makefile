# Two commands for a newcomer: `make run` (the local shell on the demo organisation) and
# `make test` (the whole suite, on SQLite and, when PostgreSQL is installed, on PostgreSQL).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test lint clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/allybot shell --demo

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache --no-logo  # the rooms: [tool.importlinter] in pyproject.toml
	$(BIN)/mypy  # bot/ and storage/: [tool.mypy] in pyproject.toml
	$(BIN)/allybot check
	$(BIN)/pytest -q -n auto --dist worksteal  # a worker per core, own databases; idle ones take queued tests

clean:
	rm -rf $(VENV) data/demo.db* .pytest_cache .ruff_cache
