"""Build the fp32 model from the installed weights package and write it with its sidecar."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from contracts.model_files import ModelCard, efficientnet_preprocessing, sidecar_path
from tools.model.architecture import LITE0, EfficientNetLite
from tools.model.checkpoint import load_weights, weights_path
from tools.model.graph import INPUT_NAME, OUTPUT_NAME, build_graph

# The family is trained on ImageNet-1k; its class names (contracts/label_sets/imagenet-1k.tsv).
LABEL_SET = "imagenet-1k"


@dataclass(frozen=True)
class BuildResult:
    path: Path
    sidecar: Path
    version: str
    size_bytes: int


def model_version(data: bytes) -> str:
    """A model's version: the first 12 hex digits of its file's SHA-256."""
    return hashlib.sha256(data).hexdigest()[:12]


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temp file in the same directory and rename, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def model_bytes(spec: EfficientNetLite = LITE0) -> bytes:
    """Serialised ONNX model built from the installed weights package (deterministic)."""
    model = build_graph(spec, load_weights(weights_path(spec.weights)))
    data: bytes = model.SerializeToString(deterministic=True)
    return data


def build(out: Path, spec: EfficientNetLite = LITE0) -> BuildResult:
    """Build the model into ``out`` and its sidecar next to it."""
    data = model_bytes(spec)
    distribution = spec.weights.distribution
    card = ModelCard(
        name=spec.name,
        version=model_version(data),
        precision="fp32",
        input_size=spec.resolution,
        num_classes=spec.num_classes,
        labels=LABEL_SET,
        preprocessing=efficientnet_preprocessing(
            input_size=spec.resolution,
            short_side=spec.resize_short_side,
            num_classes=spec.num_classes,
            input_name=INPUT_NAME,
            output_name=OUTPUT_NAME,
        ),
        source=f"{distribution}=={metadata.version(distribution)}",
    )
    write_atomically(out, data)
    write_atomically(sidecar_path(out), card.to_json().encode())
    return BuildResult(out, sidecar_path(out), card.version, len(data))
