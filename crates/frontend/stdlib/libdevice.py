"""The functions of ``triton.language.extra.libdevice`` that the frontend has no builtin for,
written in the Triton language from their mathematical definitions.

CUDA's libdevice is a bitcode library; Apple GPUs and WGSL have none, so each function here
is built from the builtins every target has. The frontend tries its builtins first
(``exp``, ``asin``, ``pow``, ``rint``, ...) and falls back to this file. As in Triton,
floating-point functions take float32 (libdevice's ``f`` variants; float64 does not exist
on these GPUs) and integer ones int32/uint32 (64-bit where noted).

Accuracy: within a few ulp of the correctly rounded result over the normal range, except
where a comment says otherwise. Cancellation-prone functions (``expm1``, ``log1p``,
``asinh``, ...) use the classic error-compensating formulations instead of the naive ones.
"""

import triton
import triton.language as tl
import triton.language.extra.libdevice as libdevice

LN2 = 0.6931471805599453
LOG2E = 1.4426950408889634
# ln 2 as a float32 with 12 trailing zero bits (k * LN2_HI is exact for |k| < 2^12) and the
# rest.
LN2_HI = 0.693115234375
LN2_LO = 3.194618494528623e-05
# log2(10) split so that x * LOG2_10 can be carried with 24 more bits: LOG2_10_HI is a
# float32, LOG2_10_HI + LOG2_10_LO is log2(10) to float64 precision.
LOG2_10_HI = 3.321928024291992
LOG2_10_LO = 7.059536999420857e-08
LOG10_2 = 0.30102999566398120
PI = 3.141592653589793
SQRT1_2 = 0.7071067811865476


@triton.jit
def _f32(x):
    tl.static_assert(x.dtype == tl.float32, "libdevice: input arg type does not match (expected fp32)")


@triton.jit
def _i32(x):
    tl.static_assert(
        (x.dtype == tl.int32) | (x.dtype == tl.uint32),
        "libdevice: input arg type does not match (expected int32 or uint32)",
    )


@triton.jit
def _bits(x):
    return x.to(tl.int32, bitcast=True)


@triton.jit
def _nan_like(x):
    # A quiet NaN whatever x is; built from bits because some drivers fold float NaN
    # expressions (0 / 0, inf - inf) as if NaNs did not exist.
    return (_bits(x) | 0x7FC00000).to(tl.float32, bitcast=True)


@triton.jit
def _copysign(x, y):
    return ((_bits(x) & 0x7FFFFFFF) | (_bits(y) & -2147483648)).to(tl.float32, bitcast=True)


# -----------------------------------------------------------------------------
# Classification and sign
# -----------------------------------------------------------------------------


@triton.jit
def signbit(arg0):
    _f32(arg0)
    return (_bits(arg0) < 0).to(tl.int32)


@triton.jit
def isfinitef(arg0):
    _f32(arg0)
    return ((_bits(arg0) & 0x7F800000) != 0x7F800000).to(tl.int32)


@triton.jit
def copysign(arg0, arg1):
    _f32(arg0)
    _f32(arg1)
    return _copysign(arg0, arg1)


@triton.jit
def fdim(arg0, arg1):
    _f32(arg0)
    d = tl.where(arg0 > arg1, arg0 - arg1, 0.0)
    return tl.where(libdevice.isnan(arg0) | libdevice.isnan(arg1), arg0 + arg1, d)


@triton.jit
def saturatef(arg0):
    _f32(arg0)
    s = tl.minimum(tl.maximum(arg0, 0.0), 1.0)
    return tl.where(libdevice.isnan(arg0), 0.0, s)


# -----------------------------------------------------------------------------
# Rounding
# -----------------------------------------------------------------------------


@triton.jit
def round(arg0):
    # Half away from zero. x - trunc(x) is exact, so the comparison with 0.5 is too (the
    # naive trunc(x + 0.5) rounds 0.49999997 up).
    _f32(arg0)
    t = libdevice.trunc(arg0)
    away = tl.where(arg0 < 0.0, t - 1.0, t + 1.0)
    return tl.where(tl.abs(arg0 - t) >= 0.5, away, t)


@triton.jit
def nearbyint(arg0):
    _f32(arg0)
    return libdevice.rint(arg0)


@triton.jit
def fmod(arg0, arg1):
    # Triton's float % is C's fmod (truncated quotient, sign of the dividend).
    _f32(arg0)
    return arg0 % arg1


# -----------------------------------------------------------------------------
# Division and fast variants
# -----------------------------------------------------------------------------


@triton.jit
def rcp_rn(arg0):
    _f32(arg0)
    return tl.math.div_rn(tl.full(arg0.shape, 1.0, tl.float32), arg0)


@triton.jit
def fast_dividef(arg0, arg1):
    _f32(arg0)
    return tl.fdiv(arg0, arg1)


@triton.jit
def fast_expf(arg0):
    _f32(arg0)
    return tl.exp(arg0)


@triton.jit
def fast_logf(arg0):
    _f32(arg0)
    return tl.log(arg0)


@triton.jit
def fast_log2f(arg0):
    _f32(arg0)
    return tl.log2(arg0)


@triton.jit
def fast_log10f(arg0):
    return log10(arg0)


@triton.jit
def fast_exp10f(arg0):
    return exp10(arg0)


@triton.jit
def fast_powf(arg0, arg1):
    _f32(arg0)
    return libdevice.pow(arg0, arg1)


@triton.jit
def fast_sinf(arg0):
    _f32(arg0)
    return tl.sin(arg0)


@triton.jit
def fast_cosf(arg0):
    _f32(arg0)
    return tl.cos(arg0)


@triton.jit
def fast_tanf(arg0):
    _f32(arg0)
    return libdevice.tan(arg0)


# -----------------------------------------------------------------------------
# Exponentials and logarithms
# -----------------------------------------------------------------------------

@triton.jit
def _exp(x):
    # exp within ~2 ulp whatever the engine's exp is (a driver's exp2(x log2 e) loses |x|
    # ulp for large |x|): Cody-Waite reduction x = k ln2 + r, |r| <= ln2 / 2, Taylor series
    # of exp(r) to r^8 (truncation 2e-10), and 2^k applied as two exact powers of two built
    # from bits (k runs from -150, subnormal results, to 128, overflow).
    c = tl.minimum(tl.maximum(x, -104.0), 89.0)
    k = libdevice.rint(c * LOG2E)
    r = (c - k * LN2_HI) - k * LN2_LO
    p = 1.0 + r * (
        1.0
        + r
        * (
            1.0 / 2.0
            + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0 + r / 40320.0)))))
        )
    )
    ki = k.to(tl.int32)
    half = ki >> 1
    s1 = ((half + 127) << 23).to(tl.float32, bitcast=True)
    s2 = ((ki - half + 127) << 23).to(tl.float32, bitcast=True)
    return tl.where(libdevice.isnan(x), x, p * s1 * s2)



@triton.jit
def exp10(arg0):
    # 10^x = 2^(x log2 10). Rounding x * log2(10) would cost |x log2 10| * 2^-24 of relative
    # accuracy (1e-5 at x = 38); the product's rounding error e is recovered with an fma
    # and applied as 2^e ~ 1 + e ln 2.
    _f32(arg0)
    p = arg0 * LOG2_10_HI
    e = tl.fma(arg0, tl.full(arg0.shape, LOG2_10_HI, tl.float32), -p) + arg0 * LOG2_10_LO
    return tl.exp2(p) * (1.0 + e * LN2)


@triton.jit
def log10(arg0):
    _f32(arg0)
    return tl.log2(arg0) * LOG10_2


@triton.jit
def log1p(arg0):
    # Near 0, log(1 + x) = 2 atanh(s) with s = x / (2 + x), |s| <= 1/3 on [-1/2, 1]: an odd
    # series with no cancellation. (Kahan's log(u) x / (u - 1) would be shorter, but drivers
    # that simplify (1 + x) - 1 to x, as Mesa's NIR does without NoContraction, break it.)
    _f32(arg0)
    s = arg0 / (2.0 + arg0)
    s2 = s * s
    series = 1.0 + s2 * (
        1.0 / 3.0
        + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0 + s2 * (1.0 / 13.0 + s2 * (1.0 / 15.0 + s2 / 17.0))))))
    )
    near = 2.0 * s * series
    r = tl.where((arg0 >= -0.5) & (arg0 <= 1.0), near, tl.log(1.0 + arg0))
    return tl.where(libdevice.isinf(arg0) & (arg0 > 0.0), arg0, r)


@triton.jit
def expm1(arg0):
    # Taylor series to x^11 / 11! on |x| < 1/2 (truncation below 1e-10 relative), exp(x) - 1
    # beyond, where it no longer cancels.
    _f32(arg0)
    x = arg0
    near = x * (
        1.0
        + x
        * (
            1.0 / 2.0
            + x
            * (
                1.0 / 6.0
                + x
                * (
                    1.0 / 24.0
                    + x
                    * (
                        1.0 / 120.0
                        + x * (1.0 / 720.0 + x * (1.0 / 5040.0 + x * (1.0 / 40320.0 + x * (1.0 / 362880.0 + x / 3628800.0))))
                    )
                )
            )
        )
    )
    return tl.where(tl.abs(x) < 0.5, near, _exp(x) - 1.0)


@triton.jit
def cbrt(arg0):
    _f32(arg0)
    a = tl.abs(arg0)
    y = tl.exp2(tl.log2(a) * 0.3333333333333333)
    # One Newton step on y^3 = a squares the relative error of the exp2/log2 estimate.
    refined = y - (y * y * y - a) / (3.0 * y * y)
    y = tl.where(a > 1e-30, refined, y)
    y = tl.where((a == 0.0) | libdevice.isinf(a), a, y)
    return _copysign(y, arg0)


@triton.jit
def ldexp(arg0, arg1):
    # Two factors so that exponents past the float32 range of 2^n still give finite
    # results where x * 2^n is finite.
    _f32(arg0)
    half = arg1 // 2
    return arg0 * tl.exp2(half.to(tl.float32)) * tl.exp2((arg1 - half).to(tl.float32))


@triton.jit
def hypot(arg0, arg1):
    _f32(arg0)
    ax = tl.abs(arg0)
    ay = tl.abs(arg1)
    a = tl.maximum(ax, ay)
    b = tl.minimum(ax, ay)
    r = b / a
    h = tl.where(a == 0.0, 0.0, a * tl.sqrt(1.0 + r * r))
    h = tl.where(libdevice.isnan(arg0) | libdevice.isnan(arg1), arg0 + arg1, h)
    return tl.where(libdevice.isinf(arg0) | libdevice.isinf(arg1), ax + ay, h)


# -----------------------------------------------------------------------------
# Hyperbolic and error functions
# -----------------------------------------------------------------------------


@triton.jit
def asinh(arg0):
    # asinh|x| = log1p(|x| + x^2 / (1 + sqrt(1 + x^2))), exact in form near 0; past 1e18
    # x^2 overflows and log(2|x|) is already exact in float32.
    _f32(arg0)
    a = tl.abs(arg0)
    r = log1p(a + a * a / (1.0 + tl.sqrt(1.0 + a * a)))
    r = tl.where(a > 1e18, tl.log(a) + LN2, r)
    return _copysign(r, arg0)


@triton.jit
def acosh(arg0):
    _f32(arg0)
    t = arg0 - 1.0
    r = log1p(t + tl.sqrt(2.0 * t + t * t))
    r = tl.where(arg0 > 1e18, tl.log(arg0) + LN2, r)
    return tl.where(arg0 < 1.0, _nan_like(arg0), r)


@triton.jit
def atanh(arg0):
    _f32(arg0)
    a = tl.abs(arg0)
    r = 0.5 * log1p(2.0 * a / (1.0 - a))
    r = tl.where(a > 1.0, _nan_like(arg0), r)
    return _copysign(r, arg0)


@triton.jit
def _high12(x):
    # x with its low 12 significand bits cleared (integer ops: no compiler can fold them
    # away), so that its square is exact and x - _high12(x) is exact too.
    return (_bits(x) & -4096).to(tl.float32, bitcast=True)


@triton.jit
def _erfc_tail(z, p, q):
    # erfc(z) for z >= 0, given z^2 = p + q with p exact: the Chebyshev-fitted approximation
    # of Numerical Recipes (fractional error below 1.2e-7 for every z), t exp(-z^2 + P(t)),
    # as exp(-p) exp(P - q): rounding z^2 itself would cost z^2 ulp of relative accuracy in
    # the tail.
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (
        1.00002368
        + t
        * (
            0.37409196
            + t
            * (
                0.09678418
                + t
                * (
                    -0.18628806
                    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))
                )
            )
        )
    )
    return t * _exp(-p) * _exp(poly - q)


@triton.jit
def erfc(arg0):
    _f32(arg0)
    z = tl.abs(arg0)
    h = _high12(z)
    lo = z - h
    r = _erfc_tail(z, h * h, lo * (z + h))
    return tl.where(arg0 < 0.0, 2.0 - r, r)


@triton.jit
def normcdf(arg0):
    # 0.5 erfc(-x / sqrt 2), with z^2 = x^2 / 2 taken from x (rounding z first would cost
    # 2 z^2 ulp in the tail).
    _f32(arg0)
    a = tl.abs(arg0)
    h = _high12(a)
    lo = a - h
    r = 0.5 * _erfc_tail(a * SQRT1_2, h * h * 0.5, lo * (a + h) * 0.5)
    return tl.where(arg0 > 0.0, 1.0 - r, r)


@triton.jit
def _sinpi_reduced(r):
    # sin(pi r) for |r| <= 1: reflected into [-0.5, 0.5] (exactly) so that rounding pi * r
    # stays relative to the result, which vanishes at r = +-1.
    r = tl.where(r > 0.5, 1.0 - r, tl.where(r < -0.5, -1.0 - r, r))
    return tl.sin(r * PI)


@triton.jit
def sinpi(arg0):
    # Reduce to [-1, 1] first (exactly: x - 2 rint(x / 2)) so that pi * x never rounds a
    # large argument.
    _f32(arg0)
    return _sinpi_reduced(arg0 - 2.0 * libdevice.rint(arg0 * 0.5))


@triton.jit
def cospi(arg0):
    # cos(pi r) = sin(pi (1/2 - |r|)); 1/2 - |r| is exact for |r| >= 1/4, and below that
    # cos is flat enough to take directly.
    _f32(arg0)
    a = tl.abs(arg0 - 2.0 * libdevice.rint(arg0 * 0.5))
    return tl.where(a < 0.25, tl.cos(a * PI), _sinpi_reduced(0.5 - a))


# -----------------------------------------------------------------------------
# Integer functions
# -----------------------------------------------------------------------------


@triton.jit
def mulhi(arg0, arg1):
    # libdevice's mulhi is signed for int32 (umulhi is the unsigned one).
    _i32(arg0)
    if arg0.dtype == tl.int32:
        return ((arg0.to(tl.int64) * arg1.to(tl.int64)) >> 32).to(tl.int32)
    else:
        return tl.umulhi(arg0, arg1)


@triton.jit
def _popc32(v):
    v = v - ((v >> 1) & 0x55555555)
    v = (v & 0x33333333) + ((v >> 2) & 0x33333333)
    v = (v + (v >> 4)) & 0x0F0F0F0F
    return ((v * 0x01010101) >> 24).to(tl.int32)


@triton.jit
def popc(arg0):
    if arg0.dtype.primitive_bitwidth == 64:
        v = arg0.to(tl.uint64, bitcast=True)
        return _popc32((v & 0xFFFFFFFF).to(tl.uint32)) + _popc32((v >> 32).to(tl.uint32))
    else:
        _i32(arg0)
        return _popc32(arg0.to(tl.uint32, bitcast=True))


@triton.jit
def clz(arg0):
    _i32(arg0)
    v = arg0.to(tl.uint32, bitcast=True)
    c = v <= 0xFFFF
    n = tl.where(c, 16, 0)
    v = tl.where(c, v << 16, v)
    c = v <= 0xFFFFFF
    n += tl.where(c, 8, 0)
    v = tl.where(c, v << 8, v)
    c = v <= 0xFFFFFFF
    n += tl.where(c, 4, 0)
    v = tl.where(c, v << 4, v)
    c = v <= 0x3FFFFFFF
    n += tl.where(c, 2, 0)
    v = tl.where(c, v << 2, v)
    n += tl.where(v <= 0x7FFFFFFF, 1, 0)
    return tl.where(arg0 == 0, 32, n)


@triton.jit
def brev(arg0):
    _i32(arg0)
    v = arg0.to(tl.uint32, bitcast=True)
    v = ((v >> 1) & 0x55555555) | ((v & 0x55555555) << 1)
    v = ((v >> 2) & 0x33333333) | ((v & 0x33333333) << 2)
    v = ((v >> 4) & 0x0F0F0F0F) | ((v & 0x0F0F0F0F) << 4)
    v = ((v >> 8) & 0x00FF00FF) | ((v & 0x00FF00FF) << 8)
    v = (v >> 16) | (v << 16)
    return v.to(arg0.dtype, bitcast=True)


@triton.jit
def ffs(arg0):
    _i32(arg0)
    v = arg0.to(tl.uint32, bitcast=True)
    low = v & (~v + 1)
    return tl.where(v == 0, 0, _popc32(low - 1) + 1)
