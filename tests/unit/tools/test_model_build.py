"""Weights loading and BatchNorm folding of tools.model, in pure numpy (no ONNX run)."""

from __future__ import annotations

import collections
import io
import os
import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from tools.model.architecture import FAMILY, LITE0, EfficientNetLite
from tools.model.checkpoint import (
    RestrictedUnpickler,
    UnsafePickleError,
    load_legacy_state_dict,
    load_weights,
    weights_path,
)
from tools.model.folding import fold_batch_norm
from tools.model.graph import same_pads

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

# --------------------------------------------------------------------------- unpickler


class _RunsShellCommand:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (self.command,)


def test_restricted_unpickler_refuses_os_system(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_RunsShellCommand(f"touch {marker}"), protocol=2)
    with pytest.raises(UnsafePickleError, match=r"refusing to load global \w+\.system"):
        RestrictedUnpickler(io.BytesIO(payload)).load()
    assert not marker.exists()


def test_restricted_unpickler_refuses_builtins_eval() -> None:
    # PROTO 2, GLOBAL builtins.eval, BINUNICODE "1", TUPLE1, REDUCE, STOP
    payload = b"\x80\x02cbuiltins\neval\nX\x01\x00\x00\x001\x85R."
    with pytest.raises(UnsafePickleError, match=r"builtins\.eval"):
        RestrictedUnpickler(io.BytesIO(payload)).load()


def test_restricted_unpickler_allows_plain_data() -> None:
    value = collections.OrderedDict(a=[1, 2.5, "x"], b=(None, True))
    assert RestrictedUnpickler(io.BytesIO(pickle.dumps(value, protocol=2))).load() == value


def test_legacy_file_with_a_malicious_state_dict_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    stream = io.BytesIO()
    for header in (LEGACY_MAGIC, 1001, {"little_endian": True}):
        pickle.dump(header, stream, protocol=2)
    pickle.dump({"w": _RunsShellCommand(f"touch {marker}")}, stream, protocol=2)
    stream.seek(0)
    with pytest.raises(UnsafePickleError):
        load_legacy_state_dict(stream)
    assert not marker.exists()


# --------------------------------------------------------------------------- legacy format


def _fake_torch(monkeypatch: pytest.MonkeyPatch) -> tuple[type, object]:
    """Modules named like torch's, so pickle writes the same globals torch.save would."""
    torch_mod = types.ModuleType("torch")
    utils_mod = types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args: object) -> None:
        raise AssertionError("never called while writing")

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch_mod.FloatStorage = FloatStorage  # type: ignore[attr-defined]
    utils_mod._rebuild_tensor_v2 = _rebuild_tensor_v2  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", torch_mod)
    monkeypatch.setitem(sys.modules, "torch._utils", utils_mod)
    return FloatStorage, _rebuild_tensor_v2


def _write_legacy(monkeypatch: pytest.MonkeyPatch, storages: dict[str, np.ndarray]) -> io.BytesIO:
    """Write the legacy torch.save layout: headers, state pickle, storage keys, raw storages.

    State: "a" is storage s0 as 2x3, "a_t" the transposed (strided) view of it, "b" a slice
    of storage s1 starting at offset 2.
    """
    storage_type, rebuild = _fake_torch(monkeypatch)

    class Storage:
        def __init__(self, key: str) -> None:
            self.key = key

    class Tensor:
        def __init__(
            self, storage: Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...]
        ) -> None:
            self.args: tuple[object, ...] = (
                storage,
                offset,
                size,
                stride,
                False,
                collections.OrderedDict(),
            )

        def __reduce__(self) -> tuple[object, tuple[object, ...]]:
            return rebuild, self.args

    s0, s1 = Storage("s0"), Storage("s1")
    state = collections.OrderedDict(
        a=Tensor(s0, 0, (2, 3), (3, 1)),
        a_t=Tensor(s0, 0, (3, 2), (1, 3)),
        b=Tensor(s1, 2, (3,), (1,)),
    )

    def persistent_id(obj: object) -> object:
        if isinstance(obj, Storage):
            return ("storage", storage_type, obj.key, "cpu", storages[obj.key].size, None)
        return None

    stream = io.BytesIO()
    for header in (LEGACY_MAGIC, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, stream, protocol=2)
    pickler = pickle.Pickler(stream, protocol=2)
    pickler.persistent_id = persistent_id  # type: ignore[method-assign]
    pickler.dump(state)
    pickle.dump(list(storages), stream, protocol=2)
    for values in storages.values():
        stream.write(int(values.size).to_bytes(8, "little"))
        stream.write(values.astype("<f4").tobytes())
    stream.seek(0)
    return stream


def test_legacy_loader_reads_views_strides_and_offsets(monkeypatch: pytest.MonkeyPatch) -> None:
    s0 = np.arange(6, dtype=np.float32)
    s1 = np.array([10, 11, 12, 13, 14], dtype=np.float32)
    stream = _write_legacy(monkeypatch, {"s0": s0, "s1": s1})
    monkeypatch.delitem(sys.modules, "torch")  # loading must not need torch at all
    monkeypatch.delitem(sys.modules, "torch._utils")

    state = load_legacy_state_dict(stream)

    assert list(state) == ["a", "a_t", "b"]
    np.testing.assert_array_equal(state["a"], s0.reshape(2, 3))
    np.testing.assert_array_equal(state["a_t"], s0.reshape(2, 3).T)
    np.testing.assert_array_equal(state["b"], [12, 13, 14])
    assert all(v.dtype == np.float32 and v.flags.c_contiguous for v in state.values())


def test_legacy_loader_rejects_a_truncated_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _write_legacy(
        monkeypatch, {"s0": np.arange(6, dtype=np.float32), "s1": np.arange(5, dtype=np.float32)}
    )
    truncated = io.BytesIO(stream.getvalue()[:-4])
    with pytest.raises(ValueError, match="ends inside storage"):
        load_legacy_state_dict(truncated)


def test_real_weights_load_as_296_tensors() -> None:
    state = load_weights(weights_path(LITE0.weights))
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_conv_stem.weight"].dtype == np.float32
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_bn0.num_batches_tracked"].dtype == np.int64


def test_weights_with_a_wrong_hash_are_rejected(tmp_path: Path) -> None:
    fake = tmp_path / "efficientnet-lite0-57934424.pth"
    fake.write_bytes(b"not the real weights")
    with pytest.raises(ValueError, match="sha256"):
        load_weights(fake)


# --------------------------------------------------------------------------- folding


def _conv2d(x: np.ndarray, w: np.ndarray, stride: int, pads: list[int], groups: int) -> np.ndarray:
    """Direct (slow, obvious) NCHW convolution with ONNX-style pads [t, l, b, r]."""
    n = x.shape[0]
    cout, cin_g, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (x.shape[2] - kh) // stride + 1
    ow = (x.shape[3] - kw) // stride + 1
    out = np.zeros((n, cout, oh, ow))
    cout_g = cout // groups
    for o in range(cout):
        g = o // cout_g
        for i in range(oh):
            for j in range(ow):
                patch = x[
                    :,
                    g * cin_g : (g + 1) * cin_g,
                    i * stride : i * stride + kh,
                    j * stride : j * stride + kw,
                ]
                out[:, o, i, j] = np.sum(patch * w[o], axis=(1, 2, 3))
    return out


def _batch_norm(
    y: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float,
) -> np.ndarray:
    """Inference-mode BatchNorm2d, per channel of NCHW."""

    def per_channel(v: np.ndarray) -> np.ndarray:
        return v.astype(np.float64).reshape(1, -1, 1, 1)

    scale = per_channel(gamma) / np.sqrt(per_channel(var) + eps)
    result: np.ndarray = (y - per_channel(mean)) * scale + per_channel(beta)
    return result


@pytest.mark.parametrize(
    ("cin", "cout", "kernel", "stride", "groups"),
    [(3, 4, 3, 2, 1), (6, 6, 5, 1, 6), (8, 5, 1, 1, 1)],
    ids=["stem-like", "depthwise", "pointwise"],
)
def test_folded_conv_equals_conv_then_batch_norm(
    cin: int, cout: int, kernel: int, stride: int, groups: int
) -> None:
    rng = np.random.default_rng(42)
    x = rng.standard_normal((2, cin, 9, 9))
    w = rng.standard_normal((cout, cin // groups, kernel, kernel)).astype(np.float32)
    gamma = rng.uniform(0.5, 2, cout).astype(np.float32)
    beta = rng.standard_normal(cout).astype(np.float32)
    mean = rng.standard_normal(cout).astype(np.float32)
    var = rng.uniform(0.01, 3, cout).astype(np.float32)
    pads = same_pads(9, kernel, stride)

    expected = _batch_norm(_conv2d(x, w, stride, pads, groups), gamma, beta, mean, var, 1e-3)
    w_folded, b_folded = fold_batch_norm(w, gamma, beta, mean, var, eps=1e-3)
    actual = _conv2d(x, w_folded, stride, pads, groups) + b_folded[None, :, None, None]

    assert w_folded.dtype == np.float32 and b_folded.dtype == np.float32
    assert w_folded.shape == w.shape and b_folded.shape == (cout,)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


def test_same_pads_put_the_extra_pixel_at_the_end() -> None:
    assert same_pads(224, 3, 2) == [0, 0, 1, 1]
    assert same_pads(28, 5, 2) == [1, 1, 2, 2]
    assert same_pads(14, 5, 1) == [2, 2, 2, 2]
    assert same_pads(7, 1, 1) == [0, 0, 0, 0]


def test_lite0_has_16_blocks_and_9_residuals() -> None:
    blocks = LITE0.blocks()
    assert len(blocks) == 16
    assert sum(b.has_skip for b in blocks) == 9
    assert blocks[-1].out_channels == 320


@pytest.mark.parametrize("spec", list(FAMILY.values()), ids=list(FAMILY))
def test_each_family_member_uses_every_tensor_of_its_weights(spec: EfficientNetLite) -> None:
    state = load_weights(weights_path(spec.weights))
    blocks = spec.blocks()
    assert {f"_blocks.{i}._project_conv.weight" for i in range(len(blocks))} <= state.keys()
    assert f"_blocks.{len(blocks)}._project_conv.weight" not in state
    for block in blocks:
        weight = state[f"{block.prefix}._project_conv.weight"]
        assert weight.shape[:2] == (block.out_channels, block.in_channels * block.expand)
