"""Turn model logits into ranked predictions (the labels come from the model's label set,
``contracts.labels``)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


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
