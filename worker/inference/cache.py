"""The models a worker holds in memory: loaded on first use, at most ``max_models`` at once,
the least recently used one unloaded to make room (an LRU of onnxruntime sessions).

A task *leases* its model for as long as it runs it. Unloading only retires a model: it leaves
the cache at once, and is closed (its micro-batcher stopped, its session released) when the
last lease ends, so a task never loses its model halfway, and a swapped model's tasks in flight
finish on the version they started with. One model is loaded once however many tasks ask for
it at the same moment; a model that failed to load is not tried again for
:data:`RETRY_FAILED_LOAD_SECONDS`, so a corrupt file costs one attempt, not one per task.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Container, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from contracts.model_registry import ModelEntry
from worker.inference.classifier import Classification

logger = structlog.stdlib.get_logger(__name__)

RETRY_FAILED_LOAD_SECONDS = 30.0

ModelKey = tuple[str, str]  # (name, version)


class ServingModel(Protocol):
    """What a task runs: a ``Classifier`` or a ``MicroBatcher`` in front of one."""

    name: str
    version: str

    def classify(self, data: bytes) -> Classification: ...


class ModelUnavailableError(RuntimeError):
    """The model named in the manifest cannot be loaded (missing or corrupt file, ...)."""

    def __init__(self, entry: ModelEntry, reason: str) -> None:
        super().__init__(f"model {entry.name} version {entry.version} cannot be loaded: {reason}")
        self.entry = entry


@dataclass(frozen=True)
class LoadedModel:
    model: ServingModel
    close: Callable[[], None] = lambda: None


class CacheObserver(Protocol):
    """Told what the cache does (metrics); must not raise."""

    def model_requested(self, name: str, *, hit: bool) -> None: ...

    def model_loaded(self, name: str, version: str, seconds: float) -> None: ...

    def model_load_failed(self, name: str, version: str) -> None: ...

    def model_unloaded(self, name: str, version: str) -> None: ...


@dataclass
class _Slot:
    key: ModelKey
    loaded: LoadedModel
    leases: int = 0
    retired: bool = False


@dataclass
class _Failure:
    at: float
    reason: str


@dataclass
class ModelCache:
    load: Callable[[ModelEntry], LoadedModel]
    max_models: int
    observer: CacheObserver | None = None
    _slots: OrderedDict[ModelKey, _Slot] = field(default_factory=OrderedDict)
    _loading: dict[ModelKey, Future[None]] = field(default_factory=dict)
    _failures: dict[ModelKey, _Failure] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def lease(self, entry: ModelEntry) -> Iterator[ServingModel]:
        """The model of ``entry``, loaded if needed; ModelUnavailableError if it cannot be."""
        slot = self._acquire(entry, evict=True)
        try:
            yield slot.loaded.model
        finally:
            self._release(slot)

    def ensure_loaded(self, entry: ModelEntry, *, evict: bool = True) -> None:
        """Load (and warm up) ``entry`` now. ``evict=False``: may exceed ``max_models`` until
        :meth:`keep_only` and :meth:`trim` run (a swap loads the new version first)."""
        self._release(self._acquire(entry, evict=evict))

    def loaded(self) -> list[ModelKey]:
        """(name, version) of each loaded model, least recently used first."""
        with self._lock:
            return list(self._slots)

    def keep_only(self, current: Container[ModelKey]) -> None:
        """Retire every loaded model that is not ``current`` (replaced or unpublished)."""
        with self._lock:
            stale = [key for key in self._slots if key not in current]
            idle = _idle([self._retire(key) for key in stale])
            self._failures = {k: f for k, f in self._failures.items() if k in current}
        self._close_all(idle)

    def trim(self) -> None:
        """Unload least recently used models until at most ``max_models`` remain."""
        with self._lock:
            idle = _idle(self._evict(keep=None))
        self._close_all(idle)

    def close(self) -> None:
        self.keep_only(())

    # --- internals -------------------------------------------------------------------------
    def _acquire(self, entry: ModelEntry, *, evict: bool) -> _Slot:
        key = (entry.name, entry.version)
        first_try = True
        while True:
            with self._lock:
                slot = self._slots.get(key)
                if slot is not None:
                    self._slots.move_to_end(key)
                    slot.leases += 1
                    self._notify("model_requested", entry.name, hit=first_try)
                    return slot
                failure = self._failures.get(key)
                if failure and time.monotonic() - failure.at < RETRY_FAILED_LOAD_SECONDS:
                    raise ModelUnavailableError(entry, failure.reason)
                pending = self._loading.get(key)
                loading_here = pending is None
                if pending is None:
                    pending = self._loading[key] = Future()
            first_try = False
            if not loading_here:
                pending.result()  # another task is loading it: wait (or fail with it), retry
                continue
            return self._load_into_slot(entry, key, pending, evict=evict)

    def _load_into_slot(
        self, entry: ModelEntry, key: ModelKey, pending: Future[None], *, evict: bool
    ) -> _Slot:
        self._notify("model_requested", entry.name, hit=False)
        started = time.perf_counter()
        try:
            loaded = self.load(entry)
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
            logger.exception("model failed to load", model=entry.name, version=entry.version)
            error = ModelUnavailableError(entry, reason)
            with self._lock:
                self._failures[key] = _Failure(time.monotonic(), reason)
                del self._loading[key]
            pending.set_exception(error)
            self._notify("model_load_failed", entry.name, entry.version)
            raise error from exc
        seconds = time.perf_counter() - started
        slot = _Slot(key, loaded, leases=1)
        with self._lock:
            self._slots[key] = slot
            self._failures.pop(key, None)
            del self._loading[key]
            idle = _idle(self._evict(keep=key)) if evict else []
        pending.set_result(None)
        logger.info("model loaded", model=entry.name, version=entry.version, seconds=seconds)
        self._notify("model_loaded", entry.name, entry.version, seconds)
        self._close_all(idle)
        return slot

    def _evict(self, keep: ModelKey | None) -> list[_Slot]:
        """Under the lock: retire LRU models beyond ``max_models`` (never ``keep``)."""
        retired = []
        for key in list(self._slots):
            if len(self._slots) <= self.max_models:
                break
            if key != keep:
                retired.append(self._retire(key))
        return retired

    def _retire(self, key: ModelKey) -> _Slot:
        """Under the lock: out of the cache; closed by whoever sees it idle (see ``_idle``)."""
        slot = self._slots.pop(key)
        slot.retired = True
        return slot

    def _release(self, slot: _Slot) -> None:
        with self._lock:
            slot.leases -= 1
            idle = slot.retired and slot.leases == 0
        if idle:
            self._close(slot)

    def _close_all(self, slots: list[_Slot]) -> None:
        for slot in slots:
            self._close(slot)

    def _close(self, slot: _Slot) -> None:
        try:
            slot.loaded.close()
        except Exception:
            logger.exception("closing a model failed", model=slot.key[0], version=slot.key[1])
        logger.info("model unloaded", model=slot.key[0], version=slot.key[1])
        self._notify("model_unloaded", *slot.key)

    def _notify(self, event: str, *args: object, **kwargs: object) -> None:
        if self.observer is None:
            return
        try:
            getattr(self.observer, event)(*args, **kwargs)
        except Exception:
            logger.exception("cache observer failed", observer_event=event)


def _idle(retired: list[_Slot]) -> list[_Slot]:
    """Under the lock: the retired slots no task holds, to close now; the others are closed by
    their last ``_release``."""
    return [slot for slot in retired if slot.leases == 0]
