"""A built model on disk: ``<name>.onnx`` and its card, the sidecar ``<name>.onnx.json``.

The model build writes both; ``tools.model.publish`` reads them into the registry
(``contracts.model_registry``). The card says everything a runtime needs to use the file
without knowing where it came from: its name and version (the first 12 hex digits of the
file's SHA-256), its precision, its input size and classes, the label set naming those classes,
and the exact preprocessing (:class:`Preprocessing`) that turns a photo into its input tensor.
The worker follows that record, and so can a phone or a browser running the same file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SIDECAR_SUFFIX = ".json"
# Names are the registry's keys, a path component on disk and part of URLs: lower-case
# letters, digits and dashes only, so a name can never be a path.
MODEL_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
VERSION_PATTERN = r"^[0-9a-f]{12}$"


def sidecar_path(model_path: Path) -> Path:
    """Where the sidecar of ``model_path`` lives: next to it, ``.json`` appended."""
    return model_path.with_name(model_path.name + SIDECAR_SUFFIX)


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Resize(_Record):
    short_side: int = Field(
        ge=1,
        description="Scale the image so that its shorter side has this many pixels, keeping the "
        "aspect ratio; the longer side is floor(long x short_side / short).",
    )
    interpolation: Literal["bicubic"] = Field(
        "bicubic", description="Bicubic (a = -0.5, Pillow's BICUBIC)."
    )
    antialias: bool = Field(
        True,
        description="When shrinking, the filter covers the whole source footprint of each output "
        "pixel (Pillow's resize, torchvision's antialias=True), not just 4x4 source pixels.",
    )


class CenterCrop(_Record):
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    # The offset rule is part of the contract: clients must round the same way.
    offset: Literal["floor((resized - crop) / 2)"] = "floor((resized - crop) / 2)"


class Normalize(_Record):
    """``value = (pixel - mean[c]) / std[c]`` on 0..255 pixel values, per channel."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]


class TensorSpec(_Record):
    name: str = Field(description="The ONNX graph's tensor name.")
    shape: tuple[int | str, ...] = Field(
        description="Dimensions; a string is a free dimension (the batch)."
    )
    dtype: Literal["float32"] = "float32"


class Preprocessing(_Record):
    """Everything a client must do to a photo to get the server's answer from the same model.

    In order: decode; rotate by the EXIF orientation; composite transparency onto
    ``alpha_background``; convert to ``channel_order``; ``resize``; ``crop``; ``normalize``;
    lay out as ``layout``; run; apply ``output_activation`` to ``output``.
    """

    exif_orientation: Literal["apply"] = Field(
        "apply", description="Rotate/flip upright per the EXIF Orientation tag before anything."
    )
    alpha_background: tuple[int, int, int] = Field(
        (255, 255, 255), description="Transparent pixels are composited onto this RGB colour."
    )
    channel_order: Literal["RGB"] = "RGB"
    resize: Resize
    crop: CenterCrop
    normalize: Normalize
    layout: Literal["NCHW"] = "NCHW"
    input: TensorSpec
    output: TensorSpec
    output_activation: Literal["softmax"] = Field(
        "softmax",
        description="The output is logits: softmax over the last axis gives "
        "probabilities; argmax is the top-1 class id.",
    )
    jpeg_draft: bool = Field(
        True,
        description="The server lets libjpeg decode large JPEGs at 1/2, 1/4 or 1/8 scale "
        "(never below the resize size) for speed. A client may decode at full size: the "
        "top-1 class is the same on the test photos.",
    )


def efficientnet_preprocessing(
    *,
    input_size: int,
    short_side: int,
    num_classes: int,
    input_name: str = "input",
    output_name: str = "logits",
) -> Preprocessing:
    """The record of an EfficientNet-Lite model: TF reference evaluation crop, (x - 127) / 128."""
    return Preprocessing(
        resize=Resize(short_side=short_side),
        crop=CenterCrop(width=input_size, height=input_size),
        normalize=Normalize(mean=(127.0, 127.0, 127.0), std=(128.0, 128.0, 128.0)),
        input=TensorSpec(name=input_name, shape=("batch", 3, input_size, input_size)),
        output=TensorSpec(name=output_name, shape=("batch", num_classes)),
    )


class ModelCard(BaseModel):
    """The sidecar of a built model: what the file is and how to feed it."""

    model_config = ConfigDict(frozen=True, extra="allow")  # provenance fields are kept as-is

    name: str = Field(pattern=MODEL_NAME_PATTERN, examples=["efficientnet-lite0"])
    version: str = Field(pattern=VERSION_PATTERN, description="SHA-256 of the file, 12 hex.")
    precision: Literal["fp32", "int8"]
    input_size: int = Field(ge=1, description="Height and width of the input, in pixels.")
    num_classes: int = Field(ge=1)
    labels: str = Field(description="The label set naming the classes (contracts.labels).")
    preprocessing: Preprocessing

    @property
    def input(self) -> str:
        return self.preprocessing.input.name

    @property
    def output(self) -> str:
        return self.preprocessing.output.name

    @property
    def provenance(self) -> dict[str, Any]:
        """Build details (source weights, quantization, calibration): reported, never used."""
        return dict(self.model_extra or {})

    @classmethod
    def load(cls, model_path: Path) -> ModelCard:
        path = sidecar_path(model_path)
        try:
            return cls.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as exc:
            raise ValueError(f"cannot read model metadata {path}: {exc}") from exc

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"
