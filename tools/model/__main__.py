"""``python -m tools.model``: build one model of the family and, optionally, its int8 variant."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tools.model.architecture import FAMILY, LITE0
from tools.model.build import build
from tools.model.quantize import quantize, top1_agreement


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.model",
        description="Convert the pretrained weights of an EfficientNet-Lite model into ONNX.",
    )
    parser.add_argument(
        "--family", choices=sorted(FAMILY), default=LITE0.name, help="which model to build"
    )
    parser.add_argument("--out", type=Path, default=None, help="output .onnx path")
    parser.add_argument(
        "--int8-out",
        type=Path,
        default=None,
        help="also write the int8 (static QDQ, per-channel) variant here",
    )
    args = parser.parse_args(argv)
    out = args.out or Path("build") / "model" / f"{args.family}.onnx"
    result = build(out, FAMILY[args.family])
    print(f"wrote {result.path} ({result.size_bytes} bytes, version {result.version})")
    if args.int8_out is not None:
        int8 = quantize(result.path, args.int8_out)
        agreement = top1_agreement(result.path, int8.path)
        print(
            f"wrote {int8.path} ({int8.size_bytes} bytes, version {int8.version}; calibrated "
            f"on {int8.calibration_images} images; top-1 agrees with fp32 on "
            f"{agreement.top1_agree}/{agreement.images} held-out images)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
