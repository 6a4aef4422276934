"""Reductions, after Triton's test_core (test_reduce1d, test_reduce, test_generic_reduction,
test_argmax ties): tl.sum/max/min/argmax/argmin/xor_sum over 1-D and 2-D tiles, every axis,
keep_dims, method forms, and tl.reduce with a @jit combine function. Integer sums of types
narrower than 32 bits accumulate in (u)int32, as Triton's `sum` does."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

from conformance_helpers import (
    DTYPES,
    INTEGRAL_DTYPES,
    assert_close,
    bits,
    is_float,
    is_signed,
    kernel_from_template,
    np_dtype,
    random_array,
    rng,
    tl_dtype,
)

REDUCE_OPS = ["sum", "max", "min", "argmax", "argmin", "xor_sum"]


def sum_dtype(dtype):
    """Triton's `_pick_sum_dtype`: narrow integers sum in (u)int32."""
    if not is_float(dtype) and bits(dtype) < 32:
        return "int32" if is_signed(dtype) else "uint32"
    return dtype


def result_dtype(op, dtype):
    if op in ("argmax", "argmin"):
        return "int32"
    if op == "sum":
        return sum_dtype(dtype)
    if op in ("max", "min") and bits(dtype) < 32:
        # Triton's max/min (without return_indices) widen narrow inputs: floats to f32,
        # integers (unsigned too) to int32.
        return "float32" if is_float(dtype) else "int32"
    return dtype


def reference(op, x, dtype, axis, keep_dims=False):
    if op == "sum":
        acc = np_dtype(sum_dtype(dtype))
        if is_float(dtype):
            z = x.astype(np.float64).sum(axis=axis, keepdims=keep_dims)
        else:
            with np.errstate(all="ignore"):
                z = x.astype(acc).sum(axis=axis, dtype=acc, keepdims=keep_dims)
    elif op == "max":
        z = x.max(axis=axis, keepdims=keep_dims)
    elif op == "min":
        z = x.min(axis=axis, keepdims=keep_dims)
    elif op == "argmax":
        z = _arg(np.argmax, x, axis, keep_dims)
    elif op == "argmin":
        z = _arg(np.argmin, x, axis, keep_dims)
    else:
        z = np.bitwise_xor.reduce(x, axis=axis, keepdims=keep_dims)
    return np.asarray(z).astype(np_dtype(result_dtype(op, dtype)))


def _arg(fn, x, axis, keep_dims):
    # numpy returns the first index among equal extremes: Triton's tie rule too.
    if axis is None:
        return np.asarray(fn(x.ravel()))
    z = fn(x, axis=axis)
    return np.expand_dims(z, axis) if keep_dims else z


def inputs(op, dtype, shape, key):
    """Values with many ties (so the argmax/argmin tie rule matters) for arg ops."""
    r = rng("reduce", op, dtype, shape, *key)
    if op in ("argmax", "argmin"):
        return random_array(r, "int32", shape, 0, 9).astype(np_dtype(dtype))
    if op == "sum" and is_float(dtype):
        return random_array(r, dtype, shape)
    return random_array(r, dtype, shape)


def check(z, expected, op, dtype):
    if op == "sum" and is_float(dtype):
        tol = (2e-2, 5e-2) if dtype == "float16" else (1e-5, 1e-5)
        assert_close(z, expected, dtype, rtol=tol[0], atol=tol[1])
    else:
        assert_close(z, expected, result_dtype(op, dtype))


REDUCE_1D = """
@triton.jit
def conformance_kernel(Z, X, ZT: tl.constexpr, BLOCK: tl.constexpr):
    x = tl.load(X + tl.arange(0, BLOCK))
    z = EXPR
    tl.static_assert(z.dtype == ZT)
    tl.store(Z, z)
"""

CASES_1D = [(op, d) for op in REDUCE_OPS for d in DTYPES if op != "xor_sum" or not is_float(d)]


@pytest.mark.parametrize("block", [1, 32, 128])
@pytest.mark.parametrize("op, dtype", CASES_1D)
def test_reduce_1d(engine, op, dtype, block):
    x = inputs(op, dtype, block, ())
    kernel = kernel_from_template(REDUCE_1D, EXPR=f"tl.{op}(x, axis=0)")
    dz = result_dtype(op, dtype)
    z = np.zeros(1, dtype=np_dtype(dz))
    kernel[(1,)](z, x, tl_dtype(dz), block)
    check(z, reference(op, x, dtype, 0).reshape(1), op, dtype)


REDUCE_2D = """
@triton.jit
def conformance_kernel(Z, X, M: tl.constexpr, N: tl.constexpr):
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    x = tl.load(X + rm[:, None] * N + rn[None, :])
    z = EXPR
    STORE
"""

STORES = {
    0: "tl.store(Z + rn, z)",
    1: "tl.store(Z + rm, z)",
    None: "tl.store(Z, z)",
}


@pytest.mark.parametrize("shape", [(1, 16), (16, 1), (4, 32), (32, 8), (16, 16)])
@pytest.mark.parametrize("axis", [0, 1, None])
@pytest.mark.parametrize("dtype", ["float32", "int32", "float16", "uint8"])
@pytest.mark.parametrize("op", ["sum", "max", "min", "argmax", "argmin"])
def test_reduce_2d(engine, op, dtype, axis, shape):
    x = inputs(op, dtype, shape, (axis,))
    expr = f"tl.{op}(x, axis={axis})"
    kernel = kernel_from_template(REDUCE_2D, EXPR=expr, STORE=STORES[axis])
    expected = reference(op, x, dtype, axis)
    z = np.zeros(expected.shape if expected.ndim else (1,), dtype=expected.dtype)
    kernel[(1,)](z, x, *shape)
    check(z, expected.reshape(z.shape), op, dtype)


KEEPDIMS = """
@triton.jit
def conformance_kernel(Z, X, M: tl.constexpr, N: tl.constexpr):
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    x = tl.load(X + rm[:, None] * N + rn[None, :])
    z = EXPR
    # keep_dims leaves a size-1 axis that broadcasts back against the tile.
    tl.store(Z + rm[:, None] * N + rn[None, :], x - z.to(x.dtype))
"""


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("op", ["sum", "max", "min"])
@pytest.mark.parametrize("form", ["function", "method"])
def test_reduce_keep_dims(engine, form, op, axis):
    x = inputs(op, "int32", (8, 16), ("keep", form, axis))
    x = (x % 1000).astype(np.int32)
    expr = f"tl.{op}(x, axis={axis}, keep_dims=True)" if form == "function" else f"x.{op}(axis={axis}, keep_dims=True)"
    kernel = kernel_from_template(KEEPDIMS, EXPR=expr)
    z = np.zeros((8, 16), np.int32)
    kernel[(1,)](z, x, 8, 16)
    assert_close(z, x - reference(op, x, "int32", axis, keep_dims=True), "int32")


@pytest.mark.parametrize("op", ["sum", "max", "min", "argmax", "argmin"])
def test_reduce_method_form(engine, op):
    x = inputs(op, "float32", (8, 16), ("method",))
    kernel = kernel_from_template(REDUCE_2D, EXPR=f"x.{op}(axis=1)", STORE=STORES[1])
    expected = reference(op, x, "float32", 1)
    z = np.zeros(8, dtype=expected.dtype)
    kernel[(1,)](z, x, 8, 16)
    check(z, expected, op, "float32")


GENERIC = """
@triton.jit
def _mul_combine(a, b):
    return a * b


@triton.jit
def _maxabs_combine(a, b):
    return tl.where(tl.abs(a) >= tl.abs(b), a, b)


@triton.jit
def conformance_kernel(Z, X, M: tl.constexpr, N: tl.constexpr):
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    x = tl.load(X + rm[:, None] * N + rn[None, :])
    z = tl.reduce(x, AXIS, COMBINE)
    tl.store(Z + rm, z)
"""


@pytest.mark.parametrize("dtype", ["float32", "int32", "int64"])
@pytest.mark.parametrize("combine", ["_mul_combine", "_maxabs_combine"])
def test_generic_reduce(engine, combine, dtype):
    r = rng("generic", combine, dtype)
    if combine == "_mul_combine":
        x = random_array(r, "int32", (8, 8), 1, 3).astype(np_dtype(dtype))
        expected = np.prod(x.astype(np.float64), axis=1)
    else:
        mags = r.permutation(1000)[:64] + 1  # distinct magnitudes: no order-dependent ties
        x = (mags * r.choice([-1, 1], size=64)).reshape(8, 8).astype(np_dtype(dtype))
        x[0] = 5  # equal magnitudes, same value: the result does not depend on order
        idx = np.argmax(np.abs(x.astype(np.float64)), axis=1)
        expected = x[np.arange(8), idx]
    kernel = kernel_from_template(GENERIC, AXIS="1", COMBINE=combine)
    z = np.zeros(8, dtype=np_dtype(dtype))
    kernel[(1,)](z, x, 8, 8)
    assert_close(z, expected.astype(np_dtype(dtype)), dtype)


ARG_TIES = """
@triton.jit
def conformance_kernel(Z, V, X, BLOCK: tl.constexpr):
    x = tl.load(X + tl.arange(0, BLOCK))
    v, i = tl.FN(x, axis=0, return_indices=True)
    tl.store(Z, i)
    tl.store(V, v)
"""


@pytest.mark.parametrize("dtype", ["float32", "int32", "float16", "int8", "uint32"])
@pytest.mark.parametrize("fn", ["max", "min"])
def test_max_min_return_indices(engine, fn, dtype):
    # All equal but two extremes placed late and repeated: the first one's index wins.
    x = np.full(64, 5, dtype=np_dtype(dtype))
    x[[40, 50]] = 9 if fn == "max" else 1
    kernel = kernel_from_template(ARG_TIES, FN=fn)
    z = np.zeros(1, np.int32)
    v = np.zeros(1, np_dtype(dtype))
    kernel[(1,)](z, v, x, 64)
    assert z[0] == 40
    assert v[0] == x[40]
