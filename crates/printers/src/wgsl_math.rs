//! f32 math functions written out for WGSL where the driver's builtin is not accurate
//! enough. Measured on lavapipe (LLVM's fast approximations) over dense f32 grids against
//! float64: `atan` is 3.3e-6 off near ±1 (and `atan2`, `asin`, `acos`, which we used to
//! build on it, likewise); `tanh` and `sinh` lose all relative accuracy near 0 (~1000 and
//! ~8000 ulp); `log` and `log2` are 1e-7 off in absolute terms near 1, i.e. ~1e5 ulp
//! relative to their small results there; our earlier erf was 4.8 ulp; `pow` breaks C's
//! special cases (negative bases, zeros, 1^NaN) and is ~100 ulp off for large results.
//! These versions are within about 2 ulp (pow: 6), measured in tests/test_math_accuracy.py.
//!
//! Each function reduces its argument to a small interval and evaluates an odd polynomial
//! `t + t*z*P(z)` (`z = t*t`) whose coefficients were fitted here (Lawson's weighted
//! least-squares iteration towards the minimax relative error of `P` on the interval,
//! in float64, then rounded to f32). Constants that are added last (pi/2, pi/4, pi) are
//! split into a rounded f32 and its remainder so that the result is rounded once.
//! NaN is recognised on the bits: lavapipe compiles with no-NaN assumptions, so
//! comparisons with NaN cannot be trusted to take the NaN branch.
//!
//! Also the two operations Triton defines exactly and WGSL does not: `tl.fma` (one
//! rounding) and the float remainder (C's `fmod`).

use std::collections::BTreeSet;

/// A function of this module; the printer records which ones a kernel calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum MathFn {
    Asin,
    Acos,
    Atan,
    Atan2,
    Tanh,
    Sinh,
    Log,
    Log2,
    Erf,
    Pow,
    Fma,
    Fmod,
}

impl MathFn {
    /// The helper's name in the printed kernel (arguments and result are f32).
    pub(crate) fn name(self) -> &'static str {
        match self {
            MathFn::Asin => "tm_asin",
            MathFn::Acos => "tm_acos",
            MathFn::Atan => "tm_atan",
            MathFn::Atan2 => "tm_atan2",
            MathFn::Tanh => "tm_tanh",
            MathFn::Sinh => "tm_sinh",
            MathFn::Log => "tm_log",
            MathFn::Log2 => "tm_log2",
            MathFn::Erf => "tm_erf",
            MathFn::Pow => "tm_pow",
            MathFn::Fma => "tm_fma",
            MathFn::Fmod => "tm_fmod",
        }
    }
}

/// Rounded pi/2, pi/4, pi and what rounding left out, plus the f32 quiet NaN and checks.
const CONSTANTS: &str = "const TM_PIO2_HI: f32 = 1.5707963705062866f;
const TM_PIO2_LO: f32 = -4.371139000186241e-8f;
const TM_PIO4_HI: f32 = 0.7853981852531433f;
const TM_PIO4_LO: f32 = -2.1855695000931204e-8f;
const TM_PI_HI: f32 = 3.1415927410125732f;
const TM_PI_LO: f32 = -8.742278000372482e-8f;

fn tm_is_nan32(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn tm_with_sign_of(r: f32, s: f32) -> f32 {
    return bitcast<f32>((bitcast<u32>(r) & 0x7fffffffu) | (bitcast<u32>(s) & 0x80000000u));
}

";

/// asin(t) - t and asin(t) for |t| <= 1/2 given z = t*t; relative error of P below 4e-7 on [0, 1/4], which
/// the factor z*P(z) <= 0.05 shrinks below 2e-8 in the result.
const ASIN_CORE: &str = "fn tm_asin_tail(t: f32, z: f32) -> f32 {
    let p = 0.16666673f + z * (0.07498813f + z * (0.045009866f + z * (0.02649955f + z * 0.03819597f)));
    return t * z * p;
}

fn tm_asin_core(t: f32, z: f32) -> f32 {
    return t + tm_asin_tail(t, z);
}

";

/// atan(t) for |t| <= 1/2; P's relative error is below 2e-8.
const ATAN_CORE: &str = "fn tm_atan_core(t: f32) -> f32 {
    let z = t * t;
    let p = -0.33333334f + z * (0.1999989f + z * (-0.14280142f + z * (0.11010151f + z * (-0.082490556f + z * 0.04245927f))));
    return t + t * z * p;
}

// atan of a >= 0 (not NaN): beyond tan(3pi/8) through pi/2 - atan(1/a), in between through
// pi/4 - atan((1 - a) / (1 + a)), from 1/2 up, where 1 - a is exact.
fn tm_atan_pos(a: f32) -> f32 {
    if (a > 2.4142137f) {
        return TM_PIO2_HI - (tm_atan_core(1.0f / a) - TM_PIO2_LO);
    }
    if (a > 0.5f) {
        return TM_PIO4_HI - (tm_atan_core((1.0f - a) / (1.0f + a)) - TM_PIO4_LO);
    }
    return tm_atan_core(a);
}

";

/// Above 1/2, asin(a) = pi/2 - 2 asin(sqrt((1 - a) / 2)), where 1 - a is exact.
const ASIN: &str = "fn tm_asin(x: f32) -> f32 {
    if (tm_is_nan32(x) || abs(x) > 1.0f) {
        return bitcast<f32>(0x7fc00000u);
    }
    let a = abs(x);
    var r: f32;
    if (a <= 0.5f) {
        r = tm_asin_core(a, a * a);
    } else {
        // 2 sqrt(z) is the largest term: carry its rounding error c (w = s with 12 low bits
        // cleared, so w * w is exact) and sum from the small terms up.
        let z = (1.0f - a) * 0.5f;
        let sq = sqrt(z);
        let w = bitcast<f32>(bitcast<u32>(sq) & 0xfffff000u);
        let c = select(0.0f, (z - w * w) / (sq + w), z > 0.0f);
        let p = 2.0f * tm_asin_tail(sq, z) - (TM_PIO2_LO - 2.0f * c);
        r = TM_PIO4_HI - (p - (TM_PIO4_HI - 2.0f * w));
    }
    return tm_with_sign_of(r, x);
}

";

/// acos(x) = pi/2 - asin(x) near 0; beyond, 2 asin(sqrt((1 - |x|) / 2)), taken from pi for
/// negative x.
const ACOS: &str = "fn tm_acos(x: f32) -> f32 {
    if (tm_is_nan32(x) || abs(x) > 1.0f) {
        return bitcast<f32>(0x7fc00000u);
    }
    let a = abs(x);
    if (a <= 0.5f) {
        return TM_PIO2_HI - (tm_asin_core(x, x * x) - TM_PIO2_LO);
    }
    let z = (1.0f - a) * 0.5f;
    let r = 2.0f * tm_asin_core(sqrt(z), z);
    if (x < 0.0f) {
        return TM_PI_HI - (r - TM_PI_LO);
    }
    return r;
}

";

const ATAN: &str = "fn tm_atan(x: f32) -> f32 {
    if (tm_is_nan32(x)) {
        return x;
    }
    return tm_with_sign_of(tm_atan_pos(abs(x)), x);
}

";

/// The angle of the smaller over the larger magnitude (in [0, 1], so no overflow), moved to
/// its octant; zeros and infinities follow C's atan2 (the signs of zero included).
const ATAN2: &str = "fn tm_atan2(y: f32, x: f32) -> f32 {
    if (tm_is_nan32(x) || tm_is_nan32(y)) {
        return bitcast<f32>(0x7fc00000u);
    }
    let ax = abs(x);
    let ay = abs(y);
    let mx = max(ax, ay);
    let mn = min(ax, ay);
    var t = 0.0f;
    if (bitcast<u32>(mn) == 0x7f800000u) {
        t = 1.0f;
    } else if (mx > 0.0f) {
        t = mn / mx;
    }
    var r = tm_atan_pos(t);
    if (ay > ax) {
        r = TM_PIO2_HI - (r - TM_PIO2_LO);
    }
    if ((bitcast<u32>(x) & 0x80000000u) != 0u) {
        r = TM_PI_HI - (r - TM_PI_LO);
    }
    return tm_with_sign_of(r, y);
}

";

/// tanh: a polynomial below 0.55 (P's relative error below 5e-8); above, 1 - 2/(e^2a + 1),
/// which reaches 1 (through e^2a = inf) without a NaN.
const TANH: &str = "fn tm_tanh(x: f32) -> f32 {
    if (tm_is_nan32(x)) {
        return x;
    }
    let a = abs(x);
    var r: f32;
    if (a < 0.55f) {
        let z = a * a;
        r = a + a * z * (-0.33333331f + z * (0.13333124f + z * (-0.05391063f + z * (0.021314675f + z * (-0.006617993f)))));
    } else {
        r = 1.0f - 2.0f / (exp(2.0f * a) + 1.0f);
    }
    return tm_with_sign_of(r, x);
}

";

/// sinh: a polynomial below 1, where (e^x - e^-x)/2 cancels; the builtin beyond.
const SINH: &str = "fn tm_sinh(x: f32) -> f32 {
    if (tm_is_nan32(x)) {
        return x;
    }
    let a = abs(x);
    if (a < 1.0f) {
        let z = a * a;
        let r = a + a * z * (0.16666667f + z * (0.008333353f + z * (0.00019832811f + z * 2.846982e-6f)));
        return tm_with_sign_of(r, x);
    }
    return sinh(x);
}

";

/// log of a finite x > 0 as (k, log(m)) with x = m 2^k, m in [sqrt(1/2), sqrt(2)):
/// log(m) = 2 atanh(s), s = f/(2 + f) with f = m - 1 exact (|s| <= 0.172), computed as
/// f - t, t = s (f - 2 z P(z)) (as 2s = f - s f) so that the exact f leads. Subnormal x is
/// taken from its integer bits (drivers may flush it in arithmetic). `tm_log_split` gives
/// (k, f, t) apart, for pow, which carries the sum with extra precision.
const LOG_REDUCE: &str = "fn tm_log_split(x: f32) -> vec3<f32> {
    var u = bitcast<u32>(x);
    var k = -127;
    if (u < 0x00800000u) {
        u = bitcast<u32>(f32(u));
        k = -276;
    }
    k = k + i32(u >> 23u);
    var m = bitcast<f32>((u & 0x7fffffu) | 0x3f800000u);
    if (m > 1.4142135f) {
        m = m * 0.5f;
        k = k + 1;
    }
    let f = m - 1.0f;
    let s = f / (2.0f + f);
    let z = s * s;
    let p = 0.33333343f + z * (0.19992864f + z * 0.14865863f);
    return vec3<f32>(f32(k), f, s * (f - 2.0f * z * p));
}

fn tm_log_reduce(x: f32) -> vec2<f32> {
    let r = tm_log_split(x);
    return vec2<f32>(r.x, r.y - r.z);
}

// NaN for NaN and negative x (-0 excepted), -inf for zeros, +inf for +inf; else 0.
fn tm_log_special(x: f32) -> f32 {
    let u = bitcast<u32>(x);
    if ((u & 0x7fffffffu) == 0u) {
        return bitcast<f32>(0xff800000u);
    }
    if (u == 0x7f800000u) {
        return x;
    }
    return bitcast<f32>(0x7fc00000u);
}

";

/// k ln2 + log(m), ln2 split so that k * ln2_hi is exact.
const LOG: &str = "fn tm_log(x: f32) -> f32 {
    let u = bitcast<u32>(x);
    if (u >= 0x7f800000u || u == 0u) {
        return tm_log_special(x);
    }
    let r = tm_log_reduce(x);
    return r.x * 0.693145751953125f + (r.y + r.x * 1.4286068e-6f);
}

";

const LOG2: &str = "fn tm_log2(x: f32) -> f32 {
    let u = bitcast<u32>(x);
    if (u >= 0x7f800000u || u == 0u) {
        return tm_log_special(x);
    }
    let r = tm_log_reduce(x);
    return r.x + r.y * 1.442695f;
}

";

/// erf: below 1, x + x P(x^2) (P fitted for absolute error 3e-11, as x leads exactly);
/// from 1 to 3.92, 1 - e^(-x^2) Q(t) with t = 1/(1 + x/2) (Q fits erfc(x) e^(x^2) to a
/// relative 3e-10); beyond, erfc(x) is below half an ulp of 1. 1.4 ulp in f32 (the
/// Abramowitz-Stegun 7.1.26 formula used before was 4.8 ulp, 2.9e-7 off).
const ERF: &str = "fn tm_erf(x: f32) -> f32 {
    if (tm_is_nan32(x)) {
        return x;
    }
    let a = abs(x);
    let z = a * a;
    var r = 1.0f;
    if (a < 1.0f) {
        r = a + a * (0.12837917f + z * (-0.37612638f + z * (0.11283783f + z * (-0.026865447f + z * (0.0052210754f + z * (-0.0008484718f + z * (0.00011270589f + z * -9.680256e-6f)))))));
    } else if (a < 3.92f) {
        let t = 1.0f / (1.0f + 0.5f * a);
        let q = -0.00015656109f + t * (0.28494573f + t * (0.25949356f + t * (0.3484178f + t * (-0.104747884f + t * (0.56448764f + t * (-0.47189853f + t * 0.119512014f))))));
        r = 1.0f - exp(-z) * q;
    }
    return tm_with_sign_of(r, x);
}

";

/// Exact sum and product of two f32 (the error terms are exact too): a + b = s + e by
/// Knuth's two-sum, a * b = p + e by Dekker's product on halves with 12 low bits cleared
/// (finite, not overflowing). Drivers reassociate float arithmetic (Mesa's NIR folds
/// (a + b) - a to b; NVIDIA's Vulkan compiler folds the whole error term to 0 even through
/// selects), so every intermediate whose rounding matters goes through `tm_hide`: its bits
/// xored with a word that is 0 at run time (header word 0, the grid's x size, is never 0)
/// but unknown to the compiler.
const EXACT: &str = "fn tm_hide(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) ^ u32(tm_scalars[0] == 0u));
}

fn tm_two_sum(a: f32, b: f32) -> vec2<f32> {
    let s = tm_hide(a + b);
    let bb = tm_hide(s - a);
    let aa = tm_hide(s - bb);
    return vec2<f32>(s, (a - aa) + (b - bb));
}

fn tm_two_prod(a: f32, b: f32) -> vec2<f32> {
    let p = tm_hide(a * b);
    let ah = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
    let al = a - ah;
    let bh = bitcast<f32>(bitcast<u32>(b) & 0xfffff000u);
    let bl = b - bh;
    return vec2<f32>(p, ((ah * bh - p) + ah * bl + al * bh) + al * bl);
}

";

/// pow with C's special cases (as numpy and the interpreter): WGSL's pow is undefined for
/// x < 0 and lavapipe's gives NaN for (-2)^3, 0 for 0^0 and 0^-1, NaN for 1^NaN; its
/// exp2(y log2 x) also loses up to ~100 ulp (12 for x^2). Here y log2|x| is carried as a
/// sum of two f32 (log2|x| = k + log2(m) from tm_log_reduce's pieces, times 1/ln2 split
/// in two, then times y by an exact product), split into an integer n and |r| <= 1/2,
/// and 2^r is a fitted polynomial (relative error 3e-10) scaled by 2^n in two exact steps:
/// 5.6 ulp at worst on lavapipe (the log's own approximation, scaled by |y|), 1.2 for x^2.
const POW: &str = "fn tm_pow_core(ax: f32, y: f32) -> f32 {
    // ln(m) = f - t, f exact.
    let lg = tm_log_split(ax);
    let k = lg.x;
    let f = lg.y;
    let t = lg.z;
    // log2|x| = k + f/ln2 - t/ln2 = lh + ll.
    let fe = tm_two_prod(f, 1.442695f);
    let small = fe.y + (f * 1.925963e-8f - t * 1.442695f);
    let a = tm_two_sum(k, fe.x);
    let b = tm_two_sum(a.x, small);
    let lh = b.x;
    let ll = a.y + b.y;
    // y log2|x| = ph + pl.
    let ph = y * lh;
    if (!(abs(ph) < 300.0f)) {
        return select(bitcast<f32>(0x7f800000u), 0.0f, ph < 0.0f);
    }
    let pe = tm_two_prod(y, lh);
    let pl = pe.y + y * ll;
    let n = round(ph);
    let r = (ph - n) + pl;
    let q = 1.0f + r * (0.6931472f + r * (0.2402265f + r * (0.055504106f + r * (0.009618051f + r * (0.0013333679f + r * (0.00015463664f + r * 1.5252716e-5f))))));
    let n1 = i32(n) / 2;
    let n2 = i32(n) - n1;
    return q * bitcast<f32>(u32(n1 + 127) << 23u) * bitcast<f32>(u32(n2 + 127) << 23u);
}

fn tm_pow(x: f32, y: f32) -> f32 {
    let ax = abs(x);
    let ay = abs(y);
    if (ay == 0.0f || bitcast<u32>(x) == 0x3f800000u) {
        return 1.0f;
    }
    if (tm_is_nan32(x) || tm_is_nan32(y)) {
        return bitcast<f32>(0x7fc00000u);
    }
    let big = ay >= 16777216.0f;
    let is_int = big || fract(ay) == 0.0f;
    let odd = !big && is_int && (u32(ay) & 1u) == 1u;
    let neg = (bitcast<u32>(x) & 0x80000000u) != 0u;
    let inf = bitcast<f32>(0x7f800000u);
    var r: f32;
    if (bitcast<u32>(ay) == 0x7f800000u) {
        if (ax == 1.0f) {
            return 1.0f;
        }
        return select(0.0f, inf, (ax > 1.0f) == (y > 0.0f));
    } else if (ax == 0.0f) {
        r = select(0.0f, inf, y < 0.0f);
    } else if (bitcast<u32>(ax) == 0x7f800000u) {
        r = select(inf, 0.0f, y < 0.0f);
    } else if (neg && !is_int) {
        return bitcast<f32>(0x7fc00000u);
    } else {
        r = tm_pow_core(ax, y);
    }
    if (neg && odd) {
        return -r;
    }
    return r;
}

";

/// `tl.fma` rounds once; WGSL's `fma` lowers to SPIR-V's `Fma`, whose product may be
/// rounded first (lavapipe rounds it). a * b = p + e exactly (tm_two_prod), p + c = s + t
/// exactly (tm_two_sum), and only s + (t + e) rounds: the fused result except in rare
/// double-rounding ties (1 ulp). Outside the range where the partial products cannot
/// overflow or underflow (and for inf/NaN) the builtin answers.
const FMA: &str = "fn tm_fma(a: f32, b: f32, c: f32) -> f32 {
    let p = a * b;
    if (!(abs(a) < 1e30f && abs(b) < 1e30f && abs(p) < 1e30f && abs(p) > 1e-30f)) {
        return fma(a, b, c);
    }
    let pe = tm_two_prod(a, b);
    let st = tm_two_sum(pe.x, c);
    return st.x + (st.y + pe.y);
}

";

/// `tm_fmod`: WGSL defines float `%` as `x - y * trunc(x / y)`, two roundings (lavapipe is
/// off by up to 1e-6 on operands of magnitude 50). fmod's result is always representable:
/// long division on the integer significands, 8 bits of quotient a step (at most 32 steps,
/// for an exponent gap of 254), then the remainder scaled back by exact powers of two.
const FMOD: &str = "fn tm_fmod(x: f32, y: f32) -> f32 {
    let bx = bitcast<u32>(x);
    let ax = bx & 0x7fffffffu;
    let ay = bitcast<u32>(y) & 0x7fffffffu;
    if (ax >= 0x7f800000u || ay > 0x7f800000u || ay == 0u) {
        return bitcast<f32>(0x7fc00000u);
    }
    if (ax < ay) {
        return x;
    }
    var ex = i32(ax >> 23u);
    var ey = i32(ay >> 23u);
    var mx = ax & 0x7fffffu;
    var my = ay & 0x7fffffu;
    if (ex == 0) {
        ex = 1;
    } else {
        mx = mx | 0x800000u;
    }
    if (ey == 0) {
        ey = 1;
    } else {
        my = my | 0x800000u;
    }
    var d = ex - ey;
    mx = mx % my;
    loop {
        if (d <= 0 || mx == 0u) {
            break;
        }
        let s = min(d, 8);
        mx = (mx << u32(s)) % my;
        d = d - s;
    }
    let r = (f32(mx) * 1.1920928955078125e-7f) * bitcast<f32>(u32(ey) << 23u);
    return bitcast<f32>(bitcast<u32>(r) | (bx & 0x80000000u));
}

";

/// Appends the text of the functions in `used`, and of what they call, to `o`.
pub(crate) fn helper_text(used: &BTreeSet<MathFn>, o: &mut String) {
    if used.is_empty() {
        return;
    }
    let has = |f: MathFn| used.contains(&f);
    o.push_str(CONSTANTS);
    if has(MathFn::Asin) || has(MathFn::Acos) {
        o.push_str(ASIN_CORE);
    }
    if has(MathFn::Atan) || has(MathFn::Atan2) {
        o.push_str(ATAN_CORE);
    }
    if has(MathFn::Log) || has(MathFn::Log2) || has(MathFn::Pow) {
        o.push_str(LOG_REDUCE);
    }
    if has(MathFn::Pow) || has(MathFn::Fma) {
        o.push_str(EXACT);
    }
    for (f, text) in [
        (MathFn::Asin, ASIN),
        (MathFn::Acos, ACOS),
        (MathFn::Atan, ATAN),
        (MathFn::Atan2, ATAN2),
        (MathFn::Tanh, TANH),
        (MathFn::Sinh, SINH),
        (MathFn::Log, LOG),
        (MathFn::Log2, LOG2),
        (MathFn::Erf, ERF),
        (MathFn::Pow, POW),
        (MathFn::Fma, FMA),
        (MathFn::Fmod, FMOD),
    ] {
        if has(f) {
            o.push_str(text);
        }
    }
}
