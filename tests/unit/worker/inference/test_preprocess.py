"""preprocess() against values computed independently with numpy slicing and arithmetic."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFile

from contracts.model_files import Preprocessing, efficientnet_preprocessing
from worker.inference import preprocess as pipeline
from worker.inference.preprocess import ImageTooLargeError, UndecodableImageError, resized_size

# EfficientNet-Lite0's record (256 -> 224, (x - 127) / 128); Lite2's below.
LITE0 = efficientnet_preprocessing(input_size=224, short_side=256, num_classes=1000)
LITE2 = efficientnet_preprocessing(input_size=260, short_side=292, num_classes=1000)


def preprocess(data: bytes, spec: Preprocessing = LITE0, **kwargs: int) -> np.ndarray:
    return pipeline.preprocess(data, spec, **kwargs)


WHITE = (255 - 127) / 128  # exactly 0.9921875 in float32


def encode(image: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def normalised(pixels: np.ndarray) -> np.ndarray:
    """Independent reference: HWC uint8 -> CHW float32, (x - 127) / 128."""
    return ((pixels.astype(np.float64) - 127.0) / 128.0).astype(np.float32).transpose(2, 0, 1)


def random_rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_output_is_float32_nchw_and_c_contiguous() -> None:
    out = preprocess(encode(Image.new("RGB", (640, 480), (1, 2, 3))))
    assert out.shape == (1, 3, 224, 224)
    assert out.dtype == np.float32
    assert out.flags.c_contiguous


@pytest.mark.parametrize("size", [(640, 480), (300, 1000), (7, 5), (224, 224)])
def test_constant_colour_survives_resize_and_crop_exactly(size: tuple[int, int]) -> None:
    colour = (10, 200, 77)
    out = preprocess(encode(Image.new("RGB", size, colour)))
    for channel, value in enumerate(colour):
        assert np.all(out[0, channel] == np.float32((value - 127) / 128))


@pytest.mark.parametrize(("value", "expected"), [(0, -127 / 128), (127, 0.0), (255, WHITE)])
def test_pure_values_normalise_exactly(value: int, expected: float) -> None:
    out = preprocess(encode(Image.new("RGB", (300, 300), (value, value, value))))
    assert np.all(out == np.float32(expected))


def test_centre_crop_matches_numpy_slicing_when_short_side_is_already_256() -> None:
    # 512x256: no rescaling, so the result must be exactly the centre 224x224 of the array.
    pixels = random_rgb(256, 512)
    out = preprocess(encode(Image.fromarray(pixels)))
    top, left = (256 - 224) // 2, (512 - 224) // 2
    np.testing.assert_array_equal(out[0], normalised(pixels[top : top + 224, left : left + 224]))


def test_channel_order_is_rgb() -> None:
    out = preprocess(encode(Image.new("RGB", (256, 256), (255, 0, 127))))
    assert out[0, 0, 0, 0] == np.float32(WHITE)
    assert out[0, 1, 0, 0] == np.float32(-127 / 128)
    assert out[0, 2, 0, 0] == 0.0


def test_resize_keeps_aspect_and_centres_the_crop() -> None:
    # 1000x500, left half red, right half blue -> 512x256 -> crop columns 144..368:
    # the red/blue edge lands at crop column 256 - 144 = 112.
    pixels = np.zeros((500, 1000, 3), dtype=np.uint8)
    pixels[:, :500] = (255, 0, 0)
    pixels[:, 500:] = (0, 0, 255)
    out = preprocess(encode(Image.fromarray(pixels)))
    red, blue = out[0, 0], out[0, 2]
    assert np.all(red[:, :108] == np.float32(WHITE))
    assert np.all(blue[:, :108] == np.float32(-127 / 128))
    assert np.all(red[:, 116:] == np.float32(-127 / 128))
    assert np.all(blue[:, 116:] == np.float32(WHITE))


def test_resized_size_scales_short_side_to_the_records_size() -> None:
    assert resized_size((1000, 500), 256) == (512, 256)
    assert resized_size((300, 400), 256) == (256, 341)
    assert resized_size((100, 100), 256) == (256, 256)
    assert resized_size((300, 400), 292) == (292, 389)


def test_a_larger_model_gets_its_own_input_size_and_crop() -> None:
    pixels = random_rgb(300, 400, seed=5)
    out = preprocess(encode(Image.fromarray(pixels)), LITE2)
    assert out.shape == (1, 3, 260, 260)
    # 300x400 -> 292x389 (a downscale), centre crop 260: the crop's mean is close to the
    # source's mean over the same region.
    assert abs(float(out.mean()) - float(normalised(pixels).mean())) < 0.05


def test_mean_and_std_come_from_the_record() -> None:
    spec = LITE0.model_copy(
        update={"normalize": LITE0.normalize.model_copy(update={"mean": (0.0, 100.0, 200.0)})}
    )
    out = preprocess(encode(Image.new("RGB", (300, 300), (128, 128, 128))), spec)
    assert [float(out[0, c, 0, 0]) for c in range(3)] == [1.0, 28 / 128, -72 / 128]


def test_fully_transparent_rgba_becomes_white() -> None:
    pixels = np.dstack([random_rgb(300, 400), np.zeros((300, 400), dtype=np.uint8)])
    out = preprocess(encode(Image.fromarray(pixels, "RGBA")))
    assert np.all(out == np.float32(WHITE))


def test_opaque_rgba_keeps_its_colours() -> None:
    pixels = random_rgb(256, 512, seed=1)
    rgba = np.dstack([pixels, np.full((256, 512), 255, dtype=np.uint8)])
    out = preprocess(encode(Image.fromarray(rgba, "RGBA")))
    np.testing.assert_array_equal(out[0], normalised(pixels[16:240, 144:368]))


def test_half_transparent_black_blends_towards_white() -> None:
    rgba = np.zeros((300, 300, 4), dtype=np.uint8)
    rgba[..., 3] = 128
    out = preprocess(encode(Image.fromarray(rgba, "RGBA")))
    expected = (255 * (1 - 128 / 255) - 127) / 128  # ~ 0 (mid grey)
    np.testing.assert_allclose(out, expected, atol=1.5 / 128)


def test_transparent_la_becomes_white() -> None:
    la = Image.merge("LA", [Image.new("L", (300, 300), 0), Image.new("L", (300, 300), 0)])
    assert np.all(preprocess(encode(la)) == np.float32(WHITE))


def test_palette_transparency_becomes_white() -> None:
    image = Image.new("P", (300, 300), 0)
    image.putpalette([0, 0, 0, 255, 0, 0])
    data = encode(image, transparency=0)
    assert Image.open(io.BytesIO(data)).mode == "P"
    assert np.all(preprocess(data) == np.float32(WHITE))


def test_palette_without_transparency_uses_palette_colours() -> None:
    image = Image.new("P", (300, 300), 1)
    image.putpalette([0, 0, 0, 255, 0, 0])
    out = preprocess(encode(image))
    assert np.all(out[0, 0] == np.float32(WHITE))
    assert np.all(out[0, 1] == np.float32(-127 / 128))


def test_gif_with_transparent_index_becomes_white() -> None:
    image = Image.new("P", (300, 300), 3)
    image.putpalette([0, 0, 0] * 3 + [0, 255, 0])
    assert np.all(preprocess(encode(image, "GIF", transparency=3)) == np.float32(WHITE))


def test_grayscale_gives_three_equal_channels() -> None:
    grey = np.random.default_rng(2).integers(0, 256, (256, 512), dtype=np.uint8)
    out = preprocess(encode(Image.fromarray(grey, "L")))
    expected = (grey[16:240, 144:368].astype(np.float32) - 127) / 128
    for channel in range(3):
        np.testing.assert_array_equal(out[0, channel], expected)


def test_sixteen_bit_grayscale_uses_the_high_byte() -> None:
    grey16 = np.full((300, 300), 200 * 256 + 99, dtype=np.uint16)
    image = Image.fromarray(grey16)
    data = encode(image)
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    assert np.all(preprocess(data) == np.float32((200 - 127) / 128))


def test_cmyk_is_converted_to_rgb() -> None:
    out = preprocess(encode(Image.new("CMYK", (300, 300), (0, 0, 0, 0)), "JPEG", quality=100))
    np.testing.assert_allclose(out, WHITE, atol=1 / 128)


def test_exif_orientation_6_rotates_clockwise() -> None:
    # Stored landscape 512x256 with "rotate 90 CW to display" -> upright portrait 256x512.
    pixels = random_rgb(256, 512, seed=3)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = preprocess(encode(Image.fromarray(pixels), exif=exif))
    upright = np.rot90(pixels, k=-1)  # clockwise
    assert upright.shape == (512, 256, 3)
    top, left = (512 - 224) // 2, (256 - 224) // 2
    np.testing.assert_array_equal(out[0], normalised(upright[top : top + 224, left : left + 224]))


def test_jpeg_draft_decode_keeps_colours_and_shape() -> None:
    # 2400x1800 -> draft decodes at 1/4 (600x450), still >= 256 on the short side.
    pixels = np.zeros((1800, 2400, 3), dtype=np.uint8)
    pixels[:, :1200] = (200, 30, 30)
    pixels[:, 1200:] = (30, 30, 200)
    out = preprocess(encode(Image.fromarray(pixels), "JPEG", quality=95))
    assert out.shape == (1, 3, 224, 224)
    # crop of the 341x256 resize: columns 58..282, the edge at column 170.5 - 58 = 112.5
    np.testing.assert_allclose(out[0, 0, :, :100], (200 - 127) / 128, atol=4 / 128)
    np.testing.assert_allclose(out[0, 2, :, 124:], (200 - 127) / 128, atol=4 / 128)


def test_truncated_jpeg_raises() -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    data = encode(Image.fromarray(random_rgb(300, 400)), "JPEG", quality=90)
    with pytest.raises(UndecodableImageError):
        preprocess(data[: len(data) // 2])


def test_truncated_png_raises() -> None:
    data = encode(Image.fromarray(random_rgb(300, 400)))
    with pytest.raises(UndecodableImageError):
        preprocess(data[: len(data) // 2])


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, this is not an image", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n" + b"\0" * 40],
    ids=["empty", "text", "jpeg-magic-only", "png-magic-then-zeros"],
)
def test_garbage_raises(data: bytes) -> None:
    with pytest.raises(UndecodableImageError):
        preprocess(data)


def test_undecodable_is_a_value_error() -> None:
    assert issubclass(UndecodableImageError, ValueError)
    assert issubclass(ImageTooLargeError, UndecodableImageError)


def test_image_over_pixel_limit_is_rejected_before_decoding() -> None:
    data = encode(Image.new("RGB", (100, 100)))
    with pytest.raises(ImageTooLargeError):
        preprocess(data, max_pixels=100 * 100 - 1)
    preprocess(data, max_pixels=100 * 100)


def test_pillow_decompression_bomb_error_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(Image.new("RGB", (100, 100)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 10_000 px > 2 * limit -> error
    with pytest.raises(ImageTooLargeError):
        preprocess(data)


@pytest.mark.parametrize("spec", [LITE0, LITE2], ids=["lite0", "lite2"])
def test_the_model_input_turns_back_into_the_exact_picture_it_was_made_from(
    spec: Preprocessing,
) -> None:
    """The processed image the worker stores is the model's input, pixel for pixel."""
    crop = Image.fromarray(random_rgb(spec.crop.height, spec.crop.width, seed=3))
    picture = pipeline.to_image(pipeline.to_tensor(crop, spec), spec)
    assert picture.mode == "RGB"
    assert picture.size == (spec.crop.width, spec.crop.height)
    assert np.array_equal(np.asarray(picture), np.asarray(crop))


def test_the_stored_model_input_of_a_rotated_photo_is_upright_and_cropped() -> None:
    """EXIF rotation, resize and crop are all in it: a tall photo stored sideways comes out
    as the centre of the upright picture."""
    upright = np.zeros((600, 400, 3), dtype=np.uint8)
    upright[:300] = (255, 0, 0)  # red top half, blue bottom half
    upright[300:] = (0, 0, 255)
    sideways = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    data = encode(sideways, "PNG", exif=exif.tobytes())
    picture = np.asarray(pipeline.to_image(preprocess(data), LITE0))
    assert picture.shape == (224, 224, 3)
    assert tuple(picture[5, 112]) == (255, 0, 0)
    assert tuple(picture[218, 112]) == (0, 0, 255)
