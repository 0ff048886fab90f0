"""softmax, top_k and labels against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from worker.inference.postprocess import softmax, top_k


def test_softmax_matches_hand_computed_values() -> None:
    # exp(0) : exp(ln 2) : exp(ln 3) = 1 : 2 : 3
    probs = softmax([0.0, math.log(2), math.log(3)])
    np.testing.assert_allclose(probs, [1 / 6, 2 / 6, 3 / 6], rtol=1e-12)


def test_softmax_of_equal_logits_is_uniform() -> None:
    np.testing.assert_allclose(softmax(np.zeros(1000)), np.full(1000, 1e-3), rtol=1e-12)


def test_softmax_is_stable_for_huge_logits() -> None:
    probs = softmax(np.array([1e4, 1e4 + math.log(3), -1e4], dtype=np.float32))
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs, [0.25, 0.75, 0.0], atol=1e-4)


def test_softmax_works_on_the_last_axis_of_a_batch() -> None:
    probs = softmax(np.array([[0.0, 0.0], [0.0, math.log(3)]]))
    np.testing.assert_allclose(probs, [[0.5, 0.5], [0.25, 0.75]], rtol=1e-12)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0)


def test_top_k_is_sorted_by_probability() -> None:
    assert top_k([0.1, 0.5, 0.15, 0.25], 3) == [(1, 0.5), (3, 0.25), (2, 0.15)]


def test_top_k_breaks_ties_by_lower_class_id() -> None:
    assert top_k([0.2, 0.3, 0.2, 0.3, 0.0], 4) == [(1, 0.3), (3, 0.3), (0, 0.2), (2, 0.2)]


def test_top_k_larger_than_classes_returns_all_and_zero_returns_none() -> None:
    assert top_k([0.4, 0.6], 5) == [(1, 0.6), (0, 0.4)]
    assert top_k([0.4, 0.6], 0) == []


def test_top_k_returns_plain_python_types() -> None:
    ((class_id, prob),) = top_k(np.array([0.25, 0.75], dtype=np.float32), 1)
    assert type(class_id) is int
    assert type(prob) is float


def test_top_k_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        top_k([0.5, 0.5], -1)
    with pytest.raises(ValueError):
        top_k([[0.5, 0.5]], 1)
