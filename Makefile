# `make demo` and `make test` each build the virtual environment they need (.venv) from
# pyproject.toml (the package and its test extra) and requirements-dev.txt (lint, type and
# packaging tools), so both work on a fresh machine with only Python 3.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench vectors clean

$(STAMP): pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' -r requirements-dev.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python vectors/demo/run_demo.py

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check pgpverify tests vectors bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest --cov --cov-report=term

vectors: $(STAMP)
	$(BIN)/python vectors/generate.py vectors

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/worst_case.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage
