# ketapredict -- `make run` builds everything and runs the pipeline; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export MLFLOW_DISABLE_TELEMETRY := true
export DVC_NO_ANALYTICS := 1
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test ui bench lint format clean

# The venv is rebuilt only when the dependency pins change; re-running reuses it.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/dvc repro
	@echo "Done. Open the MLflow UI with: make ui"

test: $(STAMP)
	$(BIN)/python -m pytest

ui: $(STAMP)
	@echo "MLflow UI: http://127.0.0.1:5000/#/experiments/1/runs?workflowType=machine_learning"
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db --host 127.0.0.1 --port 5000

# Start-up, the scoring and generator ratios and contention (about 15 min), each against its
# reference measured in the same run; results in benchmarks/results/, the README's performance
# table rewritten from them. The others: make bench BENCH="stages plan benefit_learners".
BENCH ?= score generate contention
bench: $(STAMP)
	@mkdir -p benchmarks/results
	@for b in $(BENCH); do \
		echo "== benchmarks/bench_$$b.py"; \
		$(BIN)/python benchmarks/bench_$$b.py > benchmarks/results/bench_$$b.json || exit 1; \
	done
	@$(BIN)/python benchmarks/readme_table.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
