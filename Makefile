# Everything sets up its own virtualenv on first use (pinned requirements), so a fresh clone needs only Python 3.11.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev
OUT ?= out/$(STACK)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: plan plan-all test unit bench mutate clean promtool

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## The offline plan of one stack: make plan [STACK=dev] [OUT=out/dev]
plan: $(VENV)/.installed
	$(PY) -m plan --stack $(STACK) --out $(OUT)

## Plans every Pulumi.<stack>.yaml into out/<stack> (fails on any invalid object)
plan-all: $(VENV)/.installed
	$(PY) -m plan --all

## promtool (rule unit tests) and amtool (Alertmanager config check) from Debian's `prometheus` and
## `prometheus-alertmanager` packages; installed when missing
promtool:
	command -v promtool >/dev/null || (apt-get update && apt-get install -y --no-install-recommends prometheus)
	command -v amtool >/dev/null || (apt-get update && apt-get install -y --no-install-recommends prometheus-alertmanager)

## The plan of every stack with validation (out/<stack>/), then the unit tests
test: $(VENV)/.installed promtool
	$(PY) -m plan --all
	$(PY) -m pytest -q -p no:cacheprovider tests

## Plan time per stack, and how it grows with the number of models
bench: $(VENV)/.installed
	$(PY) -m plan.bench

## Mutation testing of the unit tests (not in CI): a seeded sample of MUTANTS mutants per top-level folder of MUTATE,
## scored per folder with a 95% interval, stopped at 55 min. Survivors are listed; `make mutate
## MUTATE=spec/platform.py MUTANTS=0` tests every mutant of one file (docs/testing.md).
MUTATE ?= spec sizing components plan
MUTANTS ?= 15
mutate: $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-mutate.txt
	$(PY) -m tests.mutate --paths $(MUTATE) --sample $(MUTANTS)

clean:
	rm -rf out .pytest_cache
