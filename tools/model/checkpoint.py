"""Read a legacy (pre-zip) ``torch.save`` state dict as numpy arrays, without torch.

A ``.pth`` file is a pickle, and unpickling runs arbitrary callables: the restricted unpickler
here refuses every global but the handful a plain state dict of tensors needs, even though the
file comes from a pinned package.
"""

from __future__ import annotations

import collections
import hashlib
import io
import math
import pickle
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import IO, Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from tools.model.architecture import Weights

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

Array = NDArray[Any]


class UnsafePickleError(pickle.UnpicklingError):
    """The weights file references something other than plain tensors and containers."""


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


def weights_path(weights: Weights) -> Path:
    """Path of the .pth inside the installed weights package (a regular install, not a zip)."""
    resource = resources.files(weights.package).joinpath("models", weights.file)
    path = Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError(f"{weights.file} not found in {weights.package}: {path}")
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
