//! Float operations Triton defines exactly and WGSL does not: `tl.fma` (one rounding) and
//! the float remainder (C's `fmod`).
//!
//! `tm_fma`: WGSL's `fma` lowers to SPIR-V's `Fma`, whose product may be rounded first
//! (lavapipe rounds it). The exact product: each factor is cut into a high part of 12 significant bits (its low
//! 12 bits masked off) and the exact remainder, so the four partial products are exact and
//! `p + e == a * b`. Knuth's two-sum then adds `c` with its rounding error `t`, and only the
//! last addition rounds: the fused result except in rare double-rounding ties (1 ulp).
//!
//! Drivers compile SPIR-V without `NoContraction` with algebraic shortcuts that assume
//! real arithmetic (Mesa's NIR rewrites `(p + c) - p` to `c`), which would cancel the
//! error terms. So the split is done on integer bits, and the two-sum's intermediates go
//! through a `select` on a condition the compiler cannot know (header word 0, the grid's
//! x size, is never 0 where a thread runs). Outside the range where the partial products cannot overflow or
//! underflow (and for inf/NaN) the builtin answers.

pub(crate) const TM_FMA: &str = "fn tm_fma(a: f32, b: f32, c: f32) -> f32 {
    let p = a * b;
    if (!(abs(a) < 1e30f && abs(b) < 1e30f && abs(p) < 1e30f && abs(p) > 1e-30f)) {
        return fma(a, b, c);
    }
    let ah = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
    let al = a - ah;
    let bh = bitcast<f32>(bitcast<u32>(b) & 0xfffff000u);
    let bl = b - bh;
    let e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    let k = tm_scalars[0] != 0u;
    let s = select(0.0f, p + c, k);
    let v = select(0.0f, s - p, k);
    let t = (p - (s - v)) + (c - v);
    return s + (t + e);
}

";
/// `tm_fmod`: WGSL defines float `%` as `x - y * trunc(x / y)`, two roundings (lavapipe is
/// off by up to 1e-6 on operands of magnitude 50). fmod's result is always representable:
/// long division on the integer significands, 8 bits of quotient a step (at most 32 steps,
/// for an exponent gap of 254), then the remainder scaled back by exact powers of two.
pub(crate) const TM_FMOD: &str = "fn tm_fmod(x: f32, y: f32) -> f32 {
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
