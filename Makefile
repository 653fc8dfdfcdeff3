# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test install install-dev lint typecheck migrations-check pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)
install-dev: $(DEVSTAMP)

## Install, migrate SQLite, load the demo when empty, serve on http://127.0.0.1:$${PORT:-8000}
run: install
	$(BIN)/carte run

## Lint, types, migrations, and the whole suite (SQLite, then PostgreSQL when DATABASE_URL is set)
test: install-dev lint typecheck migrations-check pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy carte bench

migrations-check:
	DATABASE_URL= $(BIN)/carte manage makemigrations --check --dry-run

pytest:
	DATABASE_URL= $(BIN)/pytest -n 2 --dist loadgroup
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "== database tests on $$(echo $$DATABASE_URL | sed 's|//[^@]*@|//***@|')"; \
		$(BIN)/pytest -n 2 --dist loadgroup -m "not browser"; \
	fi

bench: install-dev
	$(BIN)/carte bench seed --scale small
	$(BIN)/carte bench run

clean:
	rm -rf $(VENV) var build *.egg-info
