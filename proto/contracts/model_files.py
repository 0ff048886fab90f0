"""A built model on disk: ``<name>.onnx`` and its sidecar ``<name>.onnx.json``.

The model build writes both; the worker reads them. The sidecar names the model, its version
(the first 12 hex digits of the file's SHA-256) and its input and output tensors.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SIDECAR_SUFFIX = ".json"
# EfficientNet-Lite0 on ImageNet-1k: a 224x224 RGB input and 1000 class logits.
INPUT_SIZE = 224
NUM_CLASSES = 1000


def sidecar_path(model_path: Path) -> Path:
    """Where the sidecar of ``model_path`` lives: next to it, ``.json`` appended."""
    return model_path.with_name(model_path.name + SIDECAR_SUFFIX)


@dataclass(frozen=True)
class ModelSidecar:
    name: str
    version: str
    input: str
    output: str
    # Build provenance (source weights, precision, calibration...): reported, never required.
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, model_path: Path) -> ModelSidecar:
        path = sidecar_path(model_path)
        try:
            raw = dict(json.loads(path.read_text(encoding="utf-8")))
            known = {key: str(raw.pop(key)) for key in ("name", "version", "input", "output")}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"cannot read model metadata {path}: {exc}") from exc
        return cls(**known, extra=raw)

    def to_json(self) -> str:
        fields = asdict(self)
        extra = fields.pop("extra")
        return json.dumps({**fields, **extra}, indent=2) + "\n"
