# Everything sets up its own virtualenv on first use (pinned requirements), so a fresh clone needs only Python 3.11.
PYTHON ?= python3
VENV := .venv
SCAN_VENV := .venv-scan
PY := $(VENV)/bin/python
STACK ?= dev
OUT ?= out/$(STACK)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: plan plan-all test unit bench mutate clean promtool docs scan scan-venv

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

$(SCAN_VENV)/.installed: requirements-scan.txt
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	touch $@

## checkov in its own virtualenv (its pins conflict with the program's)
scan-venv: $(SCAN_VENV)/.installed

## checkov over every planned stack's manifests (run plan-all first); skips with reasons in security/checkov-skips.yaml
scan: $(VENV)/.installed $(SCAN_VENV)/.installed
	$(PY) -m plan.scan

## The plan of every stack with validation (out/<stack>/), the security scan of its manifests, then the unit tests
test: $(VENV)/.installed $(SCAN_VENV)/.installed promtool
	$(PY) -m plan --all
	$(PY) -m plan.scan
	$(PY) -m pytest -q -p no:cacheprovider tests

## docs/config.md and schema/stack.schema.json from the spec readers and spec/keydocs.py (a test keeps them current)
docs: $(VENV)/.installed
	$(PY) -m plan.configdocs

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
