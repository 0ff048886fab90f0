"""Publishing into a registry: what is checked before a file is served, and what the
registry looks like after."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pytest

from contracts.model_registry import manifest_path, model_file, read_manifest
from tests.support.tiny_models import tiny_model
from tools.model.publish import PublishError, main, publish


def test_a_published_model_is_in_the_manifest_and_stored_by_version(tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    source = tiny_model(tmp_path / "tiny.onnx")
    manifest = publish(registry, [source])
    assert manifest.default == "tiny"
    entry = manifest.models["tiny"]
    assert model_file(registry, entry) == registry / "tiny" / f"{entry.version}.onnx"
    assert model_file(registry, entry).read_bytes() == source.read_bytes()
    assert entry.sha256.startswith(entry.version) and entry.size_bytes == source.stat().st_size
    assert read_manifest(registry) == manifest
    before = manifest_path(registry).read_bytes()
    publish(registry, [source])  # the same file again changes nothing
    assert manifest_path(registry).read_bytes() == before


def test_a_new_version_replaces_the_old_one_which_is_kept_once(tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    versions = []
    for seed in range(3):
        manifest = publish(registry, [tiny_model(tmp_path / f"v{seed}" / "tiny.onnx", seed=seed)])
        versions.append(manifest.models["tiny"].version)
    assert len(set(versions)) == 3
    on_disk = {p.stem for p in (registry / "tiny").glob("*.onnx")}
    assert on_disk == {versions[1], versions[2]}  # current + previous; the oldest is gone


def test_default_and_removal(tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    publish(registry, [tiny_model(tmp_path / "a.onnx", "a"), tiny_model(tmp_path / "b.onnx", "b")])
    assert publish(registry, default="b").default == "b"
    with pytest.raises(PublishError, match="is the default model"):
        publish(registry, remove=["b"])
    with pytest.raises(PublishError, match="not published"):
        publish(registry, remove=["zzz"])
    assert set(publish(registry, remove=["a"]).models) == {"b"}


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("truncate", "SHA-256"),
        ("garbage_same_card", "SHA-256"),
        ("wrong_size", "input 'input' of shape"),
        ("nan", "finite"),
        ("classes", "label set 'imagenet-1k' has 1000 names for 10 classes"),
    ],
)
def test_a_bad_file_is_refused_and_the_registry_is_untouched(
    tmp_path: Path, damage: str, reason: str
) -> None:
    registry = tmp_path / "registry"
    publish(registry, [tiny_model(tmp_path / "good" / "tiny.onnx")])
    before = manifest_path(registry).read_bytes()
    bad = tmp_path / "bad" / "tiny.onnx"
    if damage == "wrong_size":
        tiny_model(bad, card_size=16)
    elif damage == "nan":
        tiny_model(bad, weight=math.nan)
    elif damage == "classes":
        tiny_model(bad, classes=10)
    else:
        tiny_model(bad, seed=5)
        data = bad.read_bytes()
        bad.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"\0" * len(data))
    with pytest.raises(PublishError, match=reason):
        publish(registry, [bad])
    assert manifest_path(registry).read_bytes() == before
    assert len(list((registry / "tiny").glob("*.onnx"))) == 1


def test_a_file_onnxruntime_cannot_load_is_refused_with_the_reason(tmp_path: Path) -> None:
    bad = tiny_model(tmp_path / "tiny.onnx")
    card = bad.with_name("tiny.onnx.json")
    garbage = b"not an onnx model at all"
    bad.write_bytes(garbage)

    version = hashlib.sha256(garbage).hexdigest()[:12]
    card.write_text(
        card.read_text().replace(card.read_text().split('"version": "')[1][:12], version)
    )
    with pytest.raises(PublishError, match="not a model onnxruntime can load"):
        publish(tmp_path / "registry", [bad])


def test_the_command_exits_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing.onnx"
    assert main(["--registry", str(tmp_path / "registry"), str(missing)]) == 2
    assert "refused:" in capsys.readouterr().err
    good = tiny_model(tmp_path / "tiny.onnx")
    assert main(["--registry", str(tmp_path / "registry"), str(good)]) == 0
    assert "tiny" in capsys.readouterr().out
