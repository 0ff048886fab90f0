"""Micro-batching: one model call for the images that arrive within a few milliseconds.

Triton-style dynamic batching. Every processing thread of the consumer decodes its own image
(in parallel: Pillow releases the GIL) and hands the tensor to one batching thread, which runs
the model as soon as ``max_size`` tensors are waiting or ``max_wait`` has passed since the
first, then gives each thread its row back. Each thread then stores its own result and acks its
own message, so an ack still means "result stored".

A batch only waits while another image is still being decoded: a lone image (one client, an
idle queue) goes to the model at once instead of paying ``max_wait`` for company that is not
coming. It pays where one call on N images is much cheaper than N calls (a GPU); on a small CPU
the model is already compute-bound at batch 1, so it is off by default
(``worker_batch_max_size=1``).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import structlog
from PIL import Image

from contracts.results import Prediction
from worker.inference.classifier import Classification

logger = structlog.stdlib.get_logger(__name__)

Tensor = np.ndarray[Any, np.dtype[np.float32]]


class BatchableClassifier(Protocol):
    name: str
    version: str

    def prepare(self, data: bytes) -> Tensor: ...

    def infer(self, batch: Tensor) -> np.ndarray[Any, Any]: ...

    def rank(self, logits: np.ndarray[Any, Any]) -> list[Prediction]: ...

    def input_image(self, tensor: Tensor) -> Image.Image: ...


@dataclass
class _Pending:
    tensor: Tensor
    result: Future[np.ndarray[Any, Any]] = field(default_factory=Future)


_STOP = None
_NUDGE = object()  # "a decode finished without a tensor": re-check whether to keep waiting


class MicroBatcher:
    """Drop-in for ``Classifier.classify`` that groups concurrent calls into batches."""

    def __init__(self, classifier: BatchableClassifier, *, max_size: int, max_wait_s: float):
        if max_size < 1:
            raise ValueError("max_size must be >= 1")
        if max_wait_s < 0:
            raise ValueError("max_wait_s must be >= 0")
        self.name = classifier.name
        self.version = classifier.version
        self._classifier = classifier
        self._max_size = max_size
        self._max_wait_s = max_wait_s
        self._queue: queue.SimpleQueue[_Pending | object | None] = queue.SimpleQueue()
        self._decoding = 0  # images between the start of their decode and the queue
        self._decoding_lock = threading.Lock()
        self.batch_sizes: Counter[int] = Counter()  # batch size -> batches run (bounded)
        self._thread = threading.Thread(target=self._serve, name="micro-batcher", daemon=True)
        self._thread.start()

    @property
    def backlog(self) -> int:
        """Decoded images waiting for a model call."""
        return self._queue.qsize()

    def classify(self, data: bytes) -> Classification:
        """Decode in the calling thread, infer in a batch; UndecodableImageError as usual."""
        started = time.perf_counter()
        with self._decoding_lock:
            self._decoding += 1
        try:
            pending = _Pending(self._classifier.prepare(data))
        except BaseException:
            self._leave_decoding(_NUDGE)
            raise
        prepared = time.perf_counter()
        self._leave_decoding(pending)
        logits = pending.result.result()
        finished = time.perf_counter()
        return Classification(
            predictions=self._classifier.rank(logits),
            preprocess_ms=(prepared - started) * 1000.0,
            # What this image waited for: gathering the batch plus the model call.
            inference_ms=(finished - prepared) * 1000.0,
            model_input=self._classifier.input_image(pending.tensor),
        )

    def _leave_decoding(self, item: _Pending | object) -> None:
        with self._decoding_lock:
            self._decoding -= 1
            self._queue.put(item)  # under the lock: never "nothing decoding, nothing queued"

    def _more_coming(self) -> bool:
        with self._decoding_lock:
            return self._decoding > 0 or self._queue.qsize() > 0

    def close(self) -> None:
        """Finish the batches already queued, then stop the batching thread."""
        self._queue.put(_STOP)
        self._thread.join()

    def _serve(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            if not isinstance(first, _Pending):
                continue
            batch = [first]
            deadline = time.monotonic() + self._max_wait_s
            while len(batch) < self._max_size and self._more_coming():
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                if isinstance(item, _Pending):
                    batch.append(item)
            self._run(batch)

    def _run(self, batch: list[_Pending]) -> None:
        self.batch_sizes[len(batch)] += 1
        try:
            inputs = (
                batch[0].tensor if len(batch) == 1 else np.concatenate([p.tensor for p in batch])
            )
            logits = self._classifier.infer(inputs)
        except Exception as exc:  # the callers own the failure: each re-raises it
            logger.exception("batched inference failed", images=len(batch))
            for pending in batch:
                pending.result.set_exception(exc)
            return
        for index, pending in enumerate(batch):
            pending.result.set_result(logits[index])
