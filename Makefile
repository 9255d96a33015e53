# privops: two commands — `make run` starts the platform, `make test` checks everything.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.PHONY: run test lint typecheck unit docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,local]'
	@touch $(STAMP)

## Start the whole platform locally (PostgreSQL, broker, services); Ctrl-C stops everything.
run: $(STAMP)
	$(BIN)/privops up

## Lint, type checks and the whole test suite against a real PostgreSQL and a real broker.
test: $(STAMP) lint typecheck
	$(BIN)/privops docs --check
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy shared services sdk examples deploy bench

## Fast feedback: pure unit tests only (no database, no broker).
unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

## Regenerate the AsyncAPI document and event JSON Schemas under docs/.
docs: $(STAMP)
	$(BIN)/privops docs

## Benchmarks: infrastructure on free ports, every scenario, report + plots in bench/results/ (BENCH_ARGS=--quick …).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench $(BENCH_ARGS)

## Fault injection on the local stack (kill -9 each service and store, broker and PostgreSQL restarts) and the long
## fuzzing run; reports in tests/chaos/results/. Quick run: make chaos CHAOS_CONSENTS=1000 CHAOS_ERASURES=100.
.PHONY: chaos
chaos: $(STAMP)
	@status=0; \
	CHAOS_CONSENTS=$(or $(CHAOS_CONSENTS),10000) CHAOS_ERASURES=$(or $(CHAOS_ERASURES),1000) \
		$(BIN)/python -m tests.chaos || status=1; \
	PRIVOPS_FUZZ_EXAMPLES=1000 $(BIN)/pytest -q tests/hardening/test_fuzz.py || status=1; \
	exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
