//! bf16 data. Registers of bf16 hold its 16 bits (Metal `ushort`, WGSL the low half of a
//! `u32`), and the printers convert to f32 around each operation and round back to nearest
//! even (NaN kept quiet), which is Triton's bf16 arithmetic: every op rounds to bf16.
//! Memory: `ushort` buffers on Metal; on WGSL, which has no 16-bit storage type, two
//! elements per u32 word through the same word-access path as 16-bit integers, where the
//! element's bits are moved by bitcasts (a value conversion would change them).

use tm_core::ScalarType;

use super::Lowerer;
use crate::ir::{Expr, Operand, SType};

impl Lowerer<'_> {
    /// The element of type `ty` whose bits are the low bits of the u32 `bits`.
    pub(super) fn from_word_bits(bits: Operand, ty: ScalarType) -> Expr {
        if ty == ScalarType::BF16 {
            Expr::Bitcast(bits, SType::scalar(ty))
        } else {
            Expr::Cast(bits, SType::scalar(ty))
        }
    }

    /// A u32 whose low bits are those of `value` (of type `ty`).
    pub(super) fn to_word_bits(value: Operand, ty: ScalarType) -> Expr {
        if ty == ScalarType::BF16 {
            Expr::Bitcast(value, SType::scalar(ScalarType::U32))
        } else {
            Expr::Cast(value, SType::scalar(ScalarType::U32))
        }
    }
}
