# `make demo` and `make test` each build the virtual environment they need (.venv) from
# pyproject.toml (the package and its test extra) and requirements-dev.txt (lint, type and
# packaging tools), so both work on a fresh machine with only Python 3.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the Pythons the package supports: `make matrix` runs the sdist's suite on each one found
# (a missing one is skipped with a message, or fails under CI=true)
PYTHONS ?= 3.10 3.11 3.12 3.13
# hypothesis examples per property test in the matrix runs (the default run uses 150)
MATRIX_EXAMPLES ?= 40
SOURCES := pgpverify tests vectors bench tools
# the Python of $(VENV) (expanded when used, after the venv exists)
VENV_PYTHON = $(shell $(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')

.PHONY: demo test ci matrix-others lint format-check typecheck unit oracles dist matrix bench vectors clean

$(STAMP): pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' -r requirements-dev.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python vectors/demo/run_demo.py

test: lint format-check typecheck unit

# What .ci/run runs: `make test` on this venv's Python (with coverage), then the build,
# twine check, and the sdist's suite in a fresh venv for every other supported Python.
ci: test matrix-others

matrix-others: $(STAMP)
	$(MAKE) matrix PYTHONS="$(filter-out $(VENV_PYTHON),$(PYTHONS))"

lint: $(STAMP)
	$(BIN)/ruff check $(SOURCES)

# Part of `test`: the tree is formatted with `ruff format`.
format-check: $(STAMP)
	$(BIN)/ruff format --check $(SOURCES)

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest --cov --cov-report=term

# gpgv and sqv on every vector (skipped when they are not installed, unless CI=true)
oracles: $(STAMP)
	$(BIN)/pytest -m oracle -p no:cacheprovider

# build the sdist and the wheel into dist/, `twine check --strict`, and check their contents
dist: $(STAMP)
	$(BIN)/python tools/distcheck.py

# dist, then for each of $(PYTHONS): unpack the sdist, fresh venv, pip install .[test], pytest
matrix: $(STAMP)
	$(BIN)/python tools/distcheck.py --examples $(MATRIX_EXAMPLES) --python $(PYTHONS)

vectors: $(STAMP)
	$(BIN)/python vectors/generate.py vectors

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/worst_case.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/check.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage dist build
