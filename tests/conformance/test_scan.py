"""Scans, after Triton's test_core (test_scan2d, test_scan_1d, associative_scan with a
combine function, reverse): tl.cumsum and tl.cumprod over 1-D and 2-D tiles on each axis.
Narrow integers accumulate in (u)int32 for cumsum, as Triton's `cumsum` does."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

from conformance_helpers import (
    DTYPES,
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


def cumsum_dtype(dtype):
    if not is_float(dtype) and bits(dtype) < 32:
        return "int32" if is_signed(dtype) else "uint32"
    return dtype


def reference(op, x, dtype, axis, reverse):
    dz = cumsum_dtype(dtype) if op == "cumsum" else dtype
    acc = np.float64 if is_float(dtype) else np_dtype(dz)
    v = np.flip(x, axis) if reverse else x
    with np.errstate(all="ignore"):
        v = v.astype(acc)
        z = np.cumsum(v, axis=axis, dtype=acc) if op == "cumsum" else np.cumprod(v, axis=axis, dtype=acc)
    if reverse:
        z = np.flip(z, axis)
    return z.astype(np_dtype(dz)), dz


def inputs(op, dtype, shape, key):
    r = rng("scan", op, dtype, shape, *key)
    if op == "cumprod":
        if is_float(dtype):
            return random_array(r, dtype, shape, 0.9, 1.1)
        return random_array(r, dtype, shape, 0, 3)  # wraps for wide shapes, like C
    return random_array(r, dtype, shape)


def check(z, expected, op, dtype, dz):
    if is_float(dtype):
        tol = (2e-2, 5e-2) if dtype == "float16" else (1e-5, 1e-5)
        assert_close(z, expected, dz, rtol=tol[0], atol=tol[1])
    else:
        assert_close(z, expected, dz)


SCAN_1D = """
@triton.jit
def conformance_kernel(Z, X, ZT: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    x = tl.load(X + off)
    z = EXPR
    tl.static_assert(z.dtype == ZT)
    tl.store(Z + off, z)
"""


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("block", [1, 32, 128])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_scan_1d(engine, op, dtype, block, reverse):
    x = inputs(op, dtype, block, (reverse,))
    kernel = kernel_from_template(SCAN_1D, EXPR=f"tl.{op}(x, axis=0, reverse={reverse})")
    expected, dz = reference(op, x, dtype, 0, reverse)
    z = np.zeros(block, dtype=np_dtype(dz))
    kernel[(1,)](z, x, tl_dtype(dz), block)
    check(z, expected, op, dtype, dz)


SCAN_2D = """
@triton.jit
def conformance_kernel(Z, X, M: tl.constexpr, N: tl.constexpr):
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    x = tl.load(X + rm[:, None] * N + rn[None, :])
    z = EXPR
    tl.store(Z + rm[:, None] * N + rn[None, :], z)
"""


@pytest.mark.parametrize("shape", [(1, 32), (32, 1), (8, 16), (16, 16)])
@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("dtype", ["float32", "int32", "int64", "float16"])
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_scan_2d(engine, op, dtype, axis, shape):
    x = inputs(op, dtype, shape, (axis,))
    kernel = kernel_from_template(SCAN_2D, EXPR=f"tl.{op}(x, axis={axis})")
    expected, dz = reference(op, x, dtype, axis, False)
    z = np.zeros(shape, dtype=np_dtype(dz))
    kernel[(1,)](z, x, *shape)
    check(z, expected, op, dtype, dz)


ASSOC = """
@triton.jit
def _max_combine(a, b):
    return tl.maximum(a, b)


@triton.jit
def _first_combine(a, b):
    # Associative but not commutative: a scan must keep its operands in order.
    return a


@triton.jit
def conformance_kernel(Z, X, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    x = tl.load(X + off)
    z = tl.associative_scan(x, 0, COMBINE, reverse=REVERSE)
    tl.store(Z + off, z)
"""


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", ["int32", "float32", "uint32", "int64"])
@pytest.mark.parametrize("combine", ["_max_combine"])
def test_associative_scan(engine, combine, dtype, reverse):
    x = random_array(rng("assoc", combine, dtype, reverse), dtype, 64)
    kernel = kernel_from_template(ASSOC, COMBINE=combine, REVERSE=str(reverse))
    z = np.zeros_like(x)
    kernel[(1,)](z, x, 64)
    v = x[::-1] if reverse else x
    expected = np.maximum.accumulate(v)
    if reverse:
        expected = expected[::-1]
    assert_close(z, expected, dtype)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("block", [4, 16, 64])
def test_associative_scan_order(engine, block, reverse):
    # "keep the left operand": every output is the first element in scan order.
    x = random_array(rng("assoc-order", block, reverse), "uint32", block)
    kernel = kernel_from_template(ASSOC, COMBINE="_first_combine", REVERSE=str(reverse))
    z = np.zeros_like(x)
    kernel[(1,)](z, x, block)
    assert_close(z, np.full(block, x[-1] if reverse else x[0], np.uint32), "uint32")
