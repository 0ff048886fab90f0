"""The worker's model cache (LRU, leases, one load per model, failures remembered), with a
scripted loader instead of onnxruntime."""

from __future__ import annotations

import threading
import time

import pytest

from contracts.model_registry import ModelEntry
from tests.support.tiny_models import model_entry as entry
from worker.inference import cache as cache_module
from worker.inference.cache import LoadedModel, ModelCache, ModelUnavailableError
from worker.inference.classifier import Classification


class FakeModel:
    def __init__(self, name: str, version: str) -> None:
        self.name, self.version = name, version
        self.closed = False

    def classify(self, data: bytes) -> Classification:
        assert not self.closed, "a task ran on a closed model"
        return Classification(predictions=[], preprocess_ms=0.0, inference_ms=0.0)


class Loader:
    def __init__(self, *, delay: float = 0.0, fail: set[str] | None = None) -> None:
        self.calls: list[str] = []
        self.models: dict[str, FakeModel] = {}
        self.delay = delay
        self.fail = fail or set()

    def __call__(self, entry: ModelEntry) -> LoadedModel:
        self.calls.append(f"{entry.name}@{entry.version}")
        time.sleep(self.delay)
        if entry.name in self.fail:
            raise ValueError("protobuf parsing failed")
        model = FakeModel(entry.name, entry.version)
        self.models[f"{entry.name}@{entry.version}"] = model

        def close() -> None:
            model.closed = True

        return LoadedModel(model, close)


def test_the_least_recently_used_model_is_unloaded_beyond_the_limit() -> None:
    loader = Loader()
    cache = ModelCache(loader, max_models=2)
    for name in ("a", "b", "a", "c"):  # "a" used again: "b" is now the least recent
        with cache.lease(entry(name)) as model:
            assert model.name == name
    assert [name for name, _ in cache.loaded()] == ["a", "c"]
    assert loader.calls == ["a@aaaaaaaaaaaa", "b@aaaaaaaaaaaa", "c@aaaaaaaaaaaa"]
    assert loader.models["b@aaaaaaaaaaaa"].closed


def test_a_model_in_use_is_closed_only_when_its_task_ends() -> None:
    loader = Loader()
    cache = ModelCache(loader, max_models=1)
    old, new = entry("a", "111111111111"), entry("a", "222222222222")
    with cache.lease(old) as running:
        cache.ensure_loaded(new, evict=False)
        cache.keep_only({("a", "222222222222")})  # the swap: the old version retires...
        assert cache.loaded() == [("a", "222222222222")]
        assert not loader.models["a@111111111111"].closed  # ...but its task finishes on it
        running.classify(b"photo")
    assert loader.models["a@111111111111"].closed


def test_concurrent_tasks_load_a_model_once() -> None:
    loader = Loader(delay=0.2)
    cache = ModelCache(loader, max_models=2)
    seen: list[str] = []

    def task() -> None:
        with cache.lease(entry("a")) as model:
            seen.append(model.version)

    threads = [threading.Thread(target=task) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loader.calls == ["a@aaaaaaaaaaaa"]
    assert seen == ["aaaaaaaaaaaa"] * 5


def test_a_failed_load_is_remembered_then_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    loader = Loader(fail={"broken"})
    cache = ModelCache(loader, max_models=2)
    for _ in range(3):
        with (
            pytest.raises(ModelUnavailableError, match="protobuf parsing failed"),
            cache.lease(entry("broken")),
        ):
            pass
    assert loader.calls == ["broken@aaaaaaaaaaaa"]
    monkeypatch.setattr(cache_module, "RETRY_FAILED_LOAD_SECONDS", 0.0)
    with pytest.raises(ModelUnavailableError):
        cache.ensure_loaded(entry("broken"))
    assert len(loader.calls) == 2
    with cache.lease(entry("fine")) as model:  # other models are unaffected
        assert model.name == "fine"


def test_trim_and_close_release_everything() -> None:
    loader = Loader()
    cache = ModelCache(loader, max_models=1)
    cache.ensure_loaded(entry("a"), evict=False)
    cache.ensure_loaded(entry("b"), evict=False)
    assert len(cache.loaded()) == 2
    cache.trim()
    assert [name for name, _ in cache.loaded()] == ["b"]
    cache.close()
    assert cache.loaded() == [] and all(m.closed for m in loader.models.values())
