"""`triton.language.extra.libdevice` beyond the frontend's builtins: the functions written in
the Triton language (crates/frontend/stdlib/libdevice.py), each against numpy in float64 over
its domain and its edge values, on every engine.

Tolerances are in ulp of the float32 result (or absolute near zeros of the function); each is
the bound the formulation is meant to meet, with room for the engine's own exp/log/sqrt."""

import math

import numpy as np
import pytest

import triton_metal as triton

from conformance_helpers import kernel_from_template, random_array, rng

SIZE = 512

UNARY = """
@triton.jit
def conformance_kernel(Z, X, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    x = tl.load(X + off)
    tl.store(Z + off, libdevice.FN(x))
"""

BINARY = """
@triton.jit
def conformance_kernel(Z, X, Y, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    x = tl.load(X + off)
    y = tl.load(Y + off)
    tl.store(Z + off, libdevice.FN(x, y))
"""


def _ulps(actual, expected):
    """|actual - expected| in units of the float32 spacing at expected."""
    expected = np.asarray(expected, np.float64)
    with np.errstate(over="ignore"):
        spacing = np.spacing(np.abs(expected).astype(np.float32)).astype(np.float64)
    return np.abs(actual.astype(np.float64) - expected) / spacing


def _check(z, expected, ulps, atol=0.0, what=""):
    finite = np.isfinite(expected)
    assert (np.isnan(z) == np.isnan(expected)).all(), f"{what}: NaNs differ"
    inf = np.isinf(expected)
    np.testing.assert_array_equal(z[inf], expected[inf].astype(np.float32), err_msg=what)
    err = _ulps(z[finite], expected[finite])
    near_zero = np.abs(z[finite].astype(np.float64) - expected[finite]) <= atol
    bad = (err > ulps) & ~near_zero
    assert not bad.any(), f"{what}: {err[bad].max():.1f} ulp at x={np.flatnonzero(finite)[bad][:4]}"


def _vec(f):
    return np.vectorize(f, otypes=[np.float64])


# name -> (reference in float64, input range, extra inputs, max ulp, absolute slack)
UNARY_CASES = {
    "log1p": (np.log1p, (-0.99, 10), [0.0, -0.0, 1e-8, -1e-8, 3e-5, np.inf, -1.0], 3, 0),
    "expm1": (np.expm1, (-20, 20), [0.0, 1e-8, -1e-8, 3e-5, -3e-5, 100.0, -100.0], 3, 0),
    "exp10": (lambda v: 10.0**v, (-30, 30), [0.0, 1.0, 2.0, -2.0, 38.0, -37.0], 4, 0),
    "log10": (np.log10, (1e-3, 1e6), [1.0, 10.0, 1000.0, 0.0, np.inf], 3, 1e-7),
    "cbrt": (np.cbrt, (-1e3, 1e3), [0.0, -0.0, 8.0, -27.0, 1e-20, np.inf, -np.inf], 2, 0),
    "asinh": (np.arcsinh, (-50, 50), [0.0, -0.0, 1e-6, -1e-6, 1e20, -1e20], 3, 0),
    "acosh": (np.arccosh, (1, 50), [1.0, 1.0000001, 1e20, 0.5], 4, 0),
    "atanh": (np.arctanh, (-0.999, 0.999), [0.0, -0.0, 1e-6, 1.0, -1.0, 1.5], 4, 0),
    "erfc": (_vec(math.erfc), (-3, 9), [0.0, -0.0, 4.0, 8.5], 8, 0),
    "normcdf": (_vec(lambda v: 0.5 * math.erfc(-v / math.sqrt(2))), (-12, 4), [0.0], 8, 0),
    "sinpi": (lambda v: np.sin(np.pi * np.fmod(v, 2.0)), (-1e4, 1e4), [0.0, 0.5, 1.0, 1.5, 100.25], 4, 1e-7),
    "cospi": (lambda v: np.cos(np.pi * np.fmod(v, 2.0)), (-1e4, 1e4), [0.0, 0.5, 1.0, 1.5, 100.25], 4, 1e-7),
    "round": (lambda v: np.where(v >= 0, np.floor(v + 0.5), np.ceil(v - 0.5)), (-100, 100), [0.5, -0.5, 2.5, 0.49999997, -1.5], 0, 0),
    "nearbyint": (np.rint, (-100, 100), [0.5, 1.5, 2.5, -0.5], 0, 0),
    "saturatef": (lambda v: np.where(np.isnan(v), 0.0, np.clip(v, 0, 1)), (-2, 2), [np.nan, np.inf, -np.inf], 0, 0),
    "rcp_rn": (lambda v: (1.0 / v.astype(np.float32)).astype(np.float64), (0.1, 100), [1.0, 3.0, -7.0], 0, 0),
    "fast_expf": (np.exp, (-10, 10), [0.0], 8, 0),
    "fast_logf": (np.log, (1e-3, 1e3), [1.0], 8, 1e-6),
    "fast_log10f": (np.log10, (1e-3, 1e3), [1.0], 8, 1e-6),
}


@pytest.mark.parametrize("fn", list(UNARY_CASES))
def test_unary(engine, fn):
    ref, (lo, hi), extra, ulps, atol = UNARY_CASES[fn]
    x = random_array(rng("libdevice", fn), "float32", SIZE, lo, hi)
    x[: len(extra)] = np.array(extra, np.float32)
    z = np.zeros_like(x)
    kernel_from_template(UNARY, FN=fn)[(1,)](z, x, SIZE)
    with np.errstate(all="ignore"):
        expected = ref(x.astype(np.float64))
    _check(z, expected, ulps, atol, f"libdevice.{fn} on {engine}")


BINARY_CASES = {
    "hypot": (np.hypot, (-1e3, 1e3), 2),
    "fdim": (lambda a, b: np.where(a > b, a - b, 0.0), (-10, 10), 0),
    "fmod": (np.fmod, (-50, 50), 0),
    "copysign": (np.copysign, (-10, 10), 0),
    "fast_dividef": (np.divide, (0.5, 50), 2),
}


@pytest.mark.parametrize("fn", list(BINARY_CASES))
def test_binary(engine, fn):
    ref, (lo, hi), ulps = BINARY_CASES[fn]
    r = rng("libdevice2", fn)
    x = random_array(r, "float32", SIZE, lo, hi)
    y = random_array(r, "float32", SIZE, lo, hi)
    x[:4] = [0.0, -0.0, np.inf, 3.0]
    y[:4] = [-2.0, 5.0, 1.0, -0.0] if fn != "fmod" else [-2.0, 5.0, 7.0, 2.0]
    if fn == "fmod":
        x[2] = 11.0
    z = np.zeros_like(x)
    kernel_from_template(BINARY, FN=fn)[(1,)](z, x, y, SIZE)
    with np.errstate(all="ignore"):
        expected = ref(x.astype(np.float64), y.astype(np.float64))
    if fn in ("fmod", "copysign", "fdim"):
        # Exact operations: compared on bits (fmod's result is exact in float32).
        np.testing.assert_array_equal(z, expected.astype(np.float32))
    else:
        _check(z, expected, ulps, 0, f"libdevice.{fn} on {engine}")


def test_ldexp(engine):
    r = rng("ldexp")
    x = random_array(r, "float32", SIZE, -4, 4)
    n = r.integers(-140, 140, size=SIZE).astype(np.int32)
    x[:3], n[:3] = [1.0, 3.0, 1e-30], [128, -130, 200]
    z = np.zeros_like(x)
    kernel_from_template(BINARY, FN="ldexp")[(1,)](z, x, n, SIZE)
    with np.errstate(over="ignore"):
        expected = np.ldexp(x.astype(np.float64), n).astype(np.float32)
    normal = np.abs(expected) >= np.finfo(np.float32).tiny
    np.testing.assert_array_equal(z[normal], expected[normal])


@pytest.mark.parametrize("fn", ["signbit", "isfinitef"])
def test_float_classification(engine, fn):
    x = random_array(rng("cls", fn), "float32", SIZE, -10, 10)
    x[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, -1e-40]
    z = np.zeros(SIZE, np.int32)
    kernel_from_template(UNARY, FN=fn)[(1,)](z, x, SIZE)
    expected = np.signbit(x) if fn == "signbit" else np.isfinite(x)
    np.testing.assert_array_equal(z != 0, expected)


def _int_reference(fn, x):
    u = x.astype(np.uint64) & 0xFFFFFFFF
    if fn == "popc":
        return np.array([bin(int(v)).count("1") for v in u], np.int32)
    if fn == "clz":
        return np.array([32 - int(v).bit_length() for v in u], np.int32)
    if fn == "brev":
        return np.array([int(f"{int(v):032b}"[::-1], 2) for v in u], np.uint32).view(x.dtype)
    if fn == "ffs":
        return np.array([(int(v) & -int(v)).bit_length() for v in u], np.int32)
    raise AssertionError(fn)


@pytest.mark.parametrize("dtype", ["int32", "uint32"])
@pytest.mark.parametrize("fn", ["popc", "clz", "brev", "ffs"])
def test_bit_functions(engine, fn, dtype):
    x = random_array(rng("bits", fn, dtype), dtype, SIZE)
    x[:5] = np.array([0, 1, 0x80000000, 0xFFFFFFFF, 0x00010000], np.uint32).view(dtype)
    out_dtype = x.dtype if fn == "brev" else np.int32
    z = np.zeros(SIZE, out_dtype)
    kernel_from_template(UNARY, FN=fn)[(1,)](z, x, SIZE)
    np.testing.assert_array_equal(z, _int_reference(fn, x))


def test_popc_of_int64(engine):
    x = random_array(rng("popc64"), "int64", SIZE)
    x[:3] = [0, -1, 1 << 40]
    z = np.zeros(SIZE, np.int32)
    kernel_from_template(UNARY, FN="popc")[(1,)](z, x, SIZE)
    np.testing.assert_array_equal(z, [bin(int(v) & (2**64 - 1)).count("1") for v in x])


@pytest.mark.parametrize("dtype", ["int32", "uint32"])
def test_mulhi(engine, dtype):
    # Signed for int32, as CUDA's __nv_mulhi; unsigned for uint32.
    r = rng("mulhi", dtype)
    x = random_array(r, dtype, SIZE)
    y = random_array(r, dtype, SIZE)
    z = np.zeros_like(x)
    kernel_from_template(BINARY, FN="mulhi")[(1,)](z, x, y, SIZE)
    expected = [(int(a) * int(b)) >> 32 for a, b in zip(x, y)]
    np.testing.assert_array_equal(z, np.array(expected, np.int64).astype(x.dtype))


def test_float16_is_refused_as_in_triton(engine):
    x = np.zeros(SIZE, np.float16)
    with pytest.raises(triton.CompilationError, match="expected fp32"):
        kernel_from_template(UNARY, FN="log1p")[(1,)](np.zeros_like(x), x, SIZE)
