"""The int8 variant of a built model: onnxruntime static QDQ quantization, per channel.

Static (not dynamic) quantization: the activation ranges are measured once on a calibration set,
so inference runs int8 kernels end to end; dynamic quantization re-measures at every call and
is many times slower for this CNN. The calibration set and the held-out photos that measure how
often the int8 model's top-1 agrees with fp32 come from ``tools.model.photos``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from contracts.model_files import ModelCard, sidecar_path
from tools.model.build import model_version, write_atomically
from tools.model.photos import (
    CALIBRATION_CROPS_PER_PHOTO,
    CALIBRATION_PHOTOS,
    HOLDOUT_CROPS_PER_PHOTO,
    HOLDOUT_PHOTOS,
    HOLDOUT_SEED,
    Tensor,
    photo_tensors,
)


class _CalibrationReader:
    """The ``CalibrationDataReader`` protocol of onnxruntime.quantization."""

    def __init__(self, input_name: str, tensors: list[Tensor]) -> None:
        self._feeds = iter([{input_name: t} for t in tensors])

    def get_next(self) -> dict[str, Tensor] | None:
        return next(self._feeds, None)


@dataclass(frozen=True)
class Int8Result:
    path: Path
    version: str
    size_bytes: int
    calibration_images: int


def _quantize_static(fp32_path: Path, input_name: str, tensors: list[Tensor], out: Path) -> bytes:
    """Write the QDQ model to ``out`` (renamed into place once complete); return its bytes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quantized = Path(tmp) / "quantized.onnx"
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(quantized),
            _CalibrationReader(input_name, tensors),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
        data = quantized.read_bytes()
        quantized.replace(out)
    return data


def quantize(fp32_path: Path, out: Path) -> Int8Result:
    """Quantize ``fp32_path`` into ``out`` (+ sidecar) with a per-channel static QDQ model."""
    fp32 = ModelCard.load(fp32_path)
    tensors = photo_tensors(fp32.preprocessing, CALIBRATION_PHOTOS, CALIBRATION_CROPS_PER_PHOTO)
    data = _quantize_static(fp32_path, fp32.input, tensors, out)
    int8 = ModelCard.model_validate(
        fp32.model_dump()
        | {
            "name": f"{fp32.name}-int8",
            "version": model_version(data),
            "precision": "int8",
            "quantization": "onnxruntime static QDQ, per-channel int8 weights, uint8 activations",
            "calibration": f"{len(tensors)} crops of {len(CALIBRATION_PHOTOS)} scikit-image photos",
        }
    )
    write_atomically(sidecar_path(out), int8.to_json().encode())
    return Int8Result(out, int8.version, len(data), len(tensors))


@dataclass(frozen=True)
class Agreement:
    images: int
    top1_agree: int

    @property
    def rate(self) -> float:
        return self.top1_agree / self.images


def holdout_top1(model: Path | bytes, card: ModelCard | None = None) -> np.ndarray:
    """The model's top-1 class of each held-out photo and crop, through its own
    preprocessing (so models of different input sizes see the same photos). ``card``
    defaults to the sidecar of a ``model`` path."""
    if card is None:
        assert isinstance(model, Path), "a model given as bytes needs its card"
        card = ModelCard.load(model)
    tensors = photo_tensors(
        card.preprocessing, HOLDOUT_PHOTOS, HOLDOUT_CROPS_PER_PHOTO, seed=HOLDOUT_SEED
    )
    source = model if isinstance(model, bytes) else str(model)
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    logits = session.run([card.output], {card.input: np.concatenate(tensors)})[0]
    picks: np.ndarray = np.asarray(logits).argmax(axis=1)
    return picks


def top1_agreement(reference_path: Path, other_path: Path) -> Agreement:
    """How often both models pick the same top-1 class on held-out photos and their crops."""
    reference, other = holdout_top1(reference_path), holdout_top1(other_path)
    return Agreement(images=len(reference), top1_agree=int((reference == other).sum()))
