"""Photos of several sizes made from real photographs, and a look into the suite's bucket."""

import io

from PIL import Image

from config import Settings
from config.object_store import ObjectNotFoundError, ObjectStore
from tools.devstack import TEST_SERVICES


def resized_jpeg(photo: bytes, megapixels: float, *, quality: int = 90) -> bytes:
    """``photo`` scaled (aspect kept) to about ``megapixels``, as a JPEG."""
    image = Image.open(io.BytesIO(photo)).convert("RGB")
    scale = (megapixels * 1_000_000 / (image.width * image.height)) ** 0.5
    size = (round(image.width * scale), round(image.height * scale))
    buffer = io.BytesIO()
    image.resize(size, Image.Resampling.BICUBIC).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def suite_bucket(**overrides: object) -> ObjectStore:
    """The photo bucket the suite's stacks use (one per checkout: ``<TEST_VHOST>-photos``)."""
    settings = Settings(object_store_bucket=TEST_SERVICES.bucket, **overrides)  # type: ignore[arg-type]
    return ObjectStore(settings)


def stored_size(key: str) -> int | None:
    """The size of the object at ``key`` in the suite's bucket, or None when there is none."""
    try:
        return suite_bucket().size(key)
    except ObjectNotFoundError:
        return None
