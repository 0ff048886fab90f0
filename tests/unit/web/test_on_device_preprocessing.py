"""The page's on-device preprocessing (web/src/ondevice/tensor.js, run by Node) gives the model
exactly the input the worker's Pillow code gives it, for the same decoded photo: the resize,
crop and normalisation are followed from the published record to the last bit."""

import json
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from contracts.model_files import Preprocessing, efficientnet_preprocessing
from tools.devstack import REPO_ROOT
from tools.model.photos import sample_photo
from worker.inference.preprocess import resize_and_crop, to_tensor

# Reads RGBA pixels on stdin, writes the float32 input tensor on stdout.
_RUN_TENSOR = """
import { toInputTensor } from './src/ondevice/tensor.js';
const [width, height, record] = JSON.parse(process.argv[1]);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const data = new Uint8Array(Buffer.concat(chunks));
const tensor = toInputTensor({ data, width, height }, record);
process.stdout.write(Buffer.from(tensor.buffer));
"""

LITE0 = efficientnet_preprocessing(input_size=224, short_side=256, num_classes=1000)
LITE2 = efficientnet_preprocessing(input_size=260, short_side=292, num_classes=1000)


def _page_tensor(image: Image.Image, spec: Preprocessing) -> np.ndarray:
    run = subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            _RUN_TENSOR,
            json.dumps([*image.size, spec.model_dump(mode="json")]),
        ],
        input=image.convert("RGBA").tobytes(),
        capture_output=True,
        cwd=REPO_ROOT / "web",
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode()
    shape = (1, 3, spec.crop.height, spec.crop.width)
    return np.frombuffer(run.stdout, dtype=np.float32).reshape(shape)


@pytest.mark.parametrize("spec", [LITE0, LITE2], ids=["lite0", "lite2"])
@pytest.mark.parametrize(
    ("photo", "size"),
    [
        ("coffee.png", None),
        ("chelsea.png", None),
        ("rocket.jpg", None),
        ("astronaut.png", (2048, 2048)),  # a large photo, shrunk 8x: the filter's full width
        ("coffee.png", (150, 900)),  # tall and narrow, enlarged across
    ],
)
def test_the_pages_tensor_is_the_workers_to_the_bit(
    photo: str, size: tuple[int, int] | None, spec: Preprocessing
) -> None:
    if shutil.which("node") is None:
        pytest.fail("node is not installed (Node 20.19+ builds and tests the web page)")
    image = sample_photo(photo).convert("RGB")
    if size is not None:
        image = image.resize(size, Image.Resampling.LANCZOS)
    expected = to_tensor(resize_and_crop(image, spec), spec)
    np.testing.assert_array_equal(_page_tensor(image, spec), expected)
