# Two commands for a newcomer: `make up` (the workbench: sandbox, site, JupyterLab) and `make test`.
# `make shell` opens a shell with crosstrain, aws and awslocal on PATH, wired to the sandbox.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The oldest boto3/botocore pyproject.toml allows: the SDK drift suite drives the sandbox with it.
OLDEST_BOTO := 1.40.0
OLDEST := .venv-oldest/.installed
# The SageMaker Python SDK, both generations (they cannot share a venv): tests/sandbox/services/
# sagemaker/test_sdk.py runs a learner's script in each against a sandbox it starts.
SDK2 := sagemaker==2.257.7
SDK3 := sagemaker==3.27.0
SDK_VENVS := .venv-sdk2/.installed .venv-sdk3/.installed

# The CDK scenario tests' toolchain (aws-cdk, aws-cdk-local, aws-cdk-lib, constructs), pinned by
# the app's package-lock.json and installed inside the app: nothing global, nothing for learners.
CDK_APP   := tests/scenarios/cdk_app
CDK_STAMP := $(CDK_APP)/node_modules/.cdk-toolchain.installed

.PHONY: up shell test cdk-toolchain

# Reinstall only when the project's metadata changed (a cheap no-op otherwise).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,labs]'
	@touch $(STAMP)

$(OLDEST): Makefile
	@test -x .venv-oldest/bin/python || $(PYTHON) -m venv .venv-oldest
	.venv-oldest/bin/python -m pip install --quiet 'boto3==$(OLDEST_BOTO)' 'botocore==$(OLDEST_BOTO)'
	@touch $(OLDEST)

.venv-sdk2/.installed: Makefile
	@test -x .venv-sdk2/bin/python || $(PYTHON) -m venv .venv-sdk2
	.venv-sdk2/bin/python -m pip install --quiet '$(SDK2)'
	@touch $@

.venv-sdk3/.installed: Makefile
	@test -x .venv-sdk3/bin/python || $(PYTHON) -m venv .venv-sdk3
	.venv-sdk3/bin/python -m pip install --quiet '$(SDK3)'
	@touch $@

up: $(STAMP)
	$(BIN)/crosstrain up

shell: $(STAMP)
	$(BIN)/crosstrain shell

test: $(STAMP) $(OLDEST) $(SDK_VENVS) $(if $(shell command -v npm),$(CDK_STAMP))
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	CROSSTRAIN_OLDEST_PYTHON=.venv-oldest/bin/python \
	CROSSTRAIN_SDK2_PYTHON=.venv-sdk2/bin/python CROSSTRAIN_SDK3_PYTHON=.venv-sdk3/bin/python \
	$(BIN)/python -m pytest -n 2

# Needs node >= 18 and npm (Debian: apt-get install nodejs npm); .ci/run installs both.
$(CDK_STAMP): $(CDK_APP)/package.json $(CDK_APP)/package-lock.json
	npm ci --prefix $(CDK_APP) --no-audit --no-fund --loglevel=error
	@touch $(CDK_STAMP)

cdk-toolchain: $(CDK_STAMP)
