# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench clean

setup: $(STAMP)

# torch is pinned first: on this project's machines 2.13.0 is the CPU build already on disk,
# while an unpinned torch would pull a multi-gigabyte CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,sklearn,view,grading]' jupyterlab==4.6.6  # sklearn: the estimators' tests and benchmarks; view: baremlp view; grading: otter-grader and nbgrader (baremlp assignment); JupyterLab: .venv/bin/jupyter lab notebooks/
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/baremlp train --dataset linear --out runs/demo --overwrite

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) runs .pytest_cache
