# `make run` and `make test` set everything up from a clean clone: .venv, the pinned torch, the app.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP_FLAGS := --disable-pip-version-check -q

.PHONY: run test lint format bench clean setup

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(BIN)/python -m pip install $(PIP_FLAGS) -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/xray-gui $(shell test -d resources/demo && echo resources/demo)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python benchmarks/load_and_display.py
	$(BIN)/python benchmarks/synth_speed.py
	$(BIN)/python benchmarks/detection.py
	$(BIN)/python benchmarks/pipeline.py
	$(BIN)/python benchmarks/synth_realism.py  # needs ../shared/data/sixray beside the checkout

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
