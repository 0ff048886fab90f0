"""The benchmark's uploads: real photographs at the sizes a phone sends."""

from __future__ import annotations

import io

from PIL import Image

from tools.model.photos import sample_photo

SIZES_MP = (0.3, 1.2, 3.0)
PHOTOS = ("coffee.png", "chelsea.png", "astronaut.png")  # scikit-image sample photographs


def make_jpegs(megapixels: float) -> list[bytes]:
    """Real photographs scaled to ``megapixels`` (Lanczos), saved as quality-90 JPEGs."""
    jpegs = []
    for name in PHOTOS:
        photo = sample_photo(name)
        scale = (megapixels * 1e6 / (photo.width * photo.height)) ** 0.5
        size = (round(photo.width * scale), round(photo.height * scale))
        buffer = io.BytesIO()
        photo.resize(size, Image.Resampling.LANCZOS).save(buffer, format="JPEG", quality=90)
        jpegs.append(buffer.getvalue())
    return jpegs
