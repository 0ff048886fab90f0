"""Image classification with one ONNX model on onnxruntime (CPU, or CUDA when configured).

The model is described by its card (``contracts.model_files.ModelCard``): input size and
preprocessing, tensor names, classes and the label set naming them. Nothing here assumes a
particular model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from PIL import Image

from config.settings import ExecutionProvider
from contracts.labels import load_label_set
from contracts.model_files import ModelCard
from contracts.results import Prediction
from worker.inference.postprocess import softmax, top_k
from worker.inference.preprocess import DEFAULT_MAX_PIXELS, preprocess, to_image
from worker.inference.providers import log_active, provider_chain


@dataclass(frozen=True)
class Classification:
    predictions: list[Prediction]
    preprocess_ms: float
    inference_ms: float
    # What the model saw (after EXIF rotation, resize and crop), for the processed image.
    model_input: Image.Image | None = None


def _session_options(intra_op_threads: int, spinning: bool) -> Any:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = intra_op_threads  # 0 = onnxruntime's default
    options.inter_op_num_threads = 1
    # Spinning threads answer sooner but hold their cores: only where cores are spare
    # (config.machine.default_spinning); a host shared with the broker and the gateway sleeps.
    spin = "1" if spinning else "0"
    options.add_session_config_entry("session.intra_op.allow_spinning", spin)
    options.add_session_config_entry("session.inter_op.allow_spinning", spin)
    return options


class Classifier:
    """Decode an image, run the model and return the top-k labelled predictions.

    Built once per model and reused for every task that names it (``worker.inference.cache``).
    """

    def __init__(
        self,
        card: ModelCard,
        model: bytes | Path,
        *,
        intra_op_threads: int,
        spinning: bool = False,
        top_k: int = 5,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        provider: ExecutionProvider = ExecutionProvider.CPU,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        if intra_op_threads < 0:
            raise ValueError("intra_op_threads must be >= 0 (0 = onnxruntime default)")
        if top_k < 1:
            raise ValueError("top_k must be >= 1")
        self.card = card
        self.name = card.name
        self.version = card.version
        self.top_k = top_k
        self._max_pixels = max_pixels
        # Told the size of every forward pass (metrics), whoever batched the images.
        self._on_batch = on_batch
        self._labels = load_label_set(card.labels)
        if len(self._labels.labels) != card.num_classes:
            raise ValueError(
                f"{card.name}: label set {card.labels!r} names {len(self._labels.labels)} "
                f"classes, the model has {card.num_classes}"
            )
        self._input = card.input
        self._output = card.output
        self._session = ort.InferenceSession(
            model if isinstance(model, bytes) else str(model),
            sess_options=_session_options(intra_op_threads, spinning),
            providers=provider_chain(provider, ort.get_available_providers()),
        )
        self.provider = log_active(provider, self._session.get_providers())
        inputs = {i.name for i in self._session.get_inputs()}
        outputs = {o.name for o in self._session.get_outputs()}
        if self._input not in inputs or self._output not in outputs:
            raise ValueError(
                f"{card.name}: its card names {self._input!r}/{self._output!r}, the model has "
                f"inputs {sorted(inputs)} / outputs {sorted(outputs)}"
            )

    @classmethod
    def from_file(cls, model_path: Path, **options: Any) -> Classifier:
        """A built model file and the card beside it (``<file>.json``)."""
        return cls(ModelCard.load(model_path), model_path, **options)

    def warm_up(self) -> None:
        """Run once on zeros so the first real request does not pay for lazy initialisation."""
        crop = self.card.preprocessing.crop
        self._run(np.zeros((1, 3, crop.height, crop.width), dtype=np.float32))

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
            model_input=self.input_image(tensor),
        )

    def input_image(self, tensor: np.ndarray[Any, np.dtype[np.float32]]) -> Image.Image:
        """The picture a model input [1, 3, H, W] was made from (``preprocess.to_image``)."""
        return to_image(tensor, self.card.preprocessing)

    # The three steps of ``classify``, apart, so a micro-batcher can run one model call for
    # several images (worker.inference.batching).
    def prepare(self, data: bytes) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Encoded bytes -> model input of shape [1, 3, H, W] (the card's input size)."""
        return preprocess(data, self.card.preprocessing, max_pixels=self._max_pixels)

    def infer(self, batch: np.ndarray[Any, np.dtype[np.float32]]) -> np.ndarray[Any, Any]:
        """Model inputs [N, 3, H, W] -> logits [N, classes]."""
        if self._on_batch is not None:
            self._on_batch(len(batch))
        return self._run(batch)

    def rank(self, logits: np.ndarray[Any, Any]) -> list[Prediction]:
        """One image's logits -> its top-k labelled predictions."""
        ranked = top_k(softmax(logits), self.top_k)
        return [
            Prediction(class_id=i, label=self._labels.label(i), confidence=p) for i, p in ranked
        ]

    def _run(self, tensor: np.ndarray[Any, np.dtype[np.float32]]) -> np.ndarray[Any, Any]:
        outputs = self._session.run([self._output], {self._input: tensor})
        result: np.ndarray[Any, Any] = np.asarray(outputs[0])
        return result
