"""Build the int8 variant of the model: onnxruntime static QDQ quantization, per channel.

Static (not dynamic) quantization: the activation ranges are measured once on a calibration set,
so inference runs int8 kernels end to end; dynamic quantization re-measures at every call and
is many times slower for this CNN. The calibration set is built offline from real photographs
shipped with scikit-image (public-domain / CC0 sample data) and seeded random crops of them, run
through the worker's own preprocessing. A separate set of photos, never used for calibration,
measures how often the int8 model's top-1 agrees with fp32.

Run through ``python -m worker.model_build --int8-out ...`` (``make model``).
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray
from PIL import Image

from worker.inference.preprocess import preprocess

# scikit-image sample photographs (skimage/data): calibration and held-out evaluation never share
# a photo (motorcycle_right is left out: it is the stereo twin of motorcycle_left).
CALIBRATION_PHOTOS = (
    "astronaut.png",
    "rocket.jpg",
    "hubble_deep_field.jpg",
    "retina.jpg",
    "motorcycle_left.png",
    "camera.png",
    "grass.png",
    "gravel.png",
    "brick.png",
    "coins.png",
    "cell.png",
)
HOLDOUT_PHOTOS = ("chelsea.png", "coffee.png", "ihc.png", "moon.png", "clock_motion.png")
CALIBRATION_CROPS_PER_PHOTO = 10
HOLDOUT_CROPS_PER_PHOTO = 16
_SEED = 20240601

Tensor = NDArray[np.float32]


def sample_photo(name: str) -> Image.Image:
    """One of scikit-image's bundled sample photographs, as RGB (no network)."""
    photo = resources.files("skimage") / "data" / name
    with resources.as_file(photo) as path, Image.open(path) as image:
        return image.convert("RGB")


def crops(image: Image.Image, count: int, rng: np.random.Generator) -> Iterator[bytes]:
    """The whole photo, then ``count - 1`` random crops (50-100 % of the short side, random
    mirror), each encoded as a JPEG the way a phone would upload it."""
    width, height = image.size
    for index in range(count):
        if index == 0:
            crop = image
        else:
            side = int(min(width, height) * rng.uniform(0.5, 1.0))
            left = int(rng.integers(0, width - side + 1))
            top = int(rng.integers(0, height - side + 1))
            crop = image.crop((left, top, left + side, top + side))
            if rng.random() < 0.5:
                crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        buffer = io.BytesIO()
        crop.save(buffer, format="JPEG", quality=90)
        yield buffer.getvalue()


def photo_tensors(names: Sequence[str], crops_per_photo: int, seed: int = _SEED) -> list[Tensor]:
    """Model inputs for crops of the named photos, through the worker's own preprocessing."""
    rng = np.random.default_rng(seed)
    return [
        preprocess(jpeg)
        for name in names
        for jpeg in crops(sample_photo(name), crops_per_photo, rng)
    ]


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


def quantize(fp32_path: Path, out: Path) -> Int8Result:
    """Quantize ``fp32_path`` into ``out`` (+ sidecar) with a per-channel static QDQ model."""
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    meta: dict[str, Any] = json.loads(fp32_path.with_name(fp32_path.name + ".json").read_text())
    tensors = photo_tensors(CALIBRATION_PHOTOS, CALIBRATION_CROPS_PER_PHOTO)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quantized = Path(tmp) / "quantized.onnx"
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(quantized),
            _CalibrationReader(meta["input"], tensors),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
        data = quantized.read_bytes()
        version = hashlib.sha256(data).hexdigest()[:12]
        quantized.replace(out)
    meta.update(
        version=version,
        precision="int8",
        quantization="onnxruntime static QDQ, per-channel int8 weights, uint8 activations",
        calibration=f"{len(tensors)} crops of {len(CALIBRATION_PHOTOS)} scikit-image photos",
    )
    out.with_name(out.name + ".json").write_text(json.dumps(meta, indent=2) + "\n")
    return Int8Result(out, version, len(data), len(tensors))


@dataclass(frozen=True)
class Agreement:
    images: int
    top1_agree: int

    @property
    def rate(self) -> float:
        return self.top1_agree / self.images


def top1_agreement(fp32_path: Path, int8_path: Path) -> Agreement:
    """How often both models pick the same top-1 class on held-out photos and their crops."""
    tensors = photo_tensors(HOLDOUT_PHOTOS, HOLDOUT_CROPS_PER_PHOTO, seed=_SEED + 1)
    batch = np.concatenate(tensors)
    picks = []
    for path in (fp32_path, int8_path):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        picks.append(np.asarray(session.run(None, {name: batch})[0]).argmax(axis=1))
    return Agreement(images=len(tensors), top1_agree=int((picks[0] == picks[1]).sum()))
