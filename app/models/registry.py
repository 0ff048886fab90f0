"""The gateway's view of the model registry (``contracts.model_registry``).

Read once at start-up (no registry: the gateway does not start) and re-read in the background
every ``model_registry_poll_seconds``, so a model published while the gateway runs is listed,
accepted in uploads and downloadable within seconds. Every file a manifest names is checked
against its SHA-256 once (off the event loop); a file that does not match is not served, so a
download is always the bytes its ``sha256`` and ``ETag`` promise.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import structlog

from contracts.labels import LabelSet, load_label_set
from contracts.model_registry import (
    Manifest,
    ManifestReader,
    ModelEntry,
    RegistryError,
    model_file,
)

logger = structlog.stdlib.get_logger(__name__)


class ModelNotFoundError(LookupError):
    """``GET /models/{name}``: no such model (404)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no model named {name[:64]!r}; GET /models lists the models served")


class ModelVersionGoneError(LookupError):
    """A download asked for a version that is no longer the current one (404)."""

    def __init__(self, entry: ModelEntry, requested: str) -> None:
        super().__init__(
            f"version {requested[:16]!r} of {entry.name} is not served; the current version is "
            f"{entry.version} (GET /models/{entry.name})"
        )


class UnknownModelError(ValueError):
    """An upload names a model the registry does not serve (422; nothing is queued)."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no model named {name[:64]!r}; choose one of {', '.join(known)}")


class ModelUnavailableError(RuntimeError):
    """The default model's file is missing or damaged on this gateway (503)."""


@dataclass(frozen=True)
class _Stamp:
    size: int
    mtime_ns: int
    inode: int


def _stamp(path: Path) -> _Stamp:
    stat = os.stat(path)
    return _Stamp(stat.st_size, stat.st_mtime_ns, stat.st_ino)


@dataclass
class _Verified:
    """Files whose SHA-256 was checked, by what ``stat`` said then: hashed once each."""

    stamps: dict[Path, _Stamp] = field(default_factory=dict)

    def check(self, path: Path, entry: ModelEntry) -> str | None:
        """None when ``path`` holds ``entry``'s bytes, else why not."""
        try:
            stamp = _stamp(path)
            if self.stamps.get(path) == stamp:
                return None
            if stamp.size != entry.size_bytes:
                return f"{stamp.size} bytes, the manifest says {entry.size_bytes}"
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            return str(exc)
        if digest != entry.sha256:
            return f"SHA-256 {digest[:12]}..., the manifest says {entry.sha256[:12]}..."
        self.stamps[path] = stamp
        return None


@dataclass(frozen=True)
class ServedModels:
    """One manifest, less the entries whose file is missing or damaged."""

    default: str
    models: dict[str, ModelEntry]


class ModelRegistry:
    def __init__(self, registry: Path, *, default: str | None, poll_seconds: float) -> None:
        self.path = registry
        self._reader = ManifestReader(registry)
        self._default_override = default
        self._poll_seconds = poll_seconds
        self._verified = _Verified()
        self._served: ServedModels | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Read and check the registry (RegistryError when there is none), then follow it."""
        await anyio.to_thread.run_sync(self._refresh)
        served = self.served
        if self._default_override and self._default_override not in served.models:
            raise RegistryError(
                f"SNAPMATCH_DEFAULT_MODEL={self._default_override!r} is not in {self.path}"
            )
        self._task = asyncio.create_task(self._follow(), name="model-registry")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def served(self) -> ServedModels:
        if self._served is None:
            raise RegistryError("the model registry has not been read yet")
        return self._served

    @property
    def default(self) -> str:
        return self.served.default

    def get(self, name: str) -> ModelEntry:
        entry = self.served.models.get(name)
        if entry is None:
            raise ModelNotFoundError(name)
        return entry

    def for_upload(self, requested: str | None) -> ModelEntry:
        """The model an upload will run: the one it names, else the default."""
        served = self.served
        if requested is None:
            entry = served.models.get(served.default)
            if entry is None:
                raise ModelUnavailableError(
                    f"the default model {served.default!r} is not available on this gateway"
                )
            return entry
        entry = served.models.get(requested)
        if entry is None:
            raise UnknownModelError(requested, sorted(served.models))
        return entry

    def file(self, entry: ModelEntry) -> Path:
        return model_file(self.path, entry)

    async def verified_file(self, entry: ModelEntry) -> Path:
        """The entry's file, still the bytes the manifest names: re-hashed (off the event loop)
        whenever ``stat`` says it changed since it was checked; ModelUnavailableError if not."""
        path = self.file(entry)
        problem = await anyio.to_thread.run_sync(self._verified.check, path, entry)
        if problem is not None:
            logger.error("model file damaged; not serving it", model=entry.name, problem=problem)
            raise ModelUnavailableError(
                f"the file of {entry.name} {entry.version} is damaged on this gateway"
            )
        return path

    @staticmethod
    def labels(entry: ModelEntry) -> LabelSet:
        return load_label_set(entry.labels)

    # --- following the registry ------------------------------------------------------------
    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self._poll_seconds)
            try:
                await anyio.to_thread.run_sync(self._refresh)
            except RegistryError as exc:
                logger.error("model registry unreadable; serving the last good one", error=str(exc))
            except Exception:
                logger.exception("model registry refresh failed")

    def _refresh(self) -> None:
        """In a thread: re-read a changed manifest and check the files it names."""
        manifest = self._reader.refresh()
        if manifest is None and self._served is not None:
            return
        manifest = manifest or self._reader.manifest
        self._served = self._check_files(manifest)
        logger.info(
            "model registry read",
            default=self._served.default,
            models={e.name: e.version for e in self._served.models.values()},
        )

    def _check_files(self, manifest: Manifest) -> ServedModels:
        served = {}
        for name, entry in manifest.models.items():
            problem = self._verified.check(self.file(entry), entry)
            if problem is None:
                served[name] = entry
            else:
                logger.error(
                    "model file does not match the manifest; not serving it",
                    model=name,
                    version=entry.version,
                    problem=problem,
                )
        return ServedModels(default=self._default_override or manifest.default, models=served)
