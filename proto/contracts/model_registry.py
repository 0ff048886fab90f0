"""The model registry: a directory that the gateway and the workers read, and only
``tools.model.publish`` writes.

Layout (``SNAPMATCH_MODEL_REGISTRY``)::

    models.json                          the manifest: the default model and every served model
    <name>/<version>.onnx                each published file, content-addressed

The manifest lists one current version per name with its card (``contracts.model_files``), its
SHA-256 and size. Files are never changed in place: publishing writes the new file beside the
old one and then replaces ``models.json`` by an atomic rename, so a reader sees either the old
manifest or the new one, and every file a manifest names is complete. A file's path is derived
from its name and version, both checked against strict patterns, so neither a manifest nor a
request can point outside the registry.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contracts.model_files import ModelCard

MANIFEST_NAME = "models.json"


class RegistryError(RuntimeError):
    """The registry cannot be read: no manifest, or one that is not valid."""


class ModelEntry(ModelCard):
    """A published model: its card plus what a client needs to fetch and check the file."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(ge=1)
    published_at: datetime

    @property
    def relative_path(self) -> str:
        """``<name>/<version>.onnx``: the only way a file of the registry is ever named."""
        return f"{self.name}/{self.version}.onnx"

    @model_validator(mode="after")
    def _version_is_the_hash(self) -> ModelEntry:
        if not self.sha256.startswith(self.version):
            raise ValueError(f"{self.name}: version {self.version} is not its sha256 prefix")
        return self


class Manifest(BaseModel):
    """``models.json``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: Literal[1] = 1
    default: str = Field(description="The model a task runs when it names none.")
    models: dict[str, ModelEntry]

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        for key, entry in self.models.items():
            if key != entry.name:
                raise ValueError(f"models[{key!r}] holds a model named {entry.name!r}")
        if self.default not in self.models:
            raise ValueError(f"the default model {self.default!r} is not in the manifest")
        return self

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"


def manifest_path(registry: Path) -> Path:
    return registry / MANIFEST_NAME


def model_file(registry: Path, entry: ModelEntry) -> Path:
    return registry / entry.relative_path


def read_manifest(registry: Path) -> Manifest:
    """Parse ``models.json``; RegistryError with the reason when it is missing or invalid."""
    path = manifest_path(registry)
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except FileNotFoundError as exc:
        raise RegistryError(
            f"no model registry at {registry} ({MANIFEST_NAME} is missing): build and publish "
            "the models with `make model`, or set SNAPMATCH_MODEL_REGISTRY"
        ) from exc
    except (OSError, ValidationError) as exc:
        raise RegistryError(f"cannot read {path}: {exc}") from exc


@dataclass(frozen=True)
class _Stamp:
    """What changes when ``models.json`` is replaced (a rename gives a new inode)."""

    inode: int
    mtime_ns: int
    size: int


class ManifestReader:
    """The latest valid manifest of a registry, re-read only when the file changed.

    A manifest that fails to parse is reported and the previous one kept: a half-edited file
    must not take every model offline.
    """

    def __init__(self, registry: Path) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._stamp: _Stamp | None = None
        self._manifest: Manifest | None = None

    @property
    def manifest(self) -> Manifest:
        if self._manifest is None:
            raise RegistryError(f"the registry at {self.registry} has not been read yet")
        return self._manifest

    def refresh(self) -> Manifest | None:
        """Re-read the manifest if it changed: the new manifest, or None when unchanged.

        Raises RegistryError when it changed into something unreadable (the old one stays).
        """
        with self._lock:
            try:
                stat = os.stat(manifest_path(self.registry))
            except FileNotFoundError:
                stamp = None
            else:
                stamp = _Stamp(stat.st_ino, stat.st_mtime_ns, stat.st_size)
            if stamp is not None and stamp == self._stamp:
                return None
            manifest = read_manifest(self.registry)
            self._stamp, self._manifest = stamp, manifest
            return manifest
