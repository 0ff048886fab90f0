"""Real photographs as model inputs: the int8 calibration set and the held-out set judging it.

The photos ship with scikit-image (``skimage/data``: public-domain / CC0 sample data), so the
sets are built offline. Each photo gives itself plus seeded random crops, encoded as JPEGs the
way a phone would upload them and run through the worker's own preprocessing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from importlib import resources

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from contracts.model_files import Preprocessing
from worker.inference.preprocess import preprocess

# Calibration and held-out evaluation never share a photo (motorcycle_right is left out: it is
# the stereo twin of motorcycle_left).
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
CALIBRATION_SEED = 20240601
HOLDOUT_SEED = CALIBRATION_SEED + 1

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


def photo_tensors(
    spec: Preprocessing, names: Sequence[str], crops_per_photo: int, seed: int = CALIBRATION_SEED
) -> list[Tensor]:
    """Inputs of the model ``spec`` describes for crops of the named photos, through the
    worker's own preprocessing."""
    rng = np.random.default_rng(seed)
    return [
        preprocess(jpeg, spec)
        for name in names
        for jpeg in crops(sample_photo(name), crops_per_photo, rng)
    ]
