"""Shape operations, after Triton's test_core (test_reshape, test_trans/permute, test_join,
test_split, test_interleave, test_expand_dims, test_broadcast, flip, ravel, sort): each result
is stored row-major and compared with numpy's equivalent."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

from conformance_helpers import assert_close, kernel_from_template, np_dtype, random_array, rng

SHAPE_DTYPES = ["float32", "int32", "int8", "float16", "int64"]


def _flat_offsets(name, shape):
    """Kernel text for the row-major offsets of a tile of `shape` (1 to 3 dims)."""
    dims = len(shape)
    if dims == 1:
        return f"{name} = tl.arange(0, {shape[0]})"
    if dims == 2:
        return f"{name} = tl.arange(0, {shape[0]})[:, None] * {shape[1]} + tl.arange(0, {shape[1]})[None, :]"
    a, b, c = shape
    return (f"{name} = tl.arange(0, {a})[:, None, None] * {b * c} + tl.arange(0, {b})[None, :, None] * {c}"
            f" + tl.arange(0, {c})[None, None, :]")


ONE_IN_ONE_OUT = """
@triton.jit
def conformance_kernel(Z, X):
    IN_OFFS
    x = tl.load(X + xo)
    z = EXPR
    OUT_OFFS
    tl.store(Z + zo, z)
"""


def _run(engine, dtype, in_shape, expr, out_shape, expected, key):
    x = random_array(rng("shape", expr, dtype, in_shape, *key), dtype, in_shape)
    kernel = kernel_from_template(
        ONE_IN_ONE_OUT, IN_OFFS=_flat_offsets("xo", in_shape), EXPR=expr, OUT_OFFS=_flat_offsets("zo", out_shape)
    )
    z = np.zeros(out_shape, dtype=np_dtype(dtype))
    kernel[(1,)](z, x)
    assert_close(z, expected(x), dtype, msg=f"{expr} on {in_shape} {dtype} ({engine})")


@pytest.mark.parametrize("dtype", SHAPE_DTYPES)
@pytest.mark.parametrize(
    "src, dst", [((128,), (8, 16)), ((8, 16), (128,)), ((8, 16), (16, 8)), ((4, 8, 2), (8, 8)), ((64,), (4, 4, 4))]
)
@pytest.mark.parametrize("form", ["tl.reshape", "method"])
def test_reshape(engine, form, src, dst, dtype):
    expr = f"tl.reshape(x, {dst})" if form == "tl.reshape" else f"x.reshape({dst})"
    _run(engine, dtype, src, expr, dst, lambda x: x.reshape(dst), (form,))


@pytest.mark.parametrize("dtype", SHAPE_DTYPES)
@pytest.mark.parametrize("shape", [(8, 16), (1, 32), (32, 4), (16, 16)])
@pytest.mark.parametrize("form", ["tl.trans", "method", "permute"])
def test_trans_2d(engine, form, shape, dtype):
    expr = {"tl.trans": "tl.trans(x)", "method": "x.T", "permute": "tl.permute(x, (1, 0))"}[form]
    _run(engine, dtype, shape, expr, shape[::-1], lambda x: x.T, (form,))


@pytest.mark.parametrize("dtype", SHAPE_DTYPES)
@pytest.mark.parametrize("perm", [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)])
def test_permute_3d(engine, perm, dtype):
    shape = (2, 4, 8)
    out = tuple(shape[p] for p in perm)
    _run(engine, dtype, shape, f"tl.permute(x, {perm})", out, lambda x: np.transpose(x, perm), ())


@pytest.mark.parametrize("dtype", SHAPE_DTYPES)
@pytest.mark.parametrize("shape", [(16,), (4, 8)])
def test_flip(engine, shape, dtype):
    dim = len(shape) - 1
    _run(engine, dtype, shape, f"tl.flip(x, {dim})", shape, lambda x: np.flip(x, dim), ())


@pytest.mark.parametrize("dtype", SHAPE_DTYPES)
def test_ravel(engine, dtype):
    _run(engine, dtype, (4, 8), "tl.ravel(x)", (32,), lambda x: x.ravel(), ())


@pytest.mark.parametrize("dtype", SHAPE_DTYPES)
@pytest.mark.parametrize("axis, out", [(0, (1, 16)), (1, (16, 1)), (-1, (16, 1)), (-2, (1, 16))])
def test_expand_dims(engine, axis, out, dtype):
    _run(engine, dtype, (16,), f"tl.expand_dims(x, {axis})", out, lambda x: np.expand_dims(x, axis), ())


@pytest.mark.parametrize("dtype", SHAPE_DTYPES)
@pytest.mark.parametrize("src, dst", [((16,), (4, 16)), ((1, 16), (8, 16)), ((8, 1), (8, 4)), ((1, 1), (4, 4))])
def test_broadcast_to(engine, src, dst, dtype):
    _run(engine, dtype, src, f"tl.broadcast_to(x, {dst})", dst, lambda x: np.broadcast_to(x, dst), ())


@triton.jit
def broadcast_pair_kernel(Y_OUT, X, Y, M: tl.constexpr, N: tl.constexpr):
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    x = tl.load(X + rm[:, None] * N + rn[None, :])
    y = tl.load(Y + rn)
    _, yb = tl.broadcast(x, y)
    tl.store(Y_OUT + rm[:, None] * N + rn[None, :], yb)


@pytest.mark.parametrize("dtype", SHAPE_DTYPES)
def test_broadcast_pair(engine, dtype):
    r = rng("bpair", dtype)
    x = random_array(r, dtype, (8, 16))
    y = random_array(r, dtype, 16)
    out = np.zeros((8, 16), np_dtype(dtype))
    broadcast_pair_kernel[(1,)](out, x, y, 8, 16)
    assert_close(out, np.broadcast_to(y, (8, 16)), dtype)


JOIN = """
@triton.jit
def conformance_kernel(Z, A, B, N: tl.constexpr):
    off = tl.arange(0, N)
    a = tl.load(A + off)
    b = tl.load(B + off)
    z = EXPR
    tl.store(Z + OUT_OFFS, z)
"""


@pytest.mark.parametrize("dtype", SHAPE_DTYPES)
@pytest.mark.parametrize("n", [1, 16, 64])
@pytest.mark.parametrize("op", ["join", "interleave"])
def test_join_interleave(engine, op, n, dtype):
    r = rng("join", op, n, dtype)
    a = random_array(r, dtype, n)
    b = random_array(r, dtype, n)
    if op == "join":
        expr, offs = "tl.join(a, b)", "off[:, None] * 2 + tl.arange(0, 2)[None, :]"
        expected = np.stack([a, b], axis=-1)
    else:
        expr, offs = "tl.interleave(a, b)", "tl.arange(0, 2 * N)"
        expected = np.stack([a, b], axis=-1).ravel()
    kernel = kernel_from_template(JOIN, EXPR=expr, OUT_OFFS=offs)
    z = np.zeros(expected.shape, np_dtype(dtype))
    kernel[(1,)](z, a, b, n)
    assert_close(z, expected, dtype)


@triton.jit
def split_kernel(A, B, X, N: tl.constexpr):
    off = tl.arange(0, N)
    x = tl.load(X + off[:, None] * 2 + tl.arange(0, 2)[None, :])
    a, b = tl.split(x)
    tl.store(A + off, a)
    tl.store(B + off, b)


@pytest.mark.parametrize("dtype", SHAPE_DTYPES)
@pytest.mark.parametrize("n", [1, 16, 64])
def test_split(engine, n, dtype):
    x = random_array(rng("split", n, dtype), dtype, (n, 2))
    a = np.zeros(n, np_dtype(dtype))
    b = np.zeros(n, np_dtype(dtype))
    split_kernel[(1,)](a, b, x, n)
    assert_close(a, x[:, 0], dtype)
    assert_close(b, x[:, 1], dtype)


@triton.jit
def join_split_roundtrip_kernel(Z, X, N: tl.constexpr):
    off = tl.arange(0, N)
    x = tl.load(X + off)
    a, b = tl.split(tl.join(x, x * 2))
    tl.store(Z + off, a + b)


@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_join_then_split(engine, dtype):
    x = random_array(rng("jsr", dtype), dtype, 32, -100, 100)
    z = np.zeros_like(x)
    join_split_roundtrip_kernel[(1,)](z, x, 32)
    assert_close(z, x * 3, dtype)


@pytest.mark.parametrize("dtype", ["float32", "int32", "uint8", "float16", "int64"])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("shape", [(16,), (4, 16)])
def test_sort(engine, shape, descending, dtype):
    def ref(x):
        s = np.sort(x, axis=-1)
        return np.flip(s, -1) if descending else s

    _run(engine, dtype, shape, f"tl.sort(x, descending={descending})", shape, ref, (descending,))
