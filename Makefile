# dynrec — run `make help` for the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# torch from PyTorch's CPU index when no NVIDIA GPU is present (no nvidia-smi): stock pip on Linux
# would fetch the CUDA build from PyPI. pip's own find-links and extra indexes (pip config list)
# still apply, so a local CPU wheel is found offline. With nvidia-smi, pip's default index gives a
# CUDA build; choose another with TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cu128"
# (README, "GPU boxes"). `make install` keeps a torch that is already in .venv. Without a GPU, a
# torch wheel in pip's find-links (a local CPU wheel) is tried first, with no index at all (its
# dependencies come with dynrec's): pip would otherwise spend a minute retrying an unreachable CPU
# index before it looks there.
TORCH_SPEC ?= torch==2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
GPU := $(shell command -v nvidia-smi 2>/dev/null)
TORCH_PIP_ARGS ?= $(if $(GPU),,--index-url $(TORCH_CPU_INDEX))
TORCH_LOCAL := $(if $(GPU),false,$(PIP) install -q --no-deps --no-index "$(TORCH_SPEC)" 2>/dev/null)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(TORCH_LOCAL) || $(PIP) install -q $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(PIP) install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed ## create .venv and install dynrec with its test tools

demo: install ## train and evaluate the default model on the shipped sample, print the metrics
	$(VENV)/bin/dynrec train run_dir=runs/demo trainer.max_minutes=1.5

dist: install ## build dist/dynrec-<version>-py3-none-any.whl and the sdist (the sample data inside)
	rm -rf dist
	$(PY) -m build --no-isolation --outdir dist .

test: install ## run the whole test suite (unit, config, cli, e2e, README)
	$(PY) -m pytest -q -p no:cacheprovider

test-fast: install ## the suite without the slow tests
	$(PY) -m pytest -q -m "not slow" -p no:cacheprovider

bench: install ## quality and speed tables on ../shared/datasets (writes benchmarks/results/)
	$(PY) benchmarks/run.py

bench-quick: install ## a few-minute subset of the benchmarks
	$(PY) benchmarks/run.py --quick

clean: ## remove the environment, run folders and built packages
	rm -rf $(VENV) runs outputs multirun dist build

.PHONY: help install demo dist test test-fast bench bench-quick clean
