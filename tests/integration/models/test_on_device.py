"""The on-device path, proved: download each model over HTTP, run it locally with onnxruntime
after preprocessing written from the published record alone (numpy and Pillow, none of the
worker's code), and get the server's top-1 class on the same photos."""

from __future__ import annotations

import hashlib
import io
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image, ImageOps

from tests.support.client import auth, poll, upload
from tools.devstack import Stack
from tools.devstack.emulator import SignedInUser, sign_up, unique_email
from tools.model.photos import sample_photo

Record = dict[str, Any]


def client_preprocess(encoded: bytes, record: Record) -> np.ndarray:
    """What an app does to a photo, from ``GET /models/{name}``'s ``preprocessing`` only."""
    image: Image.Image = Image.open(io.BytesIO(encoded))
    if record["exif_orientation"] == "apply":
        image = ImageOps.exif_transpose(image)
    background = Image.new("RGBA", image.size, (*record["alpha_background"], 255))
    image = Image.alpha_composite(background, image.convert("RGBA"))
    image = image.convert(record["channel_order"])
    width, height = image.size
    short_side = record["resize"]["short_side"]
    assert record["resize"]["interpolation"] == "bicubic"
    if width <= height:
        size = (short_side, math.floor(height * short_side / width))
    else:
        size = (math.floor(width * short_side / height), short_side)
    image = image.resize(size, Image.Resampling.BICUBIC)  # Pillow antialiases when shrinking
    crop_w, crop_h = record["crop"]["width"], record["crop"]["height"]
    left, top = (size[0] - crop_w) // 2, (size[1] - crop_h) // 2
    image = image.crop((left, top, left + crop_w, top + crop_h))
    pixels = np.asarray(image, dtype=np.float32)
    mean = np.asarray(record["normalize"]["mean"], dtype=np.float32)
    std = np.asarray(record["normalize"]["std"], dtype=np.float32)
    tensor = (pixels - mean) / std
    assert record["layout"] == "NCHW"
    return np.ascontiguousarray(tensor.transpose(2, 0, 1)[np.newaxis])


def _encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _suite_photos() -> dict[str, bytes]:
    """Real photos as phones send them: JPEGs, a sideways one with an EXIF Orientation tag,
    a transparent PNG, and a 3 MP JPEG the server decodes in draft mode."""
    cat, coffee = sample_photo("chelsea.png"), sample_photo("coffee.png")
    exif = Image.Exif()
    exif[0x0112] = 8  # stored rotated: display rotates 90 degrees clockwise
    rgba = coffee.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(coffee.size))
    return {
        "cat": _encode(cat, "JPEG", quality=90),
        "coffee": _encode(coffee, "JPEG", quality=90),
        "astronaut": _encode(sample_photo("astronaut.png"), "JPEG", quality=90),
        "rocket": _encode(sample_photo("rocket.jpg"), "JPEG", quality=90),
        "cat sideways (EXIF)": _encode(
            cat.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=90, exif=exif
        ),
        "coffee with alpha (PNG)": _encode(rgba, "PNG"),
        "coffee 3 MP": _encode(coffee.resize((2100, 1400), Image.Resampling.LANCZOS), "JPEG"),
    }


PHOTOS = _suite_photos()


@pytest.fixture(scope="module")
def models(stack: Stack, user_for_module: SignedInUser) -> list[Record]:
    response = httpx.get(
        f"{stack.base_url}/models", headers=auth(user_for_module.id_token), timeout=10
    )
    assert response.status_code == 200, response.text
    records: list[Record] = response.json()["models"]
    return records


@pytest.fixture(scope="module")
def user_for_module() -> SignedInUser:
    return sign_up(unique_email("on-device"))


def _server_top1(stack: Stack, token: str, model: str, photo: bytes) -> tuple[int, float]:
    response = upload(stack.base_url, token, photo, model=model)
    assert response.status_code == 202, response.text
    result = poll(stack.base_url, token, response.json()["task_id"], timeout=120)
    assert result["status"] == "done", result
    best = result["predictions"][0]
    return best["class_id"], best["confidence"]


def test_a_downloaded_model_with_the_published_preprocessing_matches_the_server(
    stack: Stack, user_for_module: SignedInUser, models: list[Record]
) -> None:
    token = user_for_module.id_token
    assert {m["name"] for m in models} >= {"efficientnet-lite0", "efficientnet-lite2"}
    jobs = [(m["name"], name) for m in models for name in PHOTOS]
    with ThreadPoolExecutor(max_workers=8) as pool:
        server = dict(
            zip(
                jobs,
                pool.map(lambda job: _server_top1(stack, token, job[0], PHOTOS[job[1]]), jobs),
                strict=True,
            )
        )
    mismatches = []
    for record in models:
        download = httpx.get(
            f"{stack.base_url}{record['download_url']}", headers=auth(token), timeout=60
        )
        assert download.status_code == 200
        assert hashlib.sha256(download.content).hexdigest() == record["sha256"]
        session = ort.InferenceSession(download.content, providers=["CPUExecutionProvider"])
        prep = record["preprocessing"]
        for name, photo in PHOTOS.items():
            (logits,) = session.run(
                [prep["output"]["name"]], {prep["input"]["name"]: client_preprocess(photo, prep)}
            )
            probabilities = np.exp(logits[0] - logits[0].max())
            probabilities /= probabilities.sum()
            local = (int(np.argmax(logits[0])), float(probabilities.max()))
            served = server[(record["name"], name)]
            if local[0] != served[0] or abs(local[1] - served[1]) > 0.1:
                mismatches.append((record["name"], name, local, served))
    assert mismatches == [], "on-device (class, confidence) differs from the server's"
