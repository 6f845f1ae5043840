# Two commands for a newcomer: `make up` (the workbench: sandbox, site, JupyterLab) and `make test`.
# `make shell` opens a shell with crosstrain, aws and awslocal on PATH, wired to the sandbox.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The oldest boto3/botocore pyproject.toml allows: the SDK drift suite drives the sandbox with it.
OLDEST_BOTO := 1.40.0
OLDEST := .venv-oldest/.installed

.PHONY: up shell test

# Reinstall only when the project's metadata changed (a cheap no-op otherwise).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(OLDEST): Makefile
	@test -x .venv-oldest/bin/python || $(PYTHON) -m venv .venv-oldest
	.venv-oldest/bin/python -m pip install --quiet 'boto3==$(OLDEST_BOTO)' 'botocore==$(OLDEST_BOTO)'
	@touch $(OLDEST)

up: $(STAMP)
	$(BIN)/crosstrain up

shell: $(STAMP)
	$(BIN)/crosstrain shell

test: $(STAMP) $(OLDEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	CROSSTRAIN_OLDEST_PYTHON=.venv-oldest/bin/python $(BIN)/python -m pytest -n 2
