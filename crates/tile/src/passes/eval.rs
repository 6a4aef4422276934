//! Exact evaluation of elementwise ops on literals, for constant folding. Returns `None`
//! whenever the result is not exactly what the device computes: undefined behaviour
//! (division by zero, oversized shifts, out-of-range float→int), transcendental functions
//! (device libraries differ in the last bits), and f16/bf16 arithmetic (we have no exact
//! implementation of their rounding).

use crate::ops::{BinaryOp, CmpPred, Literal, UnaryOp};
use crate::types::ScalarType;

/// An integer literal as a mathematical value of its type.
pub(crate) fn int_val(v: i64, s: ScalarType) -> i128 {
    let bits = s.bits();
    if s.is_signed_int() {
        let shift = 64 - bits;
        ((v << shift) >> shift) as i128
    } else if bits == 64 {
        v as u64 as i128
    } else {
        (v as u64 & ((1u64 << bits) - 1)) as i128
    }
}

/// Wrap a value to the type's width and store it the canonical way (sign- or zero-extended;
/// u64 as its bits).
pub(crate) fn canon(x: i128, s: ScalarType) -> i64 {
    let bits = s.bits();
    let low = x as u64;
    if bits == 64 {
        return low as i64;
    }
    let masked = low & ((1u64 << bits) - 1);
    if s.is_signed_int() {
        let shift = 64 - bits;
        ((masked << shift) as i64) >> shift
    } else {
        masked as i64
    }
}

/// A float literal rounded to the precision of `s`, when we can do that exactly.
fn float_val(v: f64, s: ScalarType) -> Option<f64> {
    match s {
        ScalarType::F32 => Some(v as f32 as f64),
        ScalarType::F64 => Some(v),
        _ => None,
    }
}

/// Apply a float op in the precision of `s`: f32 ops run in f32 arithmetic.
fn in_precision(
    s: ScalarType,
    a: f64,
    b: f64,
    op32: fn(f32, f32) -> f32,
    op64: fn(f64, f64) -> f64,
) -> Option<f64> {
    match s {
        ScalarType::F32 => Some(op32(a as f32, b as f32) as f64),
        ScalarType::F64 => Some(op64(a, b)),
        _ => None,
    }
}

fn round1(s: ScalarType, a: f64, op32: fn(f32) -> f32, op64: fn(f64) -> f64) -> Option<f64> {
    match s {
        ScalarType::F32 => Some(op32(a as f32) as f64),
        ScalarType::F64 => Some(op64(a)),
        _ => None,
    }
}

pub(crate) fn unary(op: UnaryOp, a: Literal, s: ScalarType) -> Option<Literal> {
    match a {
        Literal::Int(v) if s.is_int() => {
            let x = int_val(v, s);
            let r = match op {
                UnaryOp::Neg => x.wrapping_neg(),
                UnaryOp::Abs => x.wrapping_abs(),
                UnaryOp::Not => !x,
                _ => return None,
            };
            Some(Literal::Int(canon(r, s)))
        }
        Literal::Float(v) if s.is_float() => {
            let x = float_val(v, s)?;
            let r = match op {
                UnaryOp::Neg => round1(s, x, |a| -a, |a| -a)?,
                UnaryOp::Abs => round1(s, x, f32::abs, f64::abs)?,
                UnaryOp::Floor => round1(s, x, f32::floor, f64::floor)?,
                UnaryOp::Ceil => round1(s, x, f32::ceil, f64::ceil)?,
                UnaryOp::Trunc => round1(s, x, f32::trunc, f64::trunc)?,
                UnaryOp::Rint => round1(s, x, f32::round_ties_even, f64::round_ties_even)?,
                // IEEE square root is correctly rounded, in Rust as on the device's `_rn`.
                UnaryOp::Sqrt | UnaryOp::SqrtRn => round1(s, x, f32::sqrt, f64::sqrt)?,
                UnaryOp::IsNan => return Some(Literal::Int(x.is_nan() as i64)),
                UnaryOp::IsInf => return Some(Literal::Int(x.is_infinite() as i64)),
                _ => return None,
            };
            Some(Literal::Float(r))
        }
        _ => None,
    }
}

pub(crate) fn binary(op: BinaryOp, a: Literal, b: Literal, s: ScalarType) -> Option<Literal> {
    match (a, b) {
        (Literal::Int(a), Literal::Int(b)) if s.is_int() => {
            int_binary(op, int_val(a, s), int_val(b, s), s).map(|r| Literal::Int(canon(r, s)))
        }
        (Literal::Float(a), Literal::Float(b)) if s.is_float() => {
            float_binary(op, float_val(a, s)?, float_val(b, s)?, s).map(Literal::Float)
        }
        _ => None,
    }
}

fn int_binary(op: BinaryOp, a: i128, b: i128, s: ScalarType) -> Option<i128> {
    let bits = s.bits() as i128;
    Some(match op {
        BinaryOp::Add => a.wrapping_add(b),
        BinaryOp::Sub => a.wrapping_sub(b),
        BinaryOp::Mul => a.wrapping_mul(b),
        BinaryOp::Div | BinaryOp::Rem => {
            // Division by zero and MIN / -1 are undefined on the device: leave them.
            if b == 0 || (s.is_signed_int() && b == -1 && a == int_range(s).0) {
                return None;
            }
            if op == BinaryOp::Div {
                a / b
            } else {
                a % b
            }
        }
        BinaryOp::And => a & b,
        BinaryOp::Or => a | b,
        BinaryOp::Xor => a ^ b,
        BinaryOp::Shl | BinaryOp::Shr => {
            if !(0..bits).contains(&b) {
                return None;
            }
            if op == BinaryOp::Shl {
                a << b
            } else {
                // `a` holds the value of its type: sign-extended when signed (arithmetic
                // shift), non-negative when unsigned (logical shift).
                a >> b
            }
        }
        BinaryOp::Min | BinaryOp::MinNan => a.min(b),
        BinaryOp::Max | BinaryOp::MaxNan => a.max(b),
        BinaryOp::MulHi => {
            if s.is_unsigned_int() {
                ((a as u128).wrapping_mul(b as u128) >> bits) as i128
            } else {
                a.wrapping_mul(b) >> bits
            }
        }
        BinaryOp::DivRn | BinaryOp::Pow | BinaryOp::Atan2 => return None,
    })
}

fn float_binary(op: BinaryOp, a: f64, b: f64, s: ScalarType) -> Option<f64> {
    let both_zero_signs_differ =
        a == 0.0 && b == 0.0 && a.is_sign_negative() != b.is_sign_negative();
    match op {
        BinaryOp::Add => in_precision(s, a, b, |a, b| a + b, |a, b| a + b),
        BinaryOp::Sub => in_precision(s, a, b, |a, b| a - b, |a, b| a - b),
        BinaryOp::Mul => in_precision(s, a, b, |a, b| a * b, |a, b| a * b),
        BinaryOp::Div | BinaryOp::DivRn => in_precision(s, a, b, |a, b| a / b, |a, b| a / b),
        // fmod is exact, so any correct implementation agrees.
        BinaryOp::Rem => in_precision(s, a, b, |a, b| a % b, |a, b| a % b),
        // Which zero minNum picks from (-0, +0) is unspecified: leave that to the device.
        BinaryOp::Min | BinaryOp::Max if both_zero_signs_differ => None,
        BinaryOp::Min => in_precision(s, a, b, f32::min, f64::min),
        BinaryOp::Max => in_precision(s, a, b, f32::max, f64::max),
        BinaryOp::MinNan | BinaryOp::MaxNan => {
            if a.is_nan() {
                return Some(a);
            }
            if b.is_nan() {
                return Some(b);
            }
            let min = op == BinaryOp::MinNan;
            if both_zero_signs_differ {
                return Some(if min { -0.0 } else { 0.0 });
            }
            Some(if (a < b) == min { a } else { b })
        }
        _ => None,
    }
}

pub(crate) fn cmp(pred: CmpPred, a: Literal, b: Literal, s: ScalarType) -> Option<bool> {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (a, b) {
        (Literal::Int(a), Literal::Int(b)) if s.is_int() => Some(int_val(a, s).cmp(&int_val(b, s))),
        (Literal::Float(a), Literal::Float(b)) if s.is_float() => {
            float_val(a, s)?.partial_cmp(&float_val(b, s)?)
        }
        _ => return None,
    };
    // Unordered (a NaN): every predicate is false except `ne`.
    let Some(ord) = ord else {
        return Some(pred == CmpPred::Ne);
    };
    Some(match pred {
        CmpPred::Eq => ord == Ordering::Equal,
        CmpPred::Ne => ord != Ordering::Equal,
        CmpPred::Lt => ord == Ordering::Less,
        CmpPred::Le => ord != Ordering::Greater,
        CmpPred::Gt => ord == Ordering::Greater,
        CmpPred::Ge => ord != Ordering::Less,
    })
}

pub(crate) fn cast(a: Literal, from: ScalarType, to: ScalarType) -> Option<Literal> {
    match a {
        Literal::Int(v) if from.is_int() => {
            let x = int_val(v, from);
            if to.is_bool() {
                Some(Literal::Int((x != 0) as i64))
            } else if to.is_int() {
                Some(Literal::Int(canon(x, to)))
            } else {
                match to {
                    ScalarType::F32 => Some(Literal::Float(x as f32 as f64)),
                    ScalarType::F64 => Some(Literal::Float(x as f64)),
                    _ => None,
                }
            }
        }
        Literal::Float(v) if from.is_float() => {
            let x = float_val(v, from)?;
            if to.is_bool() {
                // `x != 0`, unordered: NaN is true.
                return Some(Literal::Int((x != 0.0) as i64));
            }
            if to.is_int() {
                let t = x.trunc();
                let (lo, hi) = int_range(to);
                // Out of range (and NaN) is undefined on the device: leave it.
                if !(t >= lo as f64 && t <= hi as f64) {
                    return None;
                }
                return Some(Literal::Int(canon(t as i128, to)));
            }
            match to {
                ScalarType::F32 => Some(Literal::Float(x as f32 as f64)),
                ScalarType::F64 => Some(Literal::Float(x)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn int_range(s: ScalarType) -> (i128, i128) {
    let bits = s.bits();
    if s.is_signed_int() {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ScalarType::*;

    fn bin(op: BinaryOp, a: i64, b: i64, s: ScalarType) -> Option<i64> {
        match binary(op, Literal::Int(a), Literal::Int(b), s) {
            Some(Literal::Int(v)) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn integer_wrapping_per_width_and_signedness() {
        assert_eq!(bin(BinaryOp::Add, 127, 1, I8), Some(-128));
        assert_eq!(bin(BinaryOp::Add, 255, 1, U8), Some(0));
        assert_eq!(bin(BinaryOp::Sub, 0, 1, U32), Some(u32::MAX as i64));
        assert_eq!(bin(BinaryOp::Mul, -1, -1, U64), Some(1));
        assert_eq!(bin(BinaryOp::Mul, i32::MAX as i64, 2, I32), Some(-2));
        assert_eq!(bin(BinaryOp::Div, -7, 2, I32), Some(-3));
        assert_eq!(bin(BinaryOp::Rem, -7, 2, I32), Some(-1));
        assert_eq!(bin(BinaryOp::Div, 0xF0, 2, U8), Some(0x78));
        assert_eq!(bin(BinaryOp::Shr, -16, 2, I32), Some(-4));
        assert_eq!(bin(BinaryOp::Shr, 0xFFFF_FFF0, 2, U32), Some(0x3FFF_FFFC));
        assert_eq!(bin(BinaryOp::Shl, 1, 31, I32), Some(i32::MIN as i64));
        assert_eq!(bin(BinaryOp::MulHi, -1, -1, U64), Some(-2)); // 0xFFFF...FE
        assert_eq!(bin(BinaryOp::MulHi, -1, 2, I32), Some(-1));
        assert_eq!(bin(BinaryOp::Min, 200, 3, U8), Some(3));
        assert_eq!(bin(BinaryOp::Max, -1, 3, U64), Some(-1));
        assert_eq!(bin(BinaryOp::Add, 1, 1, I1), Some(0));
    }

    #[test]
    fn undefined_integer_ops_stay_unfolded() {
        assert_eq!(bin(BinaryOp::Div, 1, 0, I32), None);
        assert_eq!(bin(BinaryOp::Rem, 1, 0, U8), None);
        assert_eq!(bin(BinaryOp::Div, i32::MIN as i64, -1, I32), None);
        assert_eq!(bin(BinaryOp::Shl, 1, 32, I32), None);
        assert_eq!(bin(BinaryOp::Shr, 1, -1, I64), None);
        assert_eq!(bin(BinaryOp::Div, -1, -1, I32), Some(1));
    }

    #[test]
    fn floats_round_in_their_precision() {
        let r = binary(BinaryOp::Add, Literal::Float(0.1), Literal::Float(0.2), F32);
        assert_eq!(r, Some(Literal::Float((0.1f32 + 0.2f32) as f64)));
        let r = binary(BinaryOp::Add, Literal::Float(0.1), Literal::Float(0.2), F64);
        assert_eq!(r, Some(Literal::Float(0.1 + 0.2)));
        assert_eq!(
            binary(BinaryOp::Add, Literal::Float(1.0), Literal::Float(1.0), F16),
            None
        );
        assert_eq!(
            binary(BinaryOp::Pow, Literal::Float(2.0), Literal::Float(3.0), F32),
            None
        );
        let nan = binary(
            BinaryOp::MaxNan,
            Literal::Float(f64::NAN),
            Literal::Float(1.0),
            F32,
        );
        assert!(matches!(nan, Some(Literal::Float(v)) if v.is_nan()));
        let m = binary(
            BinaryOp::Max,
            Literal::Float(f64::NAN),
            Literal::Float(1.0),
            F32,
        );
        assert_eq!(m, Some(Literal::Float(1.0)));
    }

    #[test]
    fn comparisons_and_casts() {
        let nan = Literal::Float(f64::NAN);
        assert_eq!(cmp(CmpPred::Ne, nan, nan, F32), Some(true));
        assert_eq!(cmp(CmpPred::Eq, nan, nan, F32), Some(false));
        assert_eq!(
            cmp(CmpPred::Lt, Literal::Int(-1), Literal::Int(0), U32),
            Some(false)
        );
        assert_eq!(
            cmp(CmpPred::Lt, Literal::Int(-1), Literal::Int(0), I32),
            Some(true)
        );
        assert_eq!(cast(Literal::Int(-1), I8, U16), Some(Literal::Int(0xFFFF)));
        assert_eq!(cast(Literal::Int(255), U8, I32), Some(Literal::Int(255)));
        assert_eq!(cast(Literal::Int(300), I32, U8), Some(Literal::Int(44)));
        assert_eq!(cast(Literal::Int(2), I32, I1), Some(Literal::Int(1)));
        assert_eq!(cast(Literal::Float(-2.7), F32, I32), Some(Literal::Int(-2)));
        assert_eq!(cast(Literal::Float(300.0), F32, U8), None);
        assert_eq!(cast(Literal::Float(f64::NAN), F32, I32), None);
        assert_eq!(
            cast(Literal::Float(0.1), F64, F32),
            Some(Literal::Float(0.1f32 as f64))
        );
        assert_eq!(
            cast(Literal::Int(16_777_217), I32, F32),
            Some(Literal::Float(16_777_216.0))
        );
    }
}
