"""Fold an inference-mode BatchNorm into the convolution before it."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]
FloatArray = NDArray[np.float32]


def fold_batch_norm(
    conv_weight: Array,
    gamma: Array,
    beta: Array,
    running_mean: Array,
    running_var: Array,
    *,
    eps: float,
) -> tuple[FloatArray, FloatArray]:
    """The kernel and bias of a convolution that computes BN(conv(x)) in one step.

    BN(conv(x)) = scale * conv(x) + (beta - scale * mean) with scale = gamma / sqrt(var + eps),
    and scale * conv(x) is conv(x) with each output channel's kernel multiplied by scale.
    Computed in float64 so the rounding to float32 happens once.
    """
    scale = gamma.astype(np.float64) / np.sqrt(running_var.astype(np.float64) + eps)
    weight = conv_weight.astype(np.float64) * scale.reshape(-1, *([1] * (conv_weight.ndim - 1)))
    bias = beta.astype(np.float64) - running_mean.astype(np.float64) * scale
    return weight.astype(np.float32), bias.astype(np.float32)
