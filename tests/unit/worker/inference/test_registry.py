"""The worker's view of the registry: names resolved in the adopted manifest, and a
republished manifest adopted only once the new versions of held models are loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.model_registry import ManifestReader, RegistryError
from tests.support.tiny_models import tiny_model
from tests.unit.worker.inference.test_cache import Loader
from tools.model.publish import publish
from worker.inference.cache import ModelCache
from worker.inference.registry import ModelRegistry, UnknownModelError, read_verified


def _registry(tmp_path: Path) -> Path:
    registry = tmp_path / "registry"
    publish(
        registry,
        [tiny_model(tmp_path / "a.onnx", "a"), tiny_model(tmp_path / "b.onnx", "b", seed=1)],
    )
    return registry


def test_names_resolve_in_the_manifest_and_empty_means_the_default(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    models = ModelRegistry(ManifestReader(registry), ModelCache(Loader(), max_models=2))
    assert models.resolve("").name == "a"
    assert models.resolve("b").name == "b"
    with pytest.raises(UnknownModelError, match="serves a, b"):
        models.resolve("../a")
    overridden = ModelRegistry(
        ManifestReader(registry), ModelCache(Loader(), max_models=2), default="b"
    )
    assert overridden.resolve("").name == "b"
    with pytest.raises(UnknownModelError):
        ModelRegistry(ManifestReader(registry), ModelCache(Loader(), max_models=2), default="z")


def test_no_registry_is_a_clear_startup_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="make model"):
        ModelRegistry(ManifestReader(tmp_path), ModelCache(Loader(), max_models=1))


def test_a_republished_model_is_loaded_before_the_manifest_is_adopted(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    loader = Loader()
    cache = ModelCache(loader, max_models=2)
    models = ModelRegistry(ManifestReader(registry), cache)
    models.preload(["b"])
    old_a = models.resolve("a").version
    assert models.refresh() is False  # nothing changed

    publish(registry, [tiny_model(tmp_path / "new" / "a.onnx", "a", seed=7)])
    assert models.resolve("a").version == old_a  # until the worker adopts the new manifest
    assert models.refresh() is True
    new_a = models.resolve("a").version
    assert new_a != old_a
    assert loader.calls[-1] == f"a@{new_a}"  # loaded by the refresh, not by a task
    assert sorted(cache.loaded()) == sorted([("a", new_a), ("b", models.resolve("b").version)])
    assert loader.models[f"a@{old_a}"].closed


def test_a_broken_manifest_keeps_the_last_good_one(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    models = ModelRegistry(ManifestReader(registry), ModelCache(Loader(), max_models=1))
    (registry / "models.json").write_text("{ half written")
    assert models.refresh() is False
    assert models.resolve("").name == "a"


def test_a_file_changed_after_publishing_is_refused(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    models = ModelRegistry(ManifestReader(registry), ModelCache(Loader(), max_models=1))
    entry = models.resolve("a")
    path = registry / entry.relative_path
    path.write_bytes(path.read_bytes()[:-1] + b"x")
    with pytest.raises(ValueError, match="changed or damaged"):
        read_verified(registry, entry)
