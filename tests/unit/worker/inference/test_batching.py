"""Micro-batching logic with a scripted model: concurrent calls share one model call, each gets
its own row back, and failures reach every caller of the batch."""

import threading
from typing import Any

import numpy as np
import pytest
from PIL import Image

from contracts.results import Prediction
from worker.inference.batching import MicroBatcher
from worker.inference.preprocess import UndecodableImageError


class EchoModel:
    """'Decodes' bytes b"<n>" to a tensor filled with n; its logits say which input they are."""

    name = "echo"
    version = "1"

    def __init__(self, *, fail_inference: bool = False) -> None:
        self.calls: list[int] = []
        self.fail_inference = fail_inference
        self.release = threading.Event()
        self.release.set()
        self.inferring = threading.Event()

    def prepare(self, data: bytes) -> np.ndarray[Any, np.dtype[np.float32]]:
        if data == b"garbage":
            raise UndecodableImageError("cannot decode image")
        return np.full((1, 3, 2, 2), float(data.decode()), dtype=np.float32)

    def infer(self, batch: np.ndarray[Any, np.dtype[np.float32]]) -> np.ndarray[Any, Any]:
        self.inferring.set()
        self.release.wait(30)
        self.calls.append(batch.shape[0])
        if self.fail_inference:
            raise RuntimeError("device lost")
        logits = np.zeros((batch.shape[0], 10), dtype=np.float32)
        for row, value in enumerate(batch[:, 0, 0, 0]):
            logits[row, int(value)] = 1.0
        return logits

    def rank(self, logits: np.ndarray[Any, Any]) -> list[Prediction]:
        index = int(np.argmax(logits))
        return [Prediction(class_id=index, label=str(index), confidence=1.0)]

    def input_image(self, tensor: np.ndarray[Any, np.dtype[np.float32]]) -> Image.Image:
        return Image.new("RGB", (2, 2), (int(tensor[0, 0, 0, 0]),) * 3)


def _classify_concurrently(batcher: MicroBatcher, inputs: list[bytes]) -> dict[bytes, object]:
    results: dict[bytes, object] = {}

    def call(data: bytes) -> None:
        try:
            results[data] = batcher.classify(data).predictions[0].class_id
        except Exception as exc:
            results[data] = exc

    threads = [threading.Thread(target=call, args=(data,)) for data in inputs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_concurrent_images_share_batches_and_each_gets_its_own_answer() -> None:
    model = EchoModel()
    model.release.clear()  # hold the first model call so the others pile up behind it
    batcher = MicroBatcher(model, max_size=4, max_wait_s=0.01)
    inputs = [str(n).encode() for n in range(9)]
    answers: list[dict[bytes, object]] = []
    try:
        first = threading.Thread(
            target=lambda: answers.append(_classify_concurrently(batcher, inputs[:1]))
        )
        first.start()
        assert model.inferring.wait(30)
        rest = threading.Thread(
            target=lambda: answers.append(_classify_concurrently(batcher, inputs[1:]))
        )
        rest.start()
        for _ in range(600):
            if batcher.backlog == 8:
                break
            threading.Event().wait(0.05)
        model.release.set()
        first.join(30)
        rest.join(30)
    finally:
        batcher.close()
    assert {k: v for answer in answers for k, v in answer.items()} == {
        data: int(data) for data in inputs
    }
    assert model.calls == [1, 4, 4]
    assert batcher.batch_sizes == {1: 1, 4: 2}


def test_a_lone_image_does_not_wait_for_company_that_is_not_coming() -> None:
    model = EchoModel()
    # An hour's wait would hang the test if the batcher waited for more images.
    batcher = MicroBatcher(model, max_size=8, max_wait_s=3600)
    try:
        result = batcher.classify(b"3")
    finally:
        batcher.close()
    assert result.predictions[0].class_id == 3
    assert model.calls == [1]


def test_an_undecodable_image_fails_its_caller_only() -> None:
    model = EchoModel()
    # A failed decode must end the wait for it too (or this would hang for an hour).
    batcher = MicroBatcher(model, max_size=4, max_wait_s=3600)
    try:
        results = _classify_concurrently(batcher, [b"garbage", b"5"])
    finally:
        batcher.close()
    assert isinstance(results[b"garbage"], UndecodableImageError)
    assert results[b"5"] == 5


def test_a_failed_model_call_reaches_every_caller_of_the_batch() -> None:
    model = EchoModel(fail_inference=True)
    batcher = MicroBatcher(model, max_size=4, max_wait_s=0.01)
    try:
        results = _classify_concurrently(batcher, [b"1", b"2"])
    finally:
        batcher.close()
    assert all(isinstance(r, RuntimeError) for r in results.values())


@pytest.mark.parametrize(("size", "wait"), [(0, 0.01), (4, -1.0)])
def test_nonsense_limits_are_refused(size: int, wait: float) -> None:
    with pytest.raises(ValueError):
        MicroBatcher(EchoModel(), max_size=size, max_wait_s=wait)
