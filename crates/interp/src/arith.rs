//! Per-type arithmetic with Triton's GPU semantics, kept apart from the loops that apply it.
//!
//! Integer division by zero follows what NVIDIA hardware gives for PTX `div`/`rem` (the
//! reference Triton users see): `x / 0` is all ones (-1 signed, the maximum unsigned) and
//! `x % 0` is `x`. `MIN / -1` wraps to `MIN` and `MIN % -1` is 0. Shifts by the type's width
//! or more give 0 (`shl`, logical `shr`) or the sign fill (arithmetic `shr`), as PTX clamps
//! shift amounts.

use crate::value::El;

pub trait IntEl: El + Ord {
    fn wadd(self, o: Self) -> Self;
    fn wsub(self, o: Self) -> Self;
    fn wmul(self, o: Self) -> Self;
    fn wneg(self) -> Self;
    fn wabs(self) -> Self;
    fn bnot(self) -> Self;
    fn band(self, o: Self) -> Self;
    fn bor(self, o: Self) -> Self;
    fn bxor(self, o: Self) -> Self;
    fn cdiv(self, o: Self) -> Self;
    fn crem(self, o: Self) -> Self;
    fn shl(self, o: Self) -> Self;
    fn shr(self, o: Self) -> Self;
    fn mulhi(self, o: Self) -> Self;
}

macro_rules! int_ops {
    ($t:ty, $wide:ty) => {
        impl IntEl for $t {
            #[inline(always)]
            fn wadd(self, o: Self) -> Self {
                self.wrapping_add(o)
            }
            #[inline(always)]
            fn wsub(self, o: Self) -> Self {
                self.wrapping_sub(o)
            }
            #[inline(always)]
            fn wmul(self, o: Self) -> Self {
                self.wrapping_mul(o)
            }
            #[inline(always)]
            fn wneg(self) -> Self {
                self.wrapping_neg()
            }
            #[inline(always)]
            fn wabs(self) -> Self {
                #[allow(unused_comparisons)]
                if self < 0 as $t {
                    self.wrapping_neg()
                } else {
                    self
                }
            }
            #[inline(always)]
            fn bnot(self) -> Self {
                !self
            }
            #[inline(always)]
            fn band(self, o: Self) -> Self {
                self & o
            }
            #[inline(always)]
            fn bor(self, o: Self) -> Self {
                self | o
            }
            #[inline(always)]
            fn bxor(self, o: Self) -> Self {
                self ^ o
            }
            #[inline(always)]
            fn cdiv(self, o: Self) -> Self {
                if o == 0 {
                    !(0 as $t)
                } else {
                    self.wrapping_div(o)
                }
            }
            #[inline(always)]
            fn crem(self, o: Self) -> Self {
                if o == 0 {
                    self
                } else {
                    self.wrapping_rem(o)
                }
            }
            #[inline(always)]
            fn shl(self, o: Self) -> Self {
                // The amount is read as unsigned: a negative amount is a huge shift.
                let n = o as u64 & (u64::MAX >> (64 - <$t>::BITS));
                if n >= <$t>::BITS as u64 {
                    0
                } else {
                    self << n
                }
            }
            #[inline(always)]
            fn shr(self, o: Self) -> Self {
                let n = o as u64 & (u64::MAX >> (64 - <$t>::BITS));
                if n >= <$t>::BITS as u64 {
                    self >> (<$t>::BITS - 1) >> 1
                } else {
                    self >> n
                }
            }
            #[inline(always)]
            fn mulhi(self, o: Self) -> Self {
                ((self as $wide * o as $wide) >> <$t>::BITS) as $t
            }
        }
    };
}

int_ops!(i8, i16);
int_ops!(i16, i32);
int_ops!(i32, i64);
int_ops!(i64, i128);
int_ops!(u8, u16);
int_ops!(u16, u32);
int_ops!(u32, u64);
int_ops!(u64, u128);

/// Float math in one precision (f32 or f64). f16 and bf16 are computed through f32 and
/// rounded back by the callers.
pub trait FloatEl:
    El
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Rem<Output = Self>
    + std::ops::Neg<Output = Self>
{
    fn sqrt(self) -> Self;
    fn exp(self) -> Self;
    fn exp2(self) -> Self;
    fn ln(self) -> Self;
    fn log2(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn tan(self) -> Self;
    fn asin(self) -> Self;
    fn acos(self) -> Self;
    fn atan(self) -> Self;
    fn sinh(self) -> Self;
    fn cosh(self) -> Self;
    fn tanh(self) -> Self;
    fn erf(self) -> Self;
    fn floor(self) -> Self;
    fn ceil(self) -> Self;
    fn rint(self) -> Self;
    fn trunc(self) -> Self;
    fn abs(self) -> Self;
    fn is_nan(self) -> bool;
    fn is_inf(self) -> bool;
    fn min_num(self, o: Self) -> Self;
    fn max_num(self, o: Self) -> Self;
    fn pow(self, o: Self) -> Self;
    fn atan2(self, o: Self) -> Self;
    fn fma(self, b: Self, c: Self) -> Self;
    fn one() -> Self;
    fn nan() -> Self;
}

macro_rules! float_ops {
    ($t:ty, $erf:path) => {
        impl FloatEl for $t {
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn exp2(self) -> Self {
                <$t>::exp2(self)
            }
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            fn log2(self) -> Self {
                <$t>::log2(self)
            }
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            fn tan(self) -> Self {
                <$t>::tan(self)
            }
            fn asin(self) -> Self {
                <$t>::asin(self)
            }
            fn acos(self) -> Self {
                <$t>::acos(self)
            }
            fn atan(self) -> Self {
                <$t>::atan(self)
            }
            fn sinh(self) -> Self {
                <$t>::sinh(self)
            }
            fn cosh(self) -> Self {
                <$t>::cosh(self)
            }
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            fn erf(self) -> Self {
                $erf(self)
            }
            fn floor(self) -> Self {
                <$t>::floor(self)
            }
            fn ceil(self) -> Self {
                <$t>::ceil(self)
            }
            fn rint(self) -> Self {
                <$t>::round_ties_even(self)
            }
            fn trunc(self) -> Self {
                <$t>::trunc(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn is_inf(self) -> bool {
                <$t>::is_infinite(self)
            }
            #[inline(always)]
            fn min_num(self, o: Self) -> Self {
                <$t>::min(self, o)
            }
            #[inline(always)]
            fn max_num(self, o: Self) -> Self {
                <$t>::max(self, o)
            }
            fn pow(self, o: Self) -> Self {
                <$t>::powf(self, o)
            }
            fn atan2(self, o: Self) -> Self {
                <$t>::atan2(self, o)
            }
            #[inline(always)]
            fn fma(self, b: Self, c: Self) -> Self {
                <$t>::mul_add(self, b, c)
            }
            fn one() -> Self {
                1.0
            }
            fn nan() -> Self {
                <$t>::NAN
            }
        }
    };
}

float_ops!(f32, libm::erff);
float_ops!(f64, libm::erf);
