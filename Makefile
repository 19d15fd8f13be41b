# One entry point for developers and CI (STYLE.md rule 11).
#   make demo   install into .venv and run the demo on embedded defaults
#   make check  install into .venv, then format check, lint, types and tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install demo check lint types test bench clean

$(BIN)/irthub: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@

install: $(BIN)/irthub

demo: install
	$(BIN)/irthub demo

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

types: install
	$(BIN)/mypy

test: install
	$(BIN)/pytest

check: lint types test

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
