"""Tiny but real ONNX classifiers with their cards, for tests that need a model file and no
built model: 3x8x8 input, global average pool, a linear layer to 1000 classes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from contracts.model_files import ModelCard, efficientnet_preprocessing, sidecar_path
from contracts.model_registry import ModelEntry
from tools.model.build import model_version, write_atomically

SIZE = 8


def tiny_model(
    out: Path,
    name: str = "tiny",
    *,
    seed: int = 0,
    classes: int = 1000,
    card_size: int = SIZE,
    weight: float | None = None,
) -> Path:
    """Write ``out`` and its card; ``card_size`` and ``weight`` (e.g. NaN) make bad ones."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((classes, 3)).astype(np.float32)
    if weight is not None:
        w[:] = weight
    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["input"], ["pool"]),
            helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
            helper.make_node("Gemm", ["flat", "w", "b"], ["logits"], transB=1),
        ],
        name,
        inputs=[
            helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, SIZE, SIZE])
        ],
        outputs=[helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])],
        initializer=[
            numpy_helper.from_array(w, "w"),
            numpy_helper.from_array(np.zeros(classes, np.float32), "b"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    data: bytes = model.SerializeToString(deterministic=True)
    write_atomically(out, data)
    card = ModelCard(
        name=name,
        version=model_version(data),
        precision="fp32",
        input_size=card_size,
        num_classes=classes,
        labels="imagenet-1k",
        preprocessing=efficientnet_preprocessing(
            input_size=card_size, short_side=card_size + 32, num_classes=classes
        ),
    )
    write_atomically(sidecar_path(out), card.to_json().encode())
    return out


def model_entry(name: str, version: str = "aaaaaaaaaaaa") -> ModelEntry:
    """A manifest entry of a 224-px ImageNet model, for tests that never open its file."""
    return ModelEntry(
        name=name,
        version=version,
        precision="fp32",
        input_size=224,
        num_classes=1000,
        labels="imagenet-1k",
        preprocessing=efficientnet_preprocessing(input_size=224, short_side=256, num_classes=1000),
        sha256=version + "0" * 52,
        size_bytes=1,
        published_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
