"""Which models a worker serves: the registry's manifest it has adopted, and the cache of loaded
models behind it.

A task names a model (or none: the default); :meth:`ModelRegistry.lease` resolves the name in
the adopted manifest and leases that version from the cache. A watcher thread re-reads the
manifest every few seconds. When a new manifest arrives, the new versions of the models this
worker holds are loaded and warmed up *first*, while tasks keep running on the old ones; then
the manifest is adopted and the old versions retire once their tasks finish. So a swap costs
no task and no cold start, and every result names the version that actually ran.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import structlog

from contracts.model_registry import (
    Manifest,
    ManifestReader,
    ModelEntry,
    RegistryError,
    model_file,
)
from worker.inference.cache import LoadedModel, ModelCache, ModelUnavailableError, ServingModel

logger = structlog.stdlib.get_logger(__name__)

PRELOAD_ALL = "*"


class UnknownModelError(LookupError):
    """A task names a model the registry does not list."""

    def __init__(self, requested: str, known: Sequence[str]) -> None:
        super().__init__(
            f"model {requested[:64]!r} is not in the registry; it serves {', '.join(known)}"
        )
        self.requested = requested


def read_verified(registry: Path, entry: ModelEntry) -> bytes:
    """The entry's file, checked against its SHA-256, read once: the bytes that are hashed
    are the bytes onnxruntime loads."""
    data = model_file(registry, entry).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        raise ValueError(
            f"{entry.relative_path} has SHA-256 {digest[:12]}..., the manifest says "
            f"{entry.sha256[:12]}...: the file was changed or damaged after publishing"
        )
    return data


class ModelRegistry:
    def __init__(
        self, reader: ManifestReader, cache: ModelCache, *, default: str | None = None
    ) -> None:
        self._reader = reader
        self._cache = cache
        self._default = default
        self._manifest = reader.refresh() or reader.manifest  # RegistryError: nothing to serve
        self.default_entry()  # a configured default that does not exist is a startup error

    @property
    def manifest(self) -> Manifest:
        return self._manifest

    def default_entry(self) -> ModelEntry:
        name = self._default or self._manifest.default
        return self.resolve(name)

    def resolve(self, requested: str) -> ModelEntry:
        """The current entry of ``requested`` ("" = the default model)."""
        if not requested:
            return self.default_entry()
        entry = self._manifest.models.get(requested)
        if entry is None:
            raise UnknownModelError(requested, sorted(self._manifest.models))
        return entry

    @contextmanager
    def lease(self, requested: str) -> Iterator[ServingModel]:
        """The model to run a task on. UnknownModelError, ModelUnavailableError."""
        with self._cache.lease(self.resolve(requested)) as model:
            yield model

    def preload(self, names: Sequence[str]) -> None:
        """Load and warm up the default model and ``names`` (``*``: every model, up to the
        cache's size); a name that fails or is unknown is logged, not fatal."""
        wanted = [self.default_entry().name]
        expanded = sorted(self._manifest.models) if PRELOAD_ALL in names else names
        wanted += [name for name in expanded if name not in wanted]
        for name in wanted[: self._cache.max_models]:
            try:
                self._cache.ensure_loaded(self.resolve(name))
            except (UnknownModelError, ModelUnavailableError) as exc:
                logger.error("model not preloaded", model=name, reason=str(exc))

    def refresh(self) -> bool:
        """Adopt a changed manifest (new versions of loaded models warm first); True if so."""
        try:
            manifest = self._reader.refresh()
        except RegistryError as exc:
            logger.error(
                "model registry unreadable; serving the last good manifest", error=str(exc)
            )
            return False
        if manifest is None:
            return False
        for name, version in self._cache.loaded():
            entry = manifest.models.get(name)
            if entry is not None and entry.version != version:
                try:
                    self._cache.ensure_loaded(entry, evict=False)
                except ModelUnavailableError as exc:  # its tasks will fail with this reason
                    logger.error("new model version not loaded", model=name, reason=str(exc))
        self._manifest = manifest
        current = {(e.name, e.version) for e in manifest.models.values()}
        self._cache.keep_only(current)
        self._cache.trim()
        logger.info(
            "model registry changed",
            default=self._default or manifest.default,
            models={e.name: e.version for e in manifest.models.values()},
        )
        return True

    def watch(self, stop: threading.Event, interval_s: float) -> threading.Thread:
        """Call :meth:`refresh` every ``interval_s`` on a daemon thread until ``stop``."""

        def loop() -> None:
            while not stop.wait(interval_s):
                try:
                    self.refresh()
                except Exception:
                    logger.exception("model registry refresh failed")

        thread = threading.Thread(target=loop, name="model-registry", daemon=True)
        thread.start()
        return thread


def model_loader(
    registry: Path, build: Callable[[ModelEntry, bytes], LoadedModel]
) -> Callable[[ModelEntry], LoadedModel]:
    """The cache's loader: verified bytes from the registry, then ``build`` (session, warm-up,
    micro-batcher)."""

    def load(entry: ModelEntry) -> LoadedModel:
        return build(entry, read_verified(registry, entry))

    return load
