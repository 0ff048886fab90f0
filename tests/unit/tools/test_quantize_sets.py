"""The int8 calibration set and the photos that judge it never overlap, and are reproducible."""

import numpy as np

from contracts.model_files import efficientnet_preprocessing
from tools.model.photos import (
    CALIBRATION_PHOTOS,
    HOLDOUT_PHOTOS,
    photo_tensors,
    sample_photo,
)


def test_calibration_and_evaluation_photos_are_disjoint() -> None:
    assert not set(CALIBRATION_PHOTOS) & set(HOLDOUT_PHOTOS)
    assert "motorcycle_right.png" not in HOLDOUT_PHOTOS  # the stereo twin of a calibration photo


def test_every_photo_ships_with_scikit_image() -> None:
    for name in CALIBRATION_PHOTOS + HOLDOUT_PHOTOS:
        image = sample_photo(name)
        assert image.mode == "RGB"
        assert min(image.size) >= 224


def test_crops_are_model_inputs_and_reproducible() -> None:
    spec = efficientnet_preprocessing(input_size=260, short_side=292, num_classes=1000)
    first = photo_tensors(spec, HOLDOUT_PHOTOS[:1], 3, seed=7)
    again = photo_tensors(spec, HOLDOUT_PHOTOS[:1], 3, seed=7)
    assert len(first) == 3
    assert all(t.shape == (1, 3, 260, 260) and t.dtype == np.float32 for t in first)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[1], first[2])
