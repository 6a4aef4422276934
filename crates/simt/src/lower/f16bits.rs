//! Exact f16 bits on targets without 16-bit bitcasts (WGSL).
//!
//! WGSL has f16 registers and `array<f16>` storage, but no way to reinterpret 16 integer
//! bits as an f16 (naga 30 cannot `bitcast<vec2<f16>>(u32)`): `tm_f16_from_bits` builds the
//! value through f32, and drivers canonicalise NaNs in f32 -> f16 (lavapipe does, and the
//! f16 -> f32 direction quiets signalling NaNs). A Triton bitcast must keep every bit, so
//! where bits matter, the f16 value also lives as its 16 bits in an integer register (its
//! "twin", a u16 local), and its buffer is reached through u32 words like 16-bit integer
//! data, so that the bits go from the bitcast to memory (or from memory to the bitcast)
//! without becoming a float.
//!
//! Which values and buffers, by data flow over the Tile IR (flow-insensitive, to a fixed
//! point):
//! - f16 values with a twin ("carried"): bitcasts from 16-bit integers or bf16, loads from
//!   word buffers, `select`s (`tl.where`) with a carried operand;
//! - word buffers: f16 parameters (not updated atomically) that are stored to with a carried
//!   value, or loaded from where the loaded value flows (through selects, or a store into
//!   another word buffer) into a bitcast to a 16-bit integer.
//!
//! Everything else keeps plain f16 registers and `array<f16>` access, so f16 kernels that do
//! not bitcast are unchanged. Loop-carried values and shape ops (broadcast, reshape, ...)
//! do not pass twins on: bits that go through them are converted, as before.

use rustc_hash::{FxHashMap, FxHashSet};
use tm_core::{ScalarType, Target};
use tm_tile::{Function, OpId, OpKind, ValueId};

use super::provenance::Provenance;
use super::{LVal, LowerError, Lowerer};
use crate::ir::{Expr, Operand, SType};

const F16: ScalarType = ScalarType::F16;
const U16: ScalarType = ScalarType::U16;

#[derive(Default)]
pub(super) struct F16Bits {
    carried: FxHashSet<ValueId>,
    /// Per parameter: an f16 buffer accessed through u32 words.
    words: Vec<bool>,
    /// The twins defined so far (u16 registers in the value's layout).
    twins: FxHashMap<ValueId, LVal>,
}

/// 16-bit types whose registers hold bits exactly on WGSL (bf16 is emulated on integers).
fn is_16bit_int(t: Option<ScalarType>) -> bool {
    matches!(
        t,
        Some(ScalarType::I16 | ScalarType::U16 | ScalarType::BF16)
    )
}

pub(super) fn analyze(f: &Function, prov: &Provenance, target: &Target) -> F16Bits {
    let mut out = F16Bits {
        words: vec![false; f.params.len()],
        ..F16Bits::default()
    };
    if target.byte_addressable {
        return out;
    }
    let scalar = |v: ValueId| f.ty(v).scalar_type();
    let pointee = |v: ValueId| f.ty(v).elem.pointee();
    // The f16 buffer (parameter) a load or store goes through, if it may become a word buffer.
    let f16_param = |ptr: ValueId| -> Option<usize> {
        let b = *prov.base.get(&ptr)? as usize;
        (pointee(ptr) == Some(F16) && !prov.atomics.get(b).copied().unwrap_or(true)).then_some(b)
    };
    let mut ops: Vec<OpId> = Vec::new();
    collect(f, f.body, &mut ops);
    // Values whose bits are needed exactly.
    let mut needed: FxHashSet<ValueId> = FxHashSet::default();
    loop {
        let mut changed = false;
        for &op in &ops {
            let o = &f.ops[op];
            let (Some(&res), first) = (o.results.first(), o.operands.first().copied()) else {
                if let (OpKind::Store { .. }, [ptr, val, ..]) = (&o.kind, o.operands.as_slice()) {
                    if let Some(b) = f16_param(*ptr) {
                        if out.carried.contains(val) && !out.words[b] {
                            out.words[b] = true;
                            changed = true;
                        }
                        if out.words[b] && scalar(*val) == Some(F16) {
                            changed |= needed.insert(*val);
                        }
                    }
                }
                continue;
            };
            let Some(a) = first else { continue };
            match &o.kind {
                OpKind::Bitcast => {
                    if scalar(res) == Some(F16) && is_16bit_int(scalar(a)) {
                        changed |= out.carried.insert(res);
                    }
                    if scalar(a) == Some(F16) && is_16bit_int(scalar(res)) {
                        changed |= needed.insert(a);
                    }
                }
                OpKind::Select if scalar(res) == Some(F16) => {
                    let arms = &o.operands[1..];
                    if arms.iter().any(|v| out.carried.contains(v)) {
                        changed |= out.carried.insert(res);
                    }
                    if needed.contains(&res) {
                        for &v in arms {
                            changed |= needed.insert(v);
                        }
                    }
                }
                OpKind::Load {
                    has_mask,
                    has_other,
                    ..
                } => {
                    if let Some(b) = f16_param(a) {
                        if needed.contains(&res) && !out.words[b] {
                            out.words[b] = true;
                            changed = true;
                        }
                        let other = o.operands.get(if *has_mask { 2 } else { 1 });
                        if let (true, true, Some(&v)) = (*has_other, out.words[b], other) {
                            changed |= needed.insert(v);
                        }
                        if out.words[b] {
                            changed |= out.carried.insert(res);
                        }
                    }
                }
                _ => {}
            }
        }
        if !changed {
            return out;
        }
    }
}

/// The ops of `b` and of the regions nested in them.
fn collect(f: &Function, b: tm_tile::BlockId, out: &mut Vec<OpId>) {
    for &op in &f.blocks[b].ops {
        out.push(op);
        for &r in &f.ops[op].regions {
            collect(f, r, out);
        }
    }
}

impl Lowerer<'_> {
    /// The same 16 bits as type `to`: integers convert (wrapping to 16 bits), bf16 (bits in
    /// an integer register) is reinterpreted.
    fn bits16(&mut self, v: Operand, from: ScalarType, to: ScalarType) -> Operand {
        if from == ScalarType::BF16 || to == ScalarType::BF16 {
            self.let_(to, Expr::Bitcast(v, SType::scalar(to)))
        } else {
            self.cast(v, from, to)
        }
    }

    /// Whether parameter `i` is an f16 buffer accessed through u32 words.
    pub(super) fn f16_words(&self, i: usize) -> bool {
        self.f16_bits.words.get(i).copied().unwrap_or(false)
    }

    /// Records the twin (u16 registers) of the f16 value `v`.
    pub(super) fn set_twin(&mut self, v: ValueId, regs: Vec<Operand>) {
        let layout = self.asg.layout(v).cloned();
        self.f16_bits.twins.insert(
            v,
            LVal {
                regs,
                layout,
                ty: U16,
                buf: None,
            },
        );
    }

    /// The 16 bits of f16 operand `i` of `op`: its twin where it has one, else the bits of
    /// its f16 registers (`lv`, when the caller already has them in the wanted layout).
    pub(super) fn bits_operand_of(
        &mut self,
        op: OpId,
        i: usize,
        lv: Option<&LVal>,
    ) -> Result<LVal, LowerError> {
        let v = self.f.ops[op].operands[i];
        match lv {
            Some(lv) if !self.f16_bits.twins.contains_key(&v) => Ok(self.f16_bits_of(lv.clone())),
            _ => self.bits_operand(op, i),
        }
    }

    fn f16_bits_of(&mut self, lv: LVal) -> LVal {
        let regs = lv
            .regs
            .iter()
            .map(|&r| self.let_(U16, Expr::Bitcast(r, SType::scalar(U16))))
            .collect();
        LVal {
            regs,
            ty: U16,
            ..lv
        }
    }

    /// The 16 bits of f16 operand `i` of `op`: its twin where it has one, else the bits of
    /// its f16 registers.
    pub(super) fn bits_operand(&mut self, op: OpId, i: usize) -> Result<LVal, LowerError> {
        let v = self.f.ops[op].operands[i];
        if let Some(tw) = self.f16_bits.twins.get(&v).cloned() {
            let Some(want) = self.wanted_layout(op, i)? else {
                return Ok(tw);
            };
            let shape = self.f.ty(v).shape.clone();
            return self.convert(&tw, &shape, &want);
        }
        let lv = self.operand(op, i)?;
        Ok(self.f16_bits_of(lv))
    }

    /// Lowers a bitcast or select that involves carried f16 values; false when `op` is
    /// not one (the ordinary lowering applies).
    pub(super) fn lower_f16_bits(&mut self, op: OpId) -> Result<bool, LowerError> {
        let o = &self.f.ops[op];
        let (Some(&res), Some(&a)) = (o.results.first(), o.operands.first()) else {
            return Ok(false);
        };
        let kind = o.kind.clone();
        let carried = self.f16_bits.carried.contains(&res);
        let n = self.num_regs(res)?;
        match kind {
            // 16-bit integer -> f16: the integer is the twin.
            OpKind::Bitcast if carried => {
                let src = self.operand(op, 0)?;
                let mut bits = Vec::with_capacity(n);
                let mut regs = Vec::with_capacity(n);
                for r in 0..n {
                    let b = self.bits16(src.reg(r), src.ty, U16);
                    regs.push(self.let_(F16, Expr::Bitcast(b, SType::scalar(F16))));
                    bits.push(b);
                }
                self.set_twin(res, bits);
                self.define(res, regs, None)?;
                Ok(true)
            }
            // f16 -> 16-bit integer from a value with a twin: the twin's bits.
            OpKind::Bitcast if self.f16_bits.twins.contains_key(&a) => {
                let to = self.reg_ty(res)?;
                let bits = self.bits_operand(op, 0)?;
                let regs = (0..n).map(|r| self.bits16(bits.reg(r), U16, to)).collect();
                self.define(res, regs, None)?;
                Ok(true)
            }
            OpKind::Select if carried => {
                let c = self.operand(op, 0)?;
                let (x, y) = (self.bits_operand(op, 1)?, self.bits_operand(op, 2)?);
                let mut bits = Vec::with_capacity(n);
                let mut regs = Vec::with_capacity(n);
                for r in 0..n {
                    let b = self.let_(U16, Expr::Select(c.reg(r), x.reg(r), y.reg(r)));
                    regs.push(self.let_(F16, Expr::Bitcast(b, SType::scalar(F16))));
                    bits.push(b);
                }
                self.set_twin(res, bits);
                self.define(res, regs, None)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
