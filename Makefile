# `make run` and `make test` set everything up from a clean clone: .venv, the pinned torch, the app.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP_FLAGS := --disable-pip-version-check -q

.PHONY: run test lint format bench clean setup demo-scans demo-model

# The demo: scans shipped in resources/demo/, a model trained on simulator data of other seeds
# and on simulated objects projected into real benign scans (resources/models/README.md).
DEMO_SEED := 20261124
DEMO_SHARED ?= ../shared/data# real benign bags: sixray_benign/ and its backgrounds list
DEMO_DATA ?= runs/demo-v3-sim# simulator-v2.2 bags (seed DEMO_SIM_SEED)
DEMO_SIM_SEED := 2061
DEMO_TRAIN_SCANS ?= 1400
DEMO_TIP ?= runs/demo-v2-tip# objects projected into real backgrounds (seed 2042)
DEMO_TIP_PER_BACKGROUND ?= 5
DEMO_EXCLUDED := configs/data/sixray_backgrounds_excluded.txt# backgrounds holding our classes
DEMO_MIX ?= runs/demo-v3# the merged train/val files the detector reads
DEMO_V2 := 7a01cac# the commit of demo model v2, whose detector and judges start v3
DEMO_INIT ?= runs/demo-v2-shipped.xsb# empty: train a detector and judges from scratch instead (~4 h more)
DEMO_MINUTES ?= 75# the detector's fine-tuning budget (its learning-rate drops follow it)
DEMO_EXTRA ?= runs/demo-v3-extra# more simulator bags (seed 2043) for judges from scratch only
DEMO_EXTRA_SCANS ?= 1600
DEMO_HOSTS ?= toaster mobile# judges trained from scratch (the others stay at chance: model card)
DEMO_TARGET_FPR ?= 0.03# benign objects flagged on validation, after calibration
DEMO_DETECTION_THRESHOLD ?= 0.85# chosen on held-out real backgrounds (scripts/detection_threshold.py)
DEMO_MODEL := resources/models/demo.xsb
DEMO_SYNTH := --config configs/synth/sim_v2_2.yaml# the simulator settings the model was trained on

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
# Detector, first stage: demo model v2's detector (DEMO_INIT, taken from git), or one trained from
# scratch on simulated bags (an epoch at 240×320, then 640×480); second stage: fine-tuned on
# simulator-v2.2 bags plus objects projected into real backgrounds
# (configs/detection/demo_finetune.yaml, DEMO_MINUTES). Judges: v2's (DEMO_INIT), recalibrated
# on the new validation bags, or trained from scratch for DEMO_HOSTS.
demo-model: $(STAMP)
	test -f $(DEMO_DATA)/train.json || ( \
		$(BIN)/xray-engine synth --out $(DEMO_DATA) --n $(DEMO_TRAIN_SCANS) --seed $(DEMO_SIM_SEED) \
			--workers 2 $(DEMO_SYNTH) && $(BIN)/xray-engine split $(DEMO_DATA) )
	test -f $(DEMO_TIP)/train.json || ( mkdir -p $(DEMO_TIP) && \
		awk -v dir=$(abspath $(DEMO_SHARED))/sixray_benign/ 'FNR == NR { sub(/#.*/, ""); \
			if (NF) skip[$$1] = 1; next } NF && !($$1 in skip) { print dir $$1 }' \
			$(DEMO_EXCLUDED) $(DEMO_SHARED)/sixray_benign_backgrounds.txt > $(DEMO_TIP).txt && \
		$(BIN)/xray-engine synth --out $(DEMO_TIP) --backgrounds $(DEMO_TIP).txt --seed 2042 \
			--n $$(( $$(wc -l < $(DEMO_TIP).txt) * $(DEMO_TIP_PER_BACKGROUND) )) --workers 2 && \
		$(BIN)/xray-engine split $(DEMO_TIP) --group-by background --fractions 0.7,0.15,0.15 )
	test -f $(DEMO_MIX)/val.json || ( \
		$(BIN)/xray-engine merge $(DEMO_DATA)/train.json $(DEMO_TIP)/train.json \
			--out $(DEMO_MIX)/train.json && \
		$(BIN)/xray-engine merge $(DEMO_DATA)/val.json $(DEMO_TIP)/val.json --out $(DEMO_MIX)/val.json )
ifeq ($(DEMO_INIT),)
	test -f runs/demo_warmup/last.pt || $(BIN)/xray-engine train-detector \
		--config configs/detection/cpu_small.yaml model.name=maskrcnn_mobilenet_v3_large_fpn \
		solver.epochs=1 run.name=demo_warmup data.train=$(DEMO_DATA) run.out=runs
	$(BIN)/xray-engine train-detector --config configs/detection/demo.yaml \
		$(if $(wildcard runs/demo_detector/last.pt),--resume) data.train=$(DEMO_DATA) run.out=runs \
		model.init_from=runs/demo_warmup/last.pt
	$(eval DEMO_STAGE1 := runs/demo_detector/best.pt)
else
	test -f $(DEMO_INIT) || ( git show $(DEMO_V2):resources/models/demo.xsb > $(DEMO_INIT).tmp && \
		mv $(DEMO_INIT).tmp $(DEMO_INIT) )
	$(eval DEMO_STAGE1 := $(DEMO_INIT))
endif
	$(BIN)/xray-engine train-detector --config configs/detection/demo_finetune.yaml \
		$(if $(wildcard runs/demo_detector_v3/last.pt),--resume) run.out=runs \
		data.train=$(DEMO_MIX)/train.json data.val=$(DEMO_MIX)/val.json \
		model.init_from=$(DEMO_STAGE1) run.name=demo_detector_v3 solver.max_minutes=$(DEMO_MINUTES)
ifeq ($(DEMO_INIT),)
	test -f $(DEMO_EXTRA)/annotations.json || $(BIN)/xray-engine synth --out $(DEMO_EXTRA) \
		--n $(DEMO_EXTRA_SCANS) --seed 2043 --workers 2 $(DEMO_SYNTH)
	test -f $(DEMO_MIX)/judges_train.json || $(BIN)/xray-engine merge $(DEMO_DATA)/train.json \
		$(DEMO_TIP)/train.json $(DEMO_EXTRA) --out $(DEMO_MIX)/judges_train.json
	for host in $(DEMO_HOSTS); do \
		$(BIN)/xray-engine train-classifier --config configs/classification/demo.yaml \
			$$(test -f runs/demo_judge_$$host/last.pt && echo --resume) \
			data.train=$(DEMO_MIX)/judges_train.json data.val=$(DEMO_MIX)/val.json \
			"data.categories=[$$host]" run.name=demo_judge_$$host run.out=runs || exit 1; \
	done
	$(eval DEMO_JUDGES := $(foreach host,$(DEMO_HOSTS),--classifier runs/demo_judge_$(host)/best.pt))
else
	$(eval DEMO_JUDGES := --classifier $(DEMO_INIT))
endif
	mkdir -p resources/models
	$(BIN)/xray-engine bundle --detector runs/demo_detector_v3/best.pt --out runs/demo-v3.xsb \
		--name demo --detection-threshold $(DEMO_DETECTION_THRESHOLD) $(DEMO_JUDGES)
	$(BIN)/xray-engine calibrate runs/demo-v3.xsb --data $(DEMO_MIX)/val.json \
		--target-fpr $(DEMO_TARGET_FPR) --out $(DEMO_MODEL)

# `make learnability`: can a judge learn a class from the product designs? One laptop or iron per
# simulated bag (configs/synth/learnability.yaml), LEARN_HOLD_OUT designs of each class kept out
# of training (`split --hold-out-designs`), the demo judge recipe from scratch per class within
# LEARN_MINUTES, then ROC AUC on the test split (seen designs) and on the unseen designs.
# Run it again to continue after an interruption. Results: $(LEARN_OUT)/eval_*.json.
# Without clutter (docs/learnability.md): LEARN_OUT=runs/learn_clean
# LEARN_CONFIG=configs/synth/learnability_clean.yaml LEARN_HOSTS=laptop LEARN_BAGS=1600
# LEARN_SEED=2051 LEARN_MINUTES=15 LEARN_EPOCHS=20. LEARN_JUDGE changes the demo judge recipe:
# the dual channels at 352 px, where a laptop's crop is not shrunk (docs/learnability.md: 0.80 against
# 0.73 at the demo's 192 px); LEARN_JUDGE= is the demo recipe of the earlier figures.
LEARN_JUDGE ?= crops.mode=dual model.input_size=352 data.preload=true
# test-time views (README, "model.views"): the CPU recipe trains with one and is measured with
# LEARN_VIEWS (8 validations would cost 8× each epoch); the GPU recipe validates with them too
LEARN_VIEWS ?= 8
LEARN_OUT ?= runs/learnability
LEARN_BAGS ?= 3000
LEARN_HOSTS ?= laptop iron
LEARN_HOLD_OUT ?= 3
LEARN_MINUTES ?= 20
LEARN_EPOCHS ?= 12
LEARN_SEED ?= 2050
LEARN_CONFIG ?= configs/synth/learnability.yaml

.PHONY: learnability
learnability: $(STAMP)
	test -f $(LEARN_OUT)/data/train.json || ( \
		$(BIN)/xray-engine synth --out $(LEARN_OUT)/data --n $(LEARN_BAGS) --seed $(LEARN_SEED) \
			--workers 2 --config $(LEARN_CONFIG) && \
		$(BIN)/xray-engine split $(LEARN_OUT)/data --fractions 0.7,0.15,0.15 \
			--hold-out-designs $(LEARN_HOLD_OUT) )
	for host in $(LEARN_HOSTS); do \
		test -f $(LEARN_OUT)/judge_$$host/done || { \
		$(BIN)/xray-engine train-classifier --config configs/classification/demo.yaml \
			$$(test -f $(LEARN_OUT)/judge_$$host/last.pt && echo --resume) \
			data.train=$(LEARN_OUT)/data/train.json data.val=$(LEARN_OUT)/data/val.json \
			"data.categories=[$$host]" data.min_visibility=2.0 solver.max_minutes=$(LEARN_MINUTES) \
			solver.epochs=$(LEARN_EPOCHS) $(LEARN_JUDGE) \
			run.name=judge_$$host run.out=$(LEARN_OUT) && touch $(LEARN_OUT)/judge_$$host/done; \
		} || exit 1; \
		for split in test test_unseen_designs; do \
			$(BIN)/xray-engine eval-classifier --checkpoint $(LEARN_OUT)/judge_$$host/best.pt \
				--data $(LEARN_OUT)/data/$$split.json $(if $(LEARN_VIEWS),--views $(LEARN_VIEWS)) \
				--out $(LEARN_OUT)/eval_$${host}_$$split.json || exit 1; \
		done; \
	done

# `make gpu-model`: the demo model's recipe on one GPU (an H200 with 16 cores) in 9 minutes of
# wall time all told: synthesis, split, Mask R-CNN R50-FPN and a judge per class, evaluation,
# calibration (scripts/gpu_model.py) into GPU_OUT (runs/gpu): gpu.xsb, summary.json, summary.md.
# GPU_OUT must be new or empty. Empty variables keep the script's defaults (--help);
# GPU_TINY=1 runs the whole chain on the CPU in a few minutes.
# Where no venv can be made (a GPU machine with torch but no registry): GPU_PYTHON=python3.
GPU_PYTHON ?= $(BIN)/python
GPU_OUT ?=
GPU_BUDGET_MIN ?=
GPU_BAGS ?=
GPU_TIP_BAGS ?=
GPU_BACKGROUNDS ?=# a folder or list of real backgrounds, never the eval list; none: no projection
GPU_DEVICE ?= auto
GPU_TINY ?=
GPU_ARGS ?=# any other option of scripts/gpu_model.py --help

.PHONY: gpu-model
gpu-model: $(if $(filter $(BIN)/python,$(GPU_PYTHON)),$(STAMP))
	$(GPU_PYTHON) scripts/gpu_model.py --device $(GPU_DEVICE) $(if $(GPU_TINY),--tiny) \
		$(if $(GPU_OUT),--out $(GPU_OUT)) $(if $(GPU_BUDGET_MIN),--budget-min $(GPU_BUDGET_MIN)) \
		$(if $(GPU_BAGS),--bags $(GPU_BAGS)) $(if $(GPU_TIP_BAGS),--tip-bags $(GPU_TIP_BAGS)) \
		$(if $(GPU_BACKGROUNDS),--backgrounds $(GPU_BACKGROUNDS)) $(GPU_ARGS)

# `make gpu-learnability`: `make learnability` on one GPU in GPU_BUDGET_MIN (8.4) minutes: the
# LEARN_HOSTS judges with LEARN_JUDGE's changes (dual channels, 352 px, crops preloaded), no
# detector (gpu_model.py --judges-only), on LEARN_CONFIG's bags. GPU_OUT (default runs/gpu_learn) must be new or empty.
GPU_LEARN_BAGS ?= 12000
comma := ,
space := $(subst ,, )

.PHONY: gpu-learnability
gpu-learnability: $(if $(filter $(BIN)/python,$(GPU_PYTHON)),$(STAMP))
	$(GPU_PYTHON) scripts/gpu_model.py --judges-only --classes $(subst $(space),$(comma),$(strip $(LEARN_HOSTS))) \
		--synth-config $(LEARN_CONFIG) --backgrounds none --hold-out-designs $(LEARN_HOLD_OUT) \
		$(if $(GPU_TINY),--tiny,--bags $(GPU_LEARN_BAGS)) --device $(GPU_DEVICE) \
		--out $(or $(GPU_OUT),$(if $(GPU_TINY),runs/gpu_learn_tiny,runs/gpu_learn)) \
		--budget-min $(or $(GPU_BUDGET_MIN),8.4) $(foreach o,$(LEARN_JUDGE),--judge-set $(o)) \
		--judge-set data.min_visibility=2.0 --judge-set run.eval_every=6 \
		$(if $(LEARN_VIEWS),--judge-set model.views=$(LEARN_VIEWS)) $(GPU_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

# `make package`: a frozen one-folder app without Python (dist/xray-screening/) and a .deb of it
# (dist/xray-screening_<version>_<arch>.deb); `make package-test` runs them without Python and
# compares them with the development install. See packaging/README.md.
PACKAGE_MODEL ?= $(DEMO_MODEL)
PACKAGE_STAMP := $(VENV)/.packaging-installed

.PHONY: package package-test

$(PACKAGE_STAMP): $(STAMP) packaging/requirements.txt
	$(BIN)/python -m pip install $(PIP_FLAGS) -r packaging/requirements.txt
	@touch $(PACKAGE_STAMP)

package: $(PACKAGE_STAMP)
	$(BIN)/python packaging/build.py --model $(PACKAGE_MODEL)

package-test: $(STAMP)
	$(BIN)/python packaging/smoke_test.py

# `make test-fast`: the suite without the tests marked slow (over ~2 s each), for quick checks,
# in two processes a test file each (67 s against 108 s in one, 2 cores). `make test` stays in
# one process: the GUI tests' timings are not loaded by a second suite there.
.PHONY: test-fast
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadfile
