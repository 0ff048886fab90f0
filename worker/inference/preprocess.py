"""Turn uploaded image bytes into a model's input tensor, as its preprocessing record says.

Pipeline: decode (JPEG in draft mode), apply the EXIF orientation, flatten any alpha onto the
record's background, convert to RGB, resize the short side (bicubic), centre-crop and normalise
to (pixel - mean) / std in NCHW float32. The sizes, mean and std come from the model's own
``contracts.model_files.Preprocessing`` (Lite0: 256 -> 224, Lite2: 292 -> 260), the same record
the gateway publishes for on-device inference. Everything here is a pure function of the input
bytes and that record, so it can be tested without the model.
"""

from __future__ import annotations

import io

import numpy as np
import pillow_heif
import structlog
from numpy.typing import NDArray
from PIL import Image, ImageOps

from contracts.model_files import Preprocessing

logger = structlog.stdlib.get_logger(__name__)

# HEIC/HEIF (iPhone photos) decode through the same Image.open as every other format.
pillow_heif.register_heif_opener()

# Same as Pillow's default MAX_IMAGE_PIXELS (~89.5 MP): larger images only earn a warning
# from Pillow (an error above twice that); we reject them outright.
DEFAULT_MAX_PIXELS = 89_478_485

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


class UndecodableImageError(ValueError):
    """The bytes are not an image Pillow can decode completely (empty, truncated, garbage)."""


class ImageTooLargeError(UndecodableImageError):
    """The image declares more pixels than we are willing to decode (decompression bomb)."""


def preprocess(
    data: bytes, spec: Preprocessing, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> NDArray[np.float32]:
    """Decode ``data`` and return the input ``spec`` describes: float32 [1, 3, H, W], C order.

    Raises UndecodableImageError (or its subclass ImageTooLargeError) for any input that
    cannot be turned into a picture; the caller treats that as a permanent failure.
    """
    image = decode_rgb(data, spec, max_pixels=max_pixels)
    return to_tensor(resize_and_crop(image, spec), spec)


def decode_rgb(
    data: bytes, spec: Preprocessing, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Image.Image:
    """Fully decode ``data`` into an upright RGB image with alpha flattened onto the record's
    background."""
    if not data:
        raise UndecodableImageError("empty image")
    try:
        # No `with`: closing would invalidate the image we return; a BytesIO needs no close.
        image = Image.open(io.BytesIO(data))
        _check_pixel_count(image.size, max_pixels)
        # JPEG only (a no-op elsewhere): let libjpeg scale down by 1/2, 1/4 or 1/8 while
        # decoding, never below what the resize needs. Several times faster on photos.
        image.draft("RGB", resized_size(image.size, spec.resize.short_side))
        image.load()  # decode now, inside the try: truncated data raises here
        _exif_upright(image)
        return to_rgb(image, spec.alpha_background)
    except UndecodableImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(str(exc)) from exc
    except Exception as exc:  # Pillow signals bad input with many exception types
        raise UndecodableImageError(f"cannot decode image: {exc}") from exc


def _check_pixel_count(size: tuple[int, int], max_pixels: int) -> None:
    pixels = size[0] * size[1]
    if pixels > max_pixels:
        raise ImageTooLargeError(
            f"image is {size[0]}x{size[1]} ({pixels} pixels), limit is {max_pixels}"
        )
    if pixels == 0:
        raise UndecodableImageError("image has no pixels")


def _exif_upright(image: Image.Image) -> None:
    """Rotate/flip in place per the EXIF Orientation tag (phones store photos sideways).

    Malformed EXIF is not worth failing a photo whose pixels decoded fine, so it is ignored.
    """
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except Exception as exc:  # any EXIF parsing problem just means "no orientation"
        logger.debug("ignoring unreadable EXIF orientation", error=str(exc))


def to_rgb(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Convert any Pillow mode to RGB, compositing transparency onto ``background``."""
    if image.mode in _SIXTEEN_BIT_MODES:
        # Pillow clips 16-bit grey to 0..255 on convert; keep the high byte instead.
        high_byte = (np.asarray(image).astype(np.uint16) >> 8).astype(np.uint8)
        image = Image.fromarray(high_byte, "L")
    if image.mode == "P" or (image.mode in ("L", "RGB") and "transparency" in image.info):
        image = image.convert("RGBA")  # applies palette alpha / tRNS colour keys
    elif image.mode in _ALPHA_MODES and image.mode != "RGBA":
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        flat = Image.new("RGB", image.size, background)
        flat.paste(image, mask=image.getchannel("A"))
        return flat
    return image if image.mode == "RGB" else image.convert("RGB")


def resized_size(size: tuple[int, int], short_side: int) -> tuple[int, int]:
    """Size after scaling the short side to ``short_side`` (long side floored, as torchvision
    does)."""
    width, height = size
    short = max(1, min(width, height))
    if width <= height:
        return short_side, max(short_side, short_side * height // short)
    return max(short_side, short_side * width // short), short_side


def crop_box(size: tuple[int, int], spec: Preprocessing) -> tuple[float, float, float, float]:
    """Source-pixel box that becomes the centre crop of the resize, both per ``spec``."""
    width, height = size
    resized_w, resized_h = resized_size(size, spec.resize.short_side)
    crop_w, crop_h = spec.crop.width, spec.crop.height
    left = (resized_w - crop_w) // 2
    top = (resized_h - crop_h) // 2
    sx, sy = width / resized_w, height / resized_h
    return left * sx, top * sy, (left + crop_w) * sx, (top + crop_h) * sy


def resize_and_crop(image: Image.Image, spec: Preprocessing) -> Image.Image:
    """Resize the short side and centre-crop in one resampling pass.

    Resampling only the crop's source box gives the same pixels as resize-then-crop (Pillow
    still reads filter support from outside the box) without materialising the full resize,
    which for a 1x10000 strip would be a 256x2.56M image.
    """
    size = (spec.crop.width, spec.crop.height)
    return image.resize(size, Image.Resampling.BICUBIC, box=crop_box(image.size, spec))


def to_tensor(image: Image.Image, spec: Preprocessing) -> NDArray[np.float32]:
    """HWC uint8 RGB -> NCHW float32 normalised to (x - mean) / std per channel."""
    pixels = np.asarray(image, dtype=np.uint8)
    height, width = spec.crop.height, spec.crop.width
    if pixels.shape != (height, width, 3):
        raise ValueError(f"expected a {width}x{height} RGB image, got {pixels.shape}")
    tensor = np.empty((1, 3, height, width), dtype=np.float32)
    tensor[0] = pixels.transpose(2, 0, 1)
    tensor -= np.asarray(spec.normalize.mean, dtype=np.float32).reshape(3, 1, 1)
    tensor /= np.asarray(spec.normalize.std, dtype=np.float32).reshape(3, 1, 1)
    return tensor


def to_image(tensor: NDArray[np.float32], spec: Preprocessing) -> Image.Image:
    """The inverse of :func:`to_tensor`: one model input [1, 3, H, W] (or [3, H, W]) back to the
    RGB picture it was made from, pixel for pixel. This is what the model saw; the worker
    stores it beside the original so that a wrong label can be looked at."""
    chw = tensor.reshape(tensor.shape[-3:])
    mean = np.asarray(spec.normalize.mean, dtype=np.float32).reshape(3, 1, 1)
    std = np.asarray(spec.normalize.std, dtype=np.float32).reshape(3, 1, 1)
    pixels = np.clip(np.rint(chw * std + mean), 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels.transpose(1, 2, 0)), "RGB")
