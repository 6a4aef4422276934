"""Casts, after Triton's test_core `test_cast`: `x.to(dtype)` and `tl.cast(x, dtype)` between
every pair of the dtype matrix (integers wrap, extended by the source's signedness; floats to
integers truncate toward zero; to bool is `!= 0`; bool to numbers is 0/1), and bitcasts
between dtypes of one width (`bitcast=True`), refused between different widths."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

from conformance_helpers import (
    DTYPES,
    assert_close,
    bits,
    cast_like_triton,
    is_float,
    is_unsigned,
    kernel_from_template,
    np_dtype,
    random_array,
    rng,
)

SIZE = 128

CAST_TEMPLATE = """
@triton.jit
def conformance_kernel(Z, X, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    x = tl.load(X + off)
    z = EXPR
    tl.static_assert(z.dtype == tl.DST)
    tl.store(Z + off, z)
"""


def _source_values(src: str, dst: str, key) -> np.ndarray:
    """Values of `src` whose conversion to `dst` is defined: floats going to integers stay
    inside the destination's range (out of range is undefined in Triton, as in C)."""
    r = rng("cast", src, dst, *key)
    if src == "int1":
        return random_array(r, "int1", SIZE)
    if is_float(src) and dst != "int1" and not is_float(dst):
        info = np.iinfo(np_dtype(dst))
        hi = min(float(info.max) * 0.9, 60000.0 if src == "float16" else 1e6)
        lo = 0.0 if is_unsigned(dst) else -hi
        x = random_array(r, src, SIZE, lo, hi)
        x[:8] = np.array([0.0, 0.5, 0.99, 1.5, 2.5, 7.75, 100.25, 3.0], dtype=x.dtype)
        if lo < 0:
            x[8:16] = -x[:8]  # truncation toward zero, not floor
        return x
    if not is_float(src) and dst == "float16":
        info = np.iinfo(np_dtype(src))
        return random_array(r, src, SIZE, max(info.min, -60000), min(info.max, 60000))
    x = random_array(r, src, SIZE)
    if dst == "int1":
        x[::4] = 0
    if is_float(src) and is_float(dst) and bits(dst) < bits(src):
        x *= 100  # round to f16, within its range
    return x


PAIRS = [(s, d) for s in DTYPES for d in DTYPES]


@pytest.mark.parametrize("src, dst", PAIRS)
@pytest.mark.parametrize("form", ["method", "tl.cast"])
def test_cast(engine, form, src, dst):
    x = _source_values(src, dst, (form,))
    expr = f"x.to(tl.{dst})" if form == "method" else f"tl.cast(x, tl.{dst})"
    kernel = kernel_from_template(CAST_TEMPLATE, EXPR=expr, DST=dst)
    z = np.zeros(SIZE, dtype=np_dtype(dst))
    kernel[(1,)](z, x, SIZE)
    expected = cast_like_triton(x, src, dst)
    if is_float(src) and not is_float(dst):
        expected = np.trunc(x.astype(np.float64)).astype(np_dtype(dst))
    assert_close(z, expected, dst, msg=f"{src}.to({dst}) on {engine}")


@pytest.mark.parametrize("src", DTYPES)
def test_cast_to_bool(engine, src):
    # `.to(tl.int1)` is `x != 0`: 2 and 256 are true, not truncated to their low bit.
    x = _source_values(src, "int1", ())
    if not is_float(src):
        x[1::8] = 2
        if bits(src) > 8:
            x[2::8] = 256
    kernel = kernel_from_template(CAST_TEMPLATE, EXPR="x.to(tl.int1)", DST="int1")
    z = np.zeros(SIZE, dtype=np.bool_)
    kernel[(1,)](z, x, SIZE)
    assert_close(z, x != 0, "int1", msg=f"{src}.to(int1) on {engine}")


@pytest.mark.parametrize("dst", DTYPES)
def test_cast_from_bool(engine, dst):
    x = random_array(rng("from-bool", dst), "int1", SIZE)
    kernel = kernel_from_template(CAST_TEMPLATE, EXPR=f"x.to(tl.{dst})", DST=dst)
    z = np.full(SIZE, 7, dtype=np_dtype(dst))
    kernel[(1,)](z, x, SIZE)
    assert_close(z, x.astype(np_dtype(dst)), dst, msg=f"bool.to({dst}) on {engine}")


@pytest.mark.parametrize("dst", DTYPES)
def test_comparison_result_to_number(engine, dst):
    # A common idiom: (x > 0).to(tl.float32) as a 0/1 mask.
    x = random_array(rng("cmp-to", dst), "float32", SIZE)
    kernel = kernel_from_template(CAST_TEMPLATE, EXPR=f"(x > 0).to(tl.{dst})", DST=dst)
    z = np.full(SIZE, 7, dtype=np_dtype(dst))
    kernel[(1,)](z, x, SIZE)
    assert_close(z, (x > 0).astype(np_dtype(dst)), dst)


BITCAST_PAIRS = [(s, d) for s in DTYPES for d in DTYPES if bits(s) == bits(d) and s != d]
BITCAST_BAD_PAIRS = [("int32", "float16"), ("int8", "int16"), ("float32", "int64"), ("uint16", "uint8")]


@pytest.mark.parametrize("src, dst", BITCAST_PAIRS)
def test_bitcast(engine, src, dst):
    x = random_array(rng("bitcast", src, dst), src, SIZE)
    kernel = kernel_from_template(CAST_TEMPLATE, EXPR=f"x.to(tl.{dst}, bitcast=True)", DST=dst)
    z = np.zeros(SIZE, dtype=np_dtype(dst))
    kernel[(1,)](z, x, SIZE)
    # Bit patterns, compared as integers so NaN payloads count too.
    np.testing.assert_array_equal(z.view(f"u{z.itemsize}"), x.view(f"u{x.itemsize}"))


@pytest.mark.parametrize("src, dst", BITCAST_BAD_PAIRS)
def test_bitcast_between_widths_is_refused(engine, src, dst):
    x = random_array(rng("bitcast-bad", src, dst), src, SIZE)
    kernel = kernel_from_template(CAST_TEMPLATE, EXPR=f"x.to(tl.{dst}, bitcast=True)", DST=dst)
    with pytest.raises(triton.CompilationError):
        kernel[(1,)](np.zeros(SIZE, dtype=np_dtype(dst)), x, SIZE)


STORE_CONVERT_TEMPLATE = """
@triton.jit
def conformance_kernel(Z, X, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    tl.store(Z + off, tl.load(X + off))
"""


@pytest.mark.parametrize("src, dst", [(s, d) for s in DTYPES for d in DTYPES if s != d and (is_float(s) == is_float(d))])
def test_store_converts_to_pointer_dtype(engine, src, dst):
    # tl.store casts the value to the pointer's element type.
    x = _source_values(src, dst, ("store",))
    kernel = kernel_from_template(STORE_CONVERT_TEMPLATE)
    z = np.zeros(SIZE, dtype=np_dtype(dst))
    kernel[(1,)](z, x, SIZE)
    assert_close(z, cast_like_triton(x, src, dst), dst, msg=f"store {src} into *{dst} on {engine}")
