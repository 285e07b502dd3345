# Two commands on a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup run test lint format bench clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Run the bot: SQLite in ./policybot.db, alerts on the console, the example watch list.
run: setup
	POLICYBOT_WATCHLIST="$${POLICYBOT_WATCHLIST:-examples/watches.toml}" $(BIN)/policybot run

## Lint, type-check and run the whole test suite.
test: setup lint
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check bot adapters tests bench
	$(BIN)/ruff format --check bot adapters tests bench
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format bot adapters tests bench
	$(BIN)/ruff check --fix bot adapters tests bench

## The message ids in the code, as a template for the catalogs (docs/hosting.md, "Languages").
messages: setup
	$(BIN)/pybabel extract --no-default-keywords -k msg -k nmsg:1,2 --no-location \
		--sort-output -o policybot.pot bot adapters

bench: setup
	$(BIN)/python bench/hub_check.py --targets 1000

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache *.egg-info
