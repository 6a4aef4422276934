//! Constants as the target types hold them: integers wrapped to their width, floats
//! rounded once (not through f32 first) to f16 or bf16.

use tm_core::ScalarType;

/// The integer value of `v` as type `t` holds it (wrapped to the width, then sign- or
/// zero-extended), as an i128 so that u64 values above i64::MAX stay positive.
pub(crate) fn int_value(v: i64, t: ScalarType) -> i128 {
    match t {
        ScalarType::I1 => (v & 1) as i128,
        ScalarType::I8 => v as i8 as i128,
        ScalarType::I16 => v as i16 as i128,
        ScalarType::I32 => v as i32 as i128,
        ScalarType::I64 => v as i128,
        ScalarType::U8 => v as u8 as i128,
        ScalarType::U16 => v as u16 as i128,
        ScalarType::U32 => v as u32 as i128,
        ScalarType::U64 => v as u64 as i128,
        // Integer literals of float type: the value, converted as by a cast.
        ScalarType::F16 | ScalarType::BF16 | ScalarType::F32 | ScalarType::F64 => v as i128,
    }
}

/// `v` rounded to nearest-even in a binary format with `mant` stored mantissa bits and
/// smallest normal exponent `emin`, `emax` the largest exponent (overflow gives infinity).
fn round_to_format(v: f64, mant: i32, emin: i32, emax: i32) -> f64 {
    if !v.is_finite() || v == 0.0 {
        return v;
    }
    let biased = ((v.to_bits() >> 52) & 0x7ff) as i32;
    // f64 subnormals are far below every format we round to: they land on emin.
    let e = (biased - 1023).max(emin);
    let quantum = 2f64.powi(e - mant);
    let r = (v / quantum).round_ties_even() * quantum;
    if r.abs() >= 2f64.powi(emax + 1) {
        f64::INFINITY.copysign(v)
    } else {
        r
    }
}

pub(crate) fn round_f16(v: f64) -> f64 {
    round_to_format(v, 10, -14, 15)
}

pub(crate) fn round_bf16(v: f64) -> f64 {
    round_to_format(v, 7, -126, 127)
}

/// The bf16 bit pattern of `v`, rounded to nearest-even (NaN stays a quiet NaN).
pub(crate) fn bf16_bits(v: f64) -> u16 {
    if v.is_nan() {
        return 0x7fc0;
    }
    // Exact: round_bf16's result is representable in f32 (and so in bf16).
    ((round_bf16(v) as f32).to_bits() >> 16) as u16
}

/// The f16 bit pattern of a value already rounded to f16 (infinities and NaN included).
pub(crate) fn f16_bits(v: f64) -> u16 {
    if v.is_nan() {
        return 0x7e00;
    }
    let r = round_f16(v);
    let sign: u16 = if r.is_sign_negative() { 0x8000 } else { 0 };
    let a = r.abs();
    if a.is_infinite() {
        return sign | 0x7c00;
    }
    if a == 0.0 {
        return sign;
    }
    let e = (((a.to_bits() >> 52) & 0x7ff) as i32 - 1023).max(-14);
    let mant = (a / 2f64.powi(e - 10)) as u32; // exact: a is an f16 value
    if mant < 1024 {
        sign | mant as u16
    } else {
        sign | (((e + 15) as u16) << 10) | (mant as u16 & 0x3ff)
    }
}

/// Shortest decimal that reads back as the same f32 (Rust's `Debug`), always with a '.' or
/// an exponent so that a suffix can follow.
pub(crate) fn f32_decimal(v: f32) -> String {
    let s = format!("{v:?}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// Same for a value that is exactly an f16 value: printed via f64 so no digit is lost.
pub(crate) fn f64_decimal(v: f64) -> String {
    let s = format!("{v:?}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_wrap_to_their_type() {
        assert_eq!(int_value(300, ScalarType::U8), 44);
        assert_eq!(int_value(255, ScalarType::I8), -1);
        assert_eq!(int_value(-1, ScalarType::U64), u64::MAX as i128);
        assert_eq!(int_value(3, ScalarType::I1), 1);
    }

    #[test]
    fn half_rounding_is_single_and_to_even() {
        assert_eq!(round_f16(1.0 + 2f64.powi(-11)), 1.0); // tie to even
        assert_eq!(round_f16(1.0 + 3.0 * 2f64.powi(-11)), 1.0 + 2f64.powi(-9));
        assert_eq!(round_f16(65520.0), f64::INFINITY);
        assert_eq!(round_f16(65519.0), 65504.0);
        assert_eq!(f16_bits(1.0), 0x3c00);
        assert_eq!(f16_bits(-2.0), 0xc000);
        assert_eq!(f16_bits(2f64.powi(-24)), 0x0001);
        assert_eq!(f16_bits(65504.0), 0x7bff);
    }

    #[test]
    fn bf16_rounding() {
        assert_eq!(bf16_bits(1.0), 0x3f80);
        // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even is 1.
        assert_eq!(bf16_bits(1.0 + 2f64.powi(-8)), 0x3f80);
        // Just above the tie in f64, but it would round to the tie in f32 first.
        assert_eq!(bf16_bits(1.0 + 2f64.powi(-8) + 2f64.powi(-40)), 0x3f81);
        assert_eq!(bf16_bits(f64::NAN), 0x7fc0);
        assert_eq!(bf16_bits(-0.0), 0x8000);
    }

    #[test]
    fn decimals_take_a_suffix() {
        assert_eq!(f32_decimal(1.0), "1.0");
        assert_eq!(f32_decimal(1e20), "1e20");
        assert_eq!(f32_decimal(0.1), "0.1");
    }
}
