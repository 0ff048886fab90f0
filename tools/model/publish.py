"""``python -m tools.model.publish``: check built models and publish them into a registry.

The one writer of a registry (``contracts.model_registry``); gateways and workers pick the new
manifest up within seconds, without a restart. A file is checked before anything is written:
its card (sidecar) must parse and name its own SHA-256 as version, onnxruntime must load it,
its input and output must be the shapes the card promises, a forward pass on zeros must give
finite logits, and its label set must name every class. A corrupt or mismatched file is refused
with the reason and never reaches the manifest. Publishing copies the file to
``<name>/<version>.onnx`` and then replaces ``models.json`` atomically, under a lock, so
concurrent publishes do not lose each other's entries. The previous version of each model is
kept on disk (a worker may be loading it as the manifest changes); older ones are deleted.

    python -m tools.model.publish --registry build/registry build/model/efficientnet-lite0.onnx
    python -m tools.model.publish --registry build/registry --default efficientnet-lite2
    python -m tools.model.publish --registry build/registry --remove efficientnet-lite1
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from contracts.labels import LabelSetError, load_label_set
from contracts.model_files import ModelCard
from contracts.model_registry import (
    Manifest,
    ModelEntry,
    RegistryError,
    manifest_path,
    model_file,
    read_manifest,
)
from contracts.results import utc_now
from tools.model.build import write_atomically

LOCK_NAME = ".publish.lock"


class PublishError(ValueError):
    """A model cannot be published; the message says why."""


@dataclass(frozen=True)
class CheckedModel:
    card: ModelCard
    data: bytes
    sha256: str


def _dims(shape: Sequence[object]) -> list[int | None]:
    return [d if isinstance(d, int) else None for d in shape]


def check_model(path: Path) -> CheckedModel:
    """Everything that must hold before ``path`` may be served; PublishError otherwise."""
    try:
        card = ModelCard.load(path)
        data = path.read_bytes()
    except (OSError, ValueError) as exc:
        raise PublishError(f"{path}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if not digest.startswith(card.version):
        raise PublishError(
            f"{path}: its card says version {card.version} but the file's SHA-256 starts "
            f"{digest[:12]}: the file changed after it was built, or the card is another file's"
        )
    try:
        labels = load_label_set(card.labels)
    except LabelSetError as exc:
        raise PublishError(f"{path}: {exc}") from exc
    if len(labels.labels) != card.num_classes:
        raise PublishError(
            f"{path}: label set {card.labels!r} has {len(labels.labels)} names for "
            f"{card.num_classes} classes"
        )
    try:
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several types for unreadable models
        raise PublishError(f"{path}: not a model onnxruntime can load ({exc})") from exc
    _check_signature(path, card, session)
    return CheckedModel(card, data, digest)


def _check_signature(path: Path, card: ModelCard, session: ort.InferenceSession) -> None:
    inputs = {i.name: _dims(i.shape) for i in session.get_inputs()}
    outputs = {o.name: _dims(o.shape) for o in session.get_outputs()}
    crop = card.preprocessing.crop
    expected_in = [None, 3, crop.height, crop.width]
    if inputs.get(card.input) not in (expected_in, [1, *expected_in[1:]]):
        raise PublishError(
            f"{path}: the card expects input {card.input!r} of shape {expected_in}, "
            f"the model has {inputs}"
        )
    if outputs.get(card.output, [None, None])[1:] != [card.num_classes]:
        raise PublishError(
            f"{path}: the card expects output {card.output!r} of {card.num_classes} classes, "
            f"the model has {outputs}"
        )
    zeros = np.zeros((1, 3, crop.height, crop.width), dtype=np.float32)
    try:
        (logits,) = session.run([card.output], {card.input: zeros})
    except Exception as exc:
        raise PublishError(f"{path}: the model fails to run: {exc}") from exc
    if np.shape(logits) != (1, card.num_classes) or not np.all(np.isfinite(logits)):
        raise PublishError(f"{path}: a forward pass gives no finite {card.num_classes} logits")


@contextlib.contextmanager
def _locked(registry: Path) -> Iterator[None]:
    registry.mkdir(parents=True, exist_ok=True)
    with (registry / LOCK_NAME).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _current(registry: Path) -> Manifest | None:
    if not manifest_path(registry).exists():
        return None
    return read_manifest(registry)


def _entry(checked: CheckedModel, earlier: ModelEntry | None) -> ModelEntry:
    same = earlier is not None and earlier.sha256 == checked.sha256
    return ModelEntry.model_validate(
        checked.card.model_dump()
        | {
            "sha256": checked.sha256,
            "size_bytes": len(checked.data),
            "published_at": earlier.published_at if same and earlier else utc_now(),
        }
    )


def publish(
    registry: Path,
    paths: Sequence[Path] = (),
    *,
    default: str | None = None,
    remove: Sequence[str] = (),
) -> Manifest:
    """Check ``paths``, then add them to ``registry`` (replacing their names' versions), drop
    ``remove``, set ``default``; returns the manifest now served."""
    checked = [check_model(path) for path in paths]  # all or nothing
    with _locked(registry):
        current = _current(registry)
        models = dict(current.models) if current else {}
        for model in checked:
            entry = _entry(model, models.get(model.card.name))
            blob = model_file(registry, entry)
            if not (blob.is_file() and blob.stat().st_size == entry.size_bytes):
                write_atomically(blob, model.data)
            models[entry.name] = entry
        for name in remove:
            if models.pop(name, None) is None:
                raise PublishError(f"cannot remove {name!r}: it is not published")
        chosen = default or (current.default if current else None) or next(iter(models), None)
        if chosen is None:
            raise PublishError("nothing to publish: the registry would be empty")
        if chosen in remove:
            raise PublishError(f"{chosen!r} is the default model: choose another default first")
        try:
            manifest = Manifest(default=chosen, models=dict(sorted(models.items())))
        except ValueError as exc:
            raise PublishError(str(exc)) from exc
        if manifest != current:
            write_atomically(manifest_path(registry), manifest.to_json().encode())
        prune(registry, manifest)
    return manifest


def prune(registry: Path, manifest: Manifest) -> list[Path]:
    """Delete files no manifest entry names, except the newest such file of each model."""
    served = {model_file(registry, entry) for entry in manifest.models.values()}
    deleted = []
    for folder in sorted(p for p in registry.iterdir() if p.is_dir()):
        stale = sorted(
            (p for p in folder.glob("*.onnx") if p not in served),
            key=lambda p: p.stat().st_mtime_ns,
            reverse=True,
        )
        keep_previous = 0 if folder.name not in manifest.models else 1
        for path in stale[keep_previous:]:
            path.unlink(missing_ok=True)
            deleted.append(path)
    return deleted


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.model.publish",
        description="Check built models and publish them into a model registry.",
    )
    parser.add_argument("models", nargs="*", type=Path, help="built .onnx files (card beside)")
    parser.add_argument("--registry", type=Path, required=True, help="the registry directory")
    parser.add_argument("--default", help="the model tasks run when they name none")
    parser.add_argument("--remove", action="append", default=[], help="stop serving a model")
    args = parser.parse_args(argv)
    try:
        manifest = publish(args.registry, args.models, default=args.default, remove=args.remove)
    except (PublishError, RegistryError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    for entry in manifest.models.values():
        marker = " (default)" if entry.name == manifest.default else ""
        print(f"{entry.name} {entry.version} {entry.precision} {entry.size_bytes} bytes{marker}")
    print(f"published to {manifest_path(args.registry)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
