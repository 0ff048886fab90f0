"""EfficientNet-Lite0 image classification on onnxruntime (CPU, or CUDA when configured)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from config.settings import ExecutionProvider
from contracts.model_files import INPUT_SIZE, ModelSidecar
from contracts.results import Prediction
from worker.inference.postprocess import label_for, softmax, top_k
from worker.inference.preprocess import DEFAULT_MAX_PIXELS, preprocess
from worker.inference.providers import log_active, provider_chain


@dataclass(frozen=True)
class Classification:
    predictions: list[Prediction]
    preprocess_ms: float
    inference_ms: float


def _session_options(intra_op_threads: int) -> Any:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = intra_op_threads  # 0 = onnxruntime's default
    options.inter_op_num_threads = 1
    # The host also runs the broker and the gateway: idle worker threads must sleep, not spin.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options


class Classifier:
    """Decode an image, run the model and return the top-k labelled predictions.

    One instance per process: the session is loaded once and reused for every job.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        intra_op_threads: int,
        top_k: int = 5,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        provider: ExecutionProvider = ExecutionProvider.CPU,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        if intra_op_threads < 0:
            raise ValueError("intra_op_threads must be >= 0 (0 = onnxruntime default)")
        if top_k < 1:
            raise ValueError("top_k must be >= 1")
        info = ModelSidecar.load(model_path)
        self.name = info.name
        self.version = info.version
        self.top_k = top_k
        self._max_pixels = max_pixels
        # Told the size of every forward pass (metrics), whoever batched the images.
        self._on_batch = on_batch
        self._input = info.input
        self._output = info.output
        self._session = ort.InferenceSession(
            str(model_path),
            sess_options=_session_options(intra_op_threads),
            providers=provider_chain(provider, ort.get_available_providers()),
        )
        self.provider = log_active(provider, self._session.get_providers())
        inputs = {i.name for i in self._session.get_inputs()}
        outputs = {o.name for o in self._session.get_outputs()}
        if self._input not in inputs or self._output not in outputs:
            raise ValueError(
                f"{model_path}: sidecar names {self._input!r}/{self._output!r} do not match "
                f"the model's inputs {sorted(inputs)} / outputs {sorted(outputs)}"
            )

    def warm_up(self) -> None:
        """Run once on zeros so the first real request does not pay for lazy initialisation."""
        self._run(np.zeros((1, 3, INPUT_SIZE, INPUT_SIZE), dtype=np.float32))

    def classify(self, data: bytes) -> Classification:
        """Classify encoded image bytes. Raises UndecodableImageError for unusable input."""
        started = time.perf_counter()
        tensor = self.prepare(data)
        preprocessed = time.perf_counter()
        logits = self.infer(tensor)
        finished = time.perf_counter()
        return Classification(
            predictions=self.rank(logits[0]),
            preprocess_ms=(preprocessed - started) * 1000.0,
            inference_ms=(finished - preprocessed) * 1000.0,
        )

    # The three steps of ``classify``, apart, so a micro-batcher can run one model call for
    # several images (worker.inference.batching).
    def prepare(self, data: bytes) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Encoded bytes -> model input of shape [1, 3, 224, 224]."""
        return preprocess(data, max_pixels=self._max_pixels)

    def infer(self, batch: np.ndarray[Any, np.dtype[np.float32]]) -> np.ndarray[Any, Any]:
        """Model inputs [N, 3, 224, 224] -> logits [N, 1000]."""
        if self._on_batch is not None:
            self._on_batch(len(batch))
        return self._run(batch)

    def rank(self, logits: np.ndarray[Any, Any]) -> list[Prediction]:
        """One image's logits -> its top-k labelled predictions."""
        ranked = top_k(softmax(logits), self.top_k)
        return [Prediction(class_id=i, label=label_for(i), confidence=p) for i, p in ranked]

    def _run(self, tensor: np.ndarray[Any, np.dtype[np.float32]]) -> np.ndarray[Any, Any]:
        outputs = self._session.run([self._output], {self._input: tensor})
        result: np.ndarray[Any, Any] = np.asarray(outputs[0])
        return result
