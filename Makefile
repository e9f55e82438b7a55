# Garde: `make demo` runs it with demo data on SQLite; `make test` runs the whole test suite.
PYTHON ?= $(shell scripts/find-python)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo serve test lint messages bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/garde demo
	$(BIN)/garde serve

serve: $(STAMP)
	$(BIN)/garde serve

test: $(STAMP)
	scripts/system-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# Refresh the French catalogue after changing strings (then translate the new entries in django.po).
messages: $(STAMP)
	cd src/garde && ../../$(BIN)/django-admin makemessages -l fr --no-obsolete --settings=garde.settings
	cd src/garde && ../../$(BIN)/django-admin compilemessages -l fr --settings=garde.settings

bench: $(STAMP)
	$(BIN)/python bench/cell_pages.py

clean:
	rm -rf $(VENV) build src/*.egg-info
