"""The EfficientNet-Lite inference graph, emitted with ``onnx.helper`` from a state dict.

Node and initializer names follow the state dict's (``_blocks.3._depthwise_conv``), every
BatchNorm is folded into its convolution and TensorFlow's 'SAME' padding becomes explicit pads,
so the graph is plain Conv / Clip (ReLU6) / Add, a global pool and a Gemm.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from tools.model.architecture import BlockSpec, EfficientNetLite
from tools.model.folding import fold_batch_norm

INPUT_NAME = "input"
OUTPUT_NAME = "logits"
# Opset 17 / IR 8 are pinned so any onnxruntime >= 1.18 loads the file and the bytes do not
# depend on the installed onnx version's defaults.
OPSET = 17
IR_VERSION = 8
# Part of the file's bytes, hence of the model version: unchanged since the builder lived in
# the worker package, so that rebuilding the same weights still gives the same version.
PRODUCER = "snapmatch.worker.model_build"

Array = NDArray[Any]


def same_pads(size: int, kernel: int, stride: int) -> list[int]:
    """TensorFlow 'SAME' padding as ONNX pads [top, left, bottom, right]; the extra goes last."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return [total // 2, total // 2, total - total // 2, total - total // 2]


class _GraphBuilder:
    """Accumulates nodes and initializers with deterministic, readable names."""

    def __init__(self, state: Mapping[str, Array], *, bn_epsilon: float) -> None:
        self._state = state
        self._bn_epsilon = bn_epsilon
        self._used: set[str] = set()
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._add_initializer("relu6.min", np.array(0.0, dtype=np.float32))
        self._add_initializer("relu6.max", np.array(6.0, dtype=np.float32))

    def tensor(self, name: str) -> Array:
        if name not in self._state:
            raise KeyError(f"weights file lacks {name}")
        self._used.add(name)
        return self._state[name]

    def unused(self) -> list[str]:
        skipped = {k for k in self._state if k.endswith(".num_batches_tracked")}
        return sorted(self._state.keys() - self._used - skipped)

    def _add_initializer(self, name: str, value: Array) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def conv_bn(
        self, x: str, conv: str, bn: str, *, stride: int, size: int, groups: int = 1
    ) -> str:
        """Conv (with its BN folded in); returns the output name."""
        weight, bias = fold_batch_norm(
            self.tensor(f"{conv}.weight"),
            self.tensor(f"{bn}.weight"),
            self.tensor(f"{bn}.bias"),
            self.tensor(f"{bn}.running_mean"),
            self.tensor(f"{bn}.running_var"),
            eps=self._bn_epsilon,
        )
        kernel = int(weight.shape[-1])
        w = self._add_initializer(f"{conv}.weight", weight)
        b = self._add_initializer(f"{conv}.bias", bias)
        self.nodes.append(
            helper.make_node(
                "Conv",
                [x, w, b],
                [conv],
                name=conv,
                kernel_shape=[kernel, kernel],
                strides=[stride, stride],
                pads=same_pads(size, kernel, stride),
                group=groups,
            )
        )
        return conv

    def relu6(self, x: str) -> str:
        out = f"{x}.relu6"
        self.nodes.append(helper.make_node("Clip", [x, "relu6.min", "relu6.max"], [out], name=out))
        return out

    def add(self, a: str, b: str, out: str) -> str:
        self.nodes.append(helper.make_node("Add", [a, b], [out], name=out))
        return out

    def mbconv(self, x: str, block: BlockSpec, size: int) -> str:
        p = block.prefix
        hidden = block.in_channels * block.expand
        h = x
        if block.expand != 1:
            h = self.relu6(self.conv_bn(h, f"{p}._expand_conv", f"{p}._bn0", stride=1, size=size))
        h = self.relu6(
            self.conv_bn(
                h,
                f"{p}._depthwise_conv",
                f"{p}._bn1",
                stride=block.stride,
                size=size,
                groups=hidden,
            )
        )
        h = self.conv_bn(
            h, f"{p}._project_conv", f"{p}._bn2", stride=1, size=math.ceil(size / block.stride)
        )
        return self.add(h, x, f"{p}.out") if block.has_skip else h

    def classifier_head(self, x: str) -> str:
        self.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pool"], name="pool"))
        self.nodes.append(helper.make_node("Flatten", ["pool"], ["flat"], name="flat", axis=1))
        w = self._add_initializer("_fc.weight", self.tensor("_fc.weight").astype(np.float32))
        b = self._add_initializer("_fc.bias", self.tensor("_fc.bias").astype(np.float32))
        self.nodes.append(
            helper.make_node("Gemm", ["flat", w, b], [OUTPUT_NAME], name="_fc", transB=1)
        )
        return OUTPUT_NAME


def _layers(spec: EfficientNetLite, state: Mapping[str, Array]) -> _GraphBuilder:
    """Stem, the MBConv blocks, head, pool and linear, every weight of ``state`` used once."""
    g = _GraphBuilder(state, bn_epsilon=spec.bn_epsilon)
    size = spec.resolution
    x = g.relu6(g.conv_bn(INPUT_NAME, "_conv_stem", "_bn0", stride=2, size=size))
    size = math.ceil(size / 2)
    for block in spec.blocks():
        x = g.mbconv(x, block, size)
        size = math.ceil(size / block.stride)
    x = g.relu6(g.conv_bn(x, "_conv_head", "_bn1", stride=1, size=size))
    g.classifier_head(x)
    if g.unused():
        raise ValueError(f"weights not used by the graph: {g.unused()[:5]}")
    return g


def build_graph(spec: EfficientNetLite, state: Mapping[str, Array]) -> onnx.ModelProto:
    """The checked inference model of ``spec`` with the weights in ``state``."""
    g = _layers(spec, state)
    resolution = spec.resolution
    graph = helper.make_graph(
        g.nodes,
        spec.name,
        inputs=[
            helper.make_tensor_value_info(
                INPUT_NAME, TensorProto.FLOAT, ["batch", 3, resolution, resolution]
            )
        ],
        outputs=[
            helper.make_tensor_value_info(
                OUTPUT_NAME, TensorProto.FLOAT, ["batch", spec.num_classes]
            )
        ],
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        ir_version=IR_VERSION,
        doc_string=(
            f"{spec.title}, ImageNet-1k. Input: RGB NCHW float32 {resolution}x{resolution}, "
            "(pixel - 127) / 128. Output: logits."
        ),
    )
    onnx.checker.check_model(model, full_check=True)
    return model
