//! `tl.fma` on WGSL: one rounding, which WGSL's `fma` does not promise (it lowers to
//! SPIR-V's `Fma`, whose product may be rounded first; lavapipe rounds it).
//!
//! The exact product comes from Dekker's splitting: `4097 = 2^12 + 1` cuts each f32
//! significand into two 12-bit halves whose products are exact, so `p + e == a * b` exactly;
//! Knuth's two-sum then adds `c` without error, and only the last addition rounds. The
//! result is the fused one except in rare double-rounding ties (within 1 ulp). Outside the
//! range where the split cannot overflow or lose bits (and for inf/NaN) the builtin answers.

pub(crate) const TM_FMA: &str = "fn tm_fma(a: f32, b: f32, c: f32) -> f32 {
    let p = a * b;
    if (!(abs(a) < 1e30f && abs(b) < 1e30f && abs(p) < 1e30f && abs(p) > 1e-30f)) {
        return fma(a, b, c);
    }
    let sa = a * 4097.0f;
    let ah = sa - (sa - a);
    let al = a - ah;
    let sb = b * 4097.0f;
    let bh = sb - (sb - b);
    let bl = b - bh;
    let e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    let s = p + c;
    let v = s - p;
    let t = (p - (s - v)) + (c - v);
    return s + (t + e);
}

";
