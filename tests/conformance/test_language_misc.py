"""The rest of the issue's language list, each against numpy: the multi-operand math builtins
(`umulhi`, `fma`, `div_rn`, `fdiv`, `clamp`, `sigmoid`, `softmax`), the exact libdevice
predicates and rounding (`rint`, `isnan`, `isinf`, `signbit`), memory hints that must be
accepted without changing results (`cache_modifier`, `eviction_policy`, `volatile`), block
pointers with `padding_option`, the compiler hints (`multiple_of`, `max_contiguous`,
`max_constancy`, `assume`), `static_print`, and atomics with `scope`."""

import numpy as np
import pytest

import triton_metal as triton

from conformance_helpers import assert_close, kernel_from_template, np_dtype, random_array, rng

SIZE = 256

UNARY = """
@triton.jit
def conformance_kernel(Z, X, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    x = tl.load(X + off)
    tl.store(Z + off, EXPR)
"""

BINARY = """
@triton.jit
def conformance_kernel(Z, X, Y, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    x = tl.load(X + off)
    y = tl.load(Y + off)
    tl.store(Z + off, EXPR)
"""

TERNARY = """
@triton.jit
def conformance_kernel(Z, X, Y, W, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    x = tl.load(X + off)
    y = tl.load(Y + off)
    w = tl.load(W + off)
    tl.store(Z + off, EXPR)
"""


def _ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Units in the last place between float32 arrays (ordered as integers)."""

    def ordered(v):
        i = v.astype(np.float32).view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i)

    return np.abs(ordered(a) - ordered(b))


# ---------------------------------------------------------------------------------------------
# umulhi, fma, div_rn, fdiv, clamp
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["tl.umulhi(x, y)", "tl.math.umulhi(x, y)", "libdevice.umulhi(x, y)"])
@pytest.mark.parametrize("dtype", ["int32", "uint32"])
def test_umulhi(engine, dtype, form):
    # Triton's test_umulhi draws non-negative operands; on them signed and unsigned agree.
    r = rng("umulhi", dtype)
    lo = 0
    x = random_array(r, dtype, SIZE, low=lo)
    y = random_array(r, dtype, SIZE, low=lo)
    z = np.zeros_like(x)
    kernel_from_template(BINARY, EXPR=form)[(1,)](z, x, y, SIZE)
    expected = ((x.astype(np.uint64) * y.astype(np.uint64)) >> np.uint64(32)).astype(x.dtype)
    np.testing.assert_array_equal(z, expected)


@pytest.mark.parametrize("form", ["tl.fma(x, y, w)", "tl.math.fma(x, y, w)"])
def test_fma_is_one_rounding(engine, form):
    r = rng("fma")
    x = random_array(r, "float32", SIZE, -4, 4)
    y = random_array(r, "float32", SIZE, -4, 4)
    w = random_array(r, "float32", SIZE, -4, 4)
    # Cases where x*y+w cancels: only a fused multiply-add keeps the low bits of x*y.
    w[:64] = -(x[:64].astype(np.float64) * y[:64].astype(np.float64)).astype(np.float32)
    z = np.zeros_like(x)
    kernel_from_template(TERNARY, EXPR=form)[(1,)](z, x, y, w, SIZE)
    exact = x.astype(np.float64) * y.astype(np.float64) + w.astype(np.float64)
    # The float64 sum is exact for these magnitudes (48-bit products, nearby addends), so
    # rounding it once is the fused result.
    assert _ulp_distance(z, exact.astype(np.float32)).max() <= 1, f"fma on {engine}"


def test_div_rn_is_correctly_rounded(engine):
    r = rng("div_rn")
    x = random_array(r, "float32", SIZE, -100, 100)
    y = random_array(r, "float32", SIZE, 0.5, 50)
    z = np.zeros_like(x)
    kernel_from_template(BINARY, EXPR="tl.math.div_rn(x, y)")[(1,)](z, x, y, SIZE)
    assert _ulp_distance(z, x / y).max() == 0, f"div_rn on {engine}"


@pytest.mark.parametrize("ieee", ["False", "True"])
def test_fdiv(engine, ieee):
    r = rng("fdiv", ieee)
    x = random_array(r, "float32", SIZE, -100, 100)
    y = random_array(r, "float32", SIZE, 0.5, 50)
    z = np.zeros_like(x)
    kernel_from_template(BINARY, EXPR=f"tl.fdiv(x, y, ieee_rounding={ieee})")[(1,)](z, x, y, SIZE)
    # Triton's fdiv without ieee_rounding is the fast approximate division (2 ulp on NVIDIA).
    limit = 0 if ieee == "True" else 2
    assert _ulp_distance(z, x / y).max() <= limit, f"fdiv on {engine}"


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_clamp(engine, dtype):
    r = rng("clamp", dtype)
    x = random_array(r, dtype, SIZE, -3, 3)
    z = np.zeros_like(x)
    kernel_from_template(UNARY, EXPR="tl.clamp(x, -1.5, 0.75)")[(1,)](z, x, SIZE)
    assert_close(z, np.clip(x, np_dtype(dtype).type(-1.5), np_dtype(dtype).type(0.75)), dtype)


def test_clamp_propagates_nan_when_asked(engine):
    x = np.array([np.nan, -5.0, 0.25, 9.0] * (SIZE // 4), dtype=np.float32)
    z = np.zeros_like(x)
    expr = "tl.clamp(x, -1.0, 1.0, propagate_nan=tl.PropagateNan.ALL)"
    kernel_from_template(UNARY, EXPR=expr)[(1,)](z, x, SIZE)
    expected = np.array([np.nan, -1.0, 0.25, 1.0] * (SIZE // 4), dtype=np.float32)
    assert_close(z, expected, "float32")
    assert np.isnan(z[::4]).all(), f"clamp dropped a NaN on {engine}"


# ---------------------------------------------------------------------------------------------
# sigmoid, softmax
# ---------------------------------------------------------------------------------------------


def test_sigmoid(engine):
    x = random_array(rng("sigmoid"), "float32", SIZE, -8, 8)
    z = np.zeros_like(x)
    kernel_from_template(UNARY, EXPR="tl.sigmoid(x)")[(1,)](z, x, SIZE)
    expected = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    assert_close(z, expected, "float32", rtol=2e-6, atol=2e-6)


def test_sigmoid_of_fp16_is_refused_as_in_triton(engine):
    # standard.sigmoid calls tl.exp, which takes fp32/fp64 only.
    x = np.zeros(SIZE, np.float16)
    with pytest.raises(triton.CompilationError, match="Expected dtype"):
        kernel_from_template(UNARY, EXPR="tl.sigmoid(x)")[(1,)](np.zeros_like(x), x, SIZE)


SOFTMAX_2D = """
@triton.jit
def conformance_kernel(Z, X, R: tl.constexpr, C: tl.constexpr):
    rows = tl.arange(0, R)[:, None]
    cols = tl.arange(0, C)[None, :]
    x = tl.load(X + rows * C + cols)
    tl.store(Z + rows * C + cols, EXPR)
"""


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_softmax_1d(engine):
    x = random_array(rng("softmax1d"), "float32", SIZE, -6, 6)
    z = np.zeros_like(x)
    kernel_from_template(UNARY, EXPR="tl.softmax(x)")[(1,)](z, x, SIZE)
    assert_close(z, _softmax(x.astype(np.float64), 0), "float32", rtol=1e-5, atol=1e-7)


# As in Triton, softmax over the last axis of a 2-D tile needs keep_dims=True (its max and
# sum are broadcast back against the tile).
@pytest.mark.parametrize("expr, dim", [("tl.softmax(x, dim=0)", 0), ("tl.softmax(x, 1, keep_dims=True)", 1), ("x.softmax(0)", 0)])
def test_softmax_2d(engine, expr, dim):
    x = random_array(rng("softmax2d", dim), "float32", (8, 32), -6, 6)
    z = np.zeros_like(x)
    kernel_from_template(SOFTMAX_2D, EXPR=expr)[(1,)](z, x, 8, 32)
    assert_close(z, _softmax(x.astype(np.float64), dim), "float32", rtol=1e-5, atol=1e-7)


def test_softmax_last_axis_without_keep_dims_is_refused_as_in_triton(engine):
    x = np.zeros((8, 32), np.float32)
    with pytest.raises(triton.CompilationError, match="incompatible dimensions"):
        kernel_from_template(SOFTMAX_2D, EXPR="tl.softmax(x, dim=1)")[(1,)](np.zeros_like(x), x, 8, 32)


# ---------------------------------------------------------------------------------------------
# libdevice: exact functions
# ---------------------------------------------------------------------------------------------

SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -2.5, 3.49, -7.51], np.float32)


def _with_specials(x):
    x = x.copy()
    x[: len(SPECIALS)] = SPECIALS
    return x


def test_rint_rounds_half_to_even(engine):
    x = _with_specials(random_array(rng("rint"), "float32", SIZE, -50, 50))
    x[len(SPECIALS) : 64] = np.arange(64 - len(SPECIALS), dtype=np.float32) - 20.5
    z = np.zeros_like(x)
    kernel_from_template(UNARY, EXPR="libdevice.rint(x)")[(1,)](z, x, SIZE)
    np.testing.assert_array_equal(z.view(np.uint32)[3:], np.rint(x).view(np.uint32)[3:])
    assert np.isnan(z[0]) and z[1] == np.inf and z[2] == -np.inf


@pytest.mark.parametrize("fn", ["isnan", "isinf", "signbit"])
def test_float_predicates(engine, fn):
    x = _with_specials(random_array(rng("pred", fn), "float32", SIZE, -50, 50))
    z = np.zeros(SIZE, dtype=np.int32)
    kernel_from_template(UNARY, EXPR=f"libdevice.{fn}(x).to(tl.int32)")[(1,)](z, x, SIZE)
    expected = getattr(np, fn)(x).astype(np.int32)
    np.testing.assert_array_equal(z != 0, expected != 0, err_msg=f"{fn} on {engine}")


# ---------------------------------------------------------------------------------------------
# memory hints, block pointers with padding
# ---------------------------------------------------------------------------------------------

HINTED_COPY = """
@triton.jit
def conformance_kernel(Z, X, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    off = pid * BLOCK + tl.arange(0, BLOCK)
    off = tl.max_contiguous(tl.multiple_of(off, BLOCK), BLOCK)
    tl.assume(n > 0)
    m = off < n
    x = tl.load(X + off, mask=m, other=0.0, LOAD_HINTS)
    tl.store(Z + off, x * 2.0, mask=m, STORE_HINTS)
"""

HINTS = [
    ('cache_modifier=".ca"', 'cache_modifier=".wb"'),
    ('cache_modifier=".cg", eviction_policy="evict_last"', 'eviction_policy="evict_first"'),
    ('volatile=True', 'cache_modifier=".cs"'),
    ('cache_modifier=".cv", eviction_policy="evict_first", volatile=True', 'cache_modifier=".wt"'),
]


@pytest.mark.parametrize("load_hints, store_hints", HINTS)
def test_memory_hints_are_accepted(engine, load_hints, store_hints):
    n = 1000
    x = random_array(rng("hints", load_hints), "float32", n)
    z = np.full(1024, 7.0, dtype=np.float32)
    k = kernel_from_template(HINTED_COPY, LOAD_HINTS=load_hints, STORE_HINTS=store_hints)
    k[(triton.cdiv(n, 128),)](z, x, n, BLOCK=128)
    np.testing.assert_array_equal(z[:n], x * 2)
    assert (z[n:] == 7.0).all()


def test_unknown_cache_modifier_is_refused(engine):
    k = kernel_from_template(HINTED_COPY, LOAD_HINTS='cache_modifier=".zz"', STORE_HINTS="volatile=False")
    with pytest.raises(triton.CompilationError, match="cache"):
        k[(1,)](np.zeros(128, np.float32), np.zeros(128, np.float32), 128, BLOCK=128)


CONSTANCY = """
@triton.jit
def conformance_kernel(Z, X, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    row = tl.max_constancy(off // 4, 4)
    tl.store(Z + off, tl.load(X + row))
"""


def test_max_constancy(engine):
    x = random_array(rng("constancy"), "float32", 16)
    z = np.zeros(64, np.float32)
    kernel_from_template(CONSTANCY)[(1,)](z, x, BLOCK=64)
    np.testing.assert_array_equal(z, np.repeat(x, 4))


BLOCK_PTR_PADDING = """
@triton.jit
def conformance_kernel(Z, X, M, N, BM: tl.constexpr, BN: tl.constexpr):
    src = tl.make_block_ptr(X, shape=(M, N), strides=(N, 1), offsets=(BM // 2, BN // 2),
                            block_shape=(BM, BN), order=(1, 0))
    t = tl.load(src, boundary_check=(0, 1), PADDING)
    rows = tl.arange(0, BM)[:, None]
    cols = tl.arange(0, BN)[None, :]
    tl.store(Z + rows * BN + cols, t)
"""


@pytest.mark.parametrize("padding", ['padding_option="zero"', 'padding_option="nan"'])
def test_block_pointer_padding(engine, padding):
    M, N, BM, BN = 20, 12, 16, 16
    x = random_array(rng("pad", padding), "float32", (M, N))
    z = np.zeros((BM, BN), np.float32)
    kernel_from_template(BLOCK_PTR_PADDING, PADDING=padding)[(1,)](z, x, M, N, BM=BM, BN=BN)
    fill = np.nan if "nan" in padding else 0.0
    expected = np.full((BM, BN), fill, np.float32)
    r0, c0 = BM // 2, BN // 2
    inside = x[r0 : r0 + BM, c0 : c0 + BN]
    expected[: inside.shape[0], : inside.shape[1]] = inside
    assert_close(z, expected, "float32", rtol=0, atol=0)


# ---------------------------------------------------------------------------------------------
# static_print, atomics with scope
# ---------------------------------------------------------------------------------------------

STATIC_PRINT = """
@triton.jit
def conformance_kernel(Z, BLOCK: tl.constexpr):
    tl.static_print("static block is", BLOCK)
    tl.store(Z + tl.arange(0, BLOCK), tl.arange(0, BLOCK))
"""


def test_static_print_prints_once_at_compile_time(engine, capfd):
    k = kernel_from_template(STATIC_PRINT)
    z = np.zeros(32, np.int32)
    k[(1,)](z, BLOCK=32)
    k[(1,)](z, BLOCK=32)
    # Printed by the compiler (to stderr, keeping stdout free for `--emit`), once per
    # compiled specialization.
    captured = capfd.readouterr()
    out = captured.out + captured.err
    assert out.count("static block is 32") == 1, out
    np.testing.assert_array_equal(z, np.arange(32))


ATOMIC_SCOPE = """
@triton.jit
def conformance_kernel(Z, X, n, BLOCK: tl.constexpr):
    off = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(X + off, mask=off < n, other=0)
    tl.atomic_add(Z + off % 7, x, mask=off < n, sem="SEM", scope="SCOPE")
"""


@pytest.mark.parametrize("scope", ["gpu", "cta", "sys"])
@pytest.mark.parametrize("sem", ["relaxed", "acq_rel"])
def test_atomic_scope(engine, scope, sem):
    n = 700
    x = random_array(rng("scope", scope, sem), "int32", n, -1000, 1000)
    z = np.zeros(7, np.int32)
    kernel_from_template(ATOMIC_SCOPE, SCOPE=scope, SEM=sem)[(triton.cdiv(n, 128),)](z, x, n, BLOCK=128)
    expected = np.array([x[i::7].sum() for i in range(7)], np.int32)
    np.testing.assert_array_equal(z, expected)
