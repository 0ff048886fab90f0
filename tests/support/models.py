"""Model registries a test may change: copies of the one `make model` publishes, and new
versions of its models, as an operator would publish them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import onnx

from contracts.model_files import ModelCard, sidecar_path
from contracts.model_registry import ModelEntry, manifest_path, model_file, read_manifest
from tools.devstack import MODEL_DIR, REGISTRY
from tools.model.build import model_version, write_atomically


def copy_registry(dest: Path, source: Path = REGISTRY) -> Path:
    """A registry of its own with the same models: files hard-linked (published files are never
    written in place, so the links are safe), manifest copied."""
    manifest = read_manifest(source)
    for entry in manifest.models.values():
        target = model_file(dest, entry)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(model_file(source, entry), target)
    shutil.copyfile(manifest_path(source), manifest_path(dest))
    return dest


def new_version(name: str, out_dir: Path, *, build: str = "retrained") -> Path:
    """A new version of the built model ``name``: the same network and weights with one more
    metadata entry, so a different file and SHA-256; its card beside it."""
    source = MODEL_DIR / f"{name}.onnx"
    model = onnx.load(str(source))
    entry = model.metadata_props.add()
    entry.key, entry.value = "snapmatch.build", build
    data: bytes = model.SerializeToString(deterministic=True)
    out = out_dir / f"{name}.onnx"
    write_atomically(out, data)
    card = ModelCard.load(source).model_copy(update={"version": model_version(data)})
    write_atomically(sidecar_path(out), card.to_json().encode())
    return out


def damage(registry: Path, entry: ModelEntry) -> None:
    """Replace a published file by garbage of the same size, as a failing disk might (a new
    file: the hard link to the shared registry is broken first)."""
    path = model_file(registry, entry)
    path.unlink()
    path.write_bytes(b"\0" * entry.size_bytes)
