# One entry point for developers and CI (STYLE.md rule 11).
#   make demo    install into .venv and run the demo on embedded defaults
#   make check   install into .venv with the test tools, then format check,
#                lint, layer contracts, strict types and the test suite
# Versions come from requirements/constraints.txt, so a new release of a tool
# cannot break the checks; `make constraints` refreshes it deliberately.
PYTHON      ?= python3
VENV        ?= .venv
BIN         := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
PIP         := $(BIN)/pip install --quiet --constraint $(CONSTRAINTS)

.PHONY: install install-check demo check lint types test bench constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-check: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) -e ".[test,postgresql]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-check: $(VENV)/.installed-check

demo: install
	$(BIN)/irthub demo

lint: install-check
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

types: install-check
	$(BIN)/mypy

test: install-check
	$(BIN)/pytest

check: lint types test

bench: install-check
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script; done

constraints: install-check
	@{ sed -n '1,2p' $(CONSTRAINTS); $(BIN)/pip freeze --exclude-editable; } > $(CONSTRAINTS).new
	@mv $(CONSTRAINTS).new $(CONSTRAINTS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
