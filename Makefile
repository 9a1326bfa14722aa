# `make run` and `make test` set everything up from a clean clone: .venv, the pinned torch, the app.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP_FLAGS := --disable-pip-version-check -q

.PHONY: run test lint format bench clean setup demo-scans demo-model

# The demo: scans shipped in resources/demo/, a model trained on simulator data of other seeds.
DEMO_SEED := 20261124
DEMO_DATA ?= runs/demo-data
DEMO_TRAIN_SCANS ?= 3534
DEMO_EXTRA ?= runs/demo-data-extra# more bags (seed 2020) for the anomaly classifiers only
DEMO_EXTRA_SCANS ?= 4500
DEMO_HOSTS ?= toaster mobile# one anomaly classifier per host class, see the model card
DEMO_MODEL := resources/models/demo.xsb

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(BIN)/python -m pip install $(PIP_FLAGS) -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/xray-gui $(if $(wildcard $(DEMO_MODEL)),--model $(DEMO_MODEL)) \
		$(if $(wildcard resources/demo/images),resources/demo/images)

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
	$(BIN)/python benchmarks/gui_latency.py
	$(BIN)/python benchmarks/synth_realism.py  # needs ../shared/data/sixray beside the checkout

demo-scans: $(STAMP)
	rm -rf resources/demo
	$(BIN)/xray-engine synth --out resources/demo --n 24 --seed $(DEMO_SEED) --workers 2 \
		--config configs/synth/demo.yaml

# One command from nothing to resources/models/demo.xsb; run it again to continue training.
# The detector first learns at 240×320 for an epoch (fast on a CPU), then at native 640×480.
demo-model: $(STAMP)
	test -f $(DEMO_DATA)/train.json || ( \
		$(BIN)/xray-engine synth --out $(DEMO_DATA) --n $(DEMO_TRAIN_SCANS) --seed 2019 \
			--workers 2 && $(BIN)/xray-engine split $(DEMO_DATA) )
	test -f runs/demo_warmup/last.pt || $(BIN)/xray-engine train-detector \
		--config configs/detection/cpu_small.yaml model.name=maskrcnn_mobilenet_v3_large_fpn \
		solver.epochs=1 run.name=demo_warmup data.train=$(DEMO_DATA) run.out=runs
	$(BIN)/xray-engine train-detector --config configs/detection/demo.yaml \
		$(if $(wildcard runs/demo_detector/last.pt),--resume) data.train=$(DEMO_DATA) run.out=runs \
		model.init_from=runs/demo_warmup/last.pt
	test -f $(DEMO_EXTRA)/annotations.json || $(BIN)/xray-engine synth --out $(DEMO_EXTRA) \
		--n $(DEMO_EXTRA_SCANS) --seed 2020 --workers 2
	test -f $(DEMO_EXTRA)/classifier_train.json || $(BIN)/xray-engine merge \
		$(DEMO_DATA)/train.json $(DEMO_EXTRA) --out $(DEMO_EXTRA)/classifier_train.json
	for host in $(DEMO_HOSTS); do \
		$(BIN)/xray-engine train-classifier --config configs/classification/demo.yaml \
			$$(test -f runs/demo_anomaly_$$host/last.pt && echo --resume) \
			data.train=$(DEMO_EXTRA)/classifier_train.json data.val=$(DEMO_DATA)/val.json \
			"data.categories=[$$host]" run.name=demo_anomaly_$$host run.out=runs || exit 1; \
	done
	mkdir -p resources/models
	$(BIN)/xray-engine bundle --detector runs/demo_detector/best.pt --out $(DEMO_MODEL) --name demo \
		$(foreach host,$(DEMO_HOSTS),--classifier runs/demo_anomaly_$(host)/best.pt)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
