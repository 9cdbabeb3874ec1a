# Quick start: `make demo` and `make test`. Each creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test setup clean bench

$(STAMP): pyproject.toml
	@bash scripts/ensure-bubblewrap.sh
	@bash scripts/ensure-chromium.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(PY) -m autograder demo

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup -q

ASSIGNMENT ?= 03_backprop
N ?= 8
SKIP_NBGRADER ?=
bench: $(STAMP)
	$(PY) benchmarks/bench_grade.py --assignment $(ASSIGNMENT) -n $(N) $(if $(filter 1 yes true,$(SKIP_NBGRADER)),--skip-nbgrader)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
