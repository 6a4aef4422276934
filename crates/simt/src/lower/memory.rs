//! Loads and stores. Masked-off elements never touch memory: each access sits under an
//! `if` on its mask. A thread's run of contiguous elements becomes one vector access when
//! the axis facts prove the run contiguous in memory, aligned to the vector, and under one
//! mask value. On targets that are not byte addressable, 8/16-bit data (and i1, stored as
//! bytes) is reached through u32 words: shifts and masks to read, atomic and/or to write;
//! so is f16 data whose bits must survive (f16bits.rs), moved as u16 bits.

use tm_core::ScalarType;
use tm_tile::{AtomicOp, BinaryOp, OpId, ValueId};

use super::{LVal, LowerError, Lowerer};
use crate::ir::{Expr, LocalId, Operand, SType, Space, Stmt};
use crate::layout::TensorMap;

impl Lowerer<'_> {
    pub(super) fn buf_of(&self, p: &LVal) -> Result<u32, LowerError> {
        p.buf
            .ok_or_else(|| self.err("cannot tell which buffer this pointer points into"))
    }

    /// How many consecutive registers move with one vector access (1: scalar accesses).
    fn vector_width(
        &self,
        buf: u32,
        ptr: ValueId,
        mask: Option<ValueId>,
        map: Option<&TensorMap>,
    ) -> usize {
        let info = &self.bufs[buf as usize];
        let Some(map) = map else { return 1 };
        if info.word_bits.is_some() || info.atomic || info.pointee.is_bool() {
            return 1;
        }
        let Some(&d) = map.reg_order.first() else {
            return 1;
        };
        let dm = &map.dims[d];
        let Some(ai) = self.axis.get(&ptr) else {
            return 1;
        };
        let mut g = dm.spt.min(dm.size).min(dm.regs).min(4);
        g = g.min(16 / info.pointee.size_bytes());
        g = g.min(ai.contig.get(d).copied().unwrap_or(1));
        g = g.min(ai.div.get(d).copied().unwrap_or(1));
        if let Some(m) = mask {
            let k = self.axis.get(&m).and_then(|a| a.cst.get(d).copied());
            g = g.min(k.unwrap_or(1));
        }
        // Every quantity above is a power of two; keep it one.
        let g = if g == 0 {
            1
        } else {
            1 << (31 - g.leading_zeros())
        };
        if g < 2 {
            1
        } else {
            g as usize
        }
    }

    fn word_index(&mut self, index: Operand, bits: u32) -> (Operand, Operand) {
        let per = 32 / bits;
        let word = self.let_(
            ScalarType::I32,
            Expr::Binary(
                BinaryOp::Shr,
                index,
                Self::i32c(per.trailing_zeros() as i64),
            ),
        );
        let lane = self.let_(
            ScalarType::I32,
            Expr::Binary(BinaryOp::And, index, Self::i32c(per as i64 - 1)),
        );
        let lane = self.let_(
            ScalarType::I32,
            Expr::Binary(BinaryOp::Mul, lane, Self::i32c(bits as i64)),
        );
        let shift = self.cast(lane, ScalarType::I32, ScalarType::U32);
        (word, shift)
    }

    /// The type one element moves as: f16 in u32 words moves as its 16 bits (f16bits.rs),
    /// so `load_elem` / `store_elem` take and give a u16 there.
    fn word_elem(info: &super::BufInfo) -> ScalarType {
        if info.pointee == ScalarType::F16 && info.word_bits.is_some() {
            ScalarType::U16
        } else {
            info.pointee
        }
    }

    /// Whether buffer `buf` holds f16 in u32 words (loads and stores move bits).
    fn f16_in_words(&self, buf: u32) -> bool {
        let info = &self.bufs[buf as usize];
        info.pointee == ScalarType::F16 && info.word_bits.is_some()
    }

    /// `dst = buffer[index]` for one element.
    fn load_elem(&mut self, dst: LocalId, buf: u32, index: Operand) {
        let info = self.bufs[buf as usize].clone();
        let ty = Self::word_elem(&info);
        let read = |s: &mut Self, index: Operand, ty: ScalarType| -> Operand {
            if info.atomic {
                // An atomic buffer is read atomically: or with 0 (adding -0.0 to floats)
                // returns the word unchanged.
                let dst = s.local(SType::scalar(ty));
                let (op, value) = if ty.is_float() {
                    (
                        AtomicOp::Add,
                        Operand::Const(tm_tile::Literal::Float(-0.0), ty),
                    )
                } else {
                    (AtomicOp::Or, Self::zero(ty))
                };
                s.emit(Stmt::AtomicRmw {
                    dst: Some(dst),
                    op,
                    space: Space::Device,
                    array: buf,
                    index,
                    value,
                });
                Operand::Local(dst)
            } else {
                s.let_(
                    ty,
                    Expr::Load {
                        buf,
                        index,
                        lanes: 1,
                    },
                )
            }
        };
        let expr = match info.word_bits {
            None if info.float_bits => {
                let w = read(self, index, ScalarType::U32);
                Expr::Bitcast(w, SType::scalar(ty))
            }
            None if ty.is_bool() => {
                let b = read(self, index, ScalarType::U8);
                Expr::Cast(b, SType::scalar(ty))
            }
            None if !info.atomic => Expr::Load {
                buf,
                index,
                lanes: 1,
            },
            None => Expr::Operand(read(self, index, ty)),
            Some(bits) => {
                let (word, shift) = self.word_index(index, bits);
                let w = read(self, word, ScalarType::U32);
                let x = self.let_(ScalarType::U32, Expr::Binary(BinaryOp::Shr, w, shift));
                let mask = Self::u32c((1i64 << bits) - 1);
                let x = self.let_(ScalarType::U32, Expr::Binary(BinaryOp::And, x, mask));
                Self::from_word_bits(x, ty)
            }
        };
        self.emit(Stmt::Assign { dst, expr });
    }

    /// `buffer[index] = value` for one element (`value` has the pointee type).
    fn store_elem(&mut self, buf: u32, index: Operand, value: Operand) {
        let info = self.bufs[buf as usize].clone();
        let ty = Self::word_elem(&info);
        match info.word_bits {
            None => {
                let value = if ty.is_bool() {
                    self.cast(value, ty, ScalarType::U8)
                } else if info.float_bits {
                    self.let_(
                        ScalarType::U32,
                        Expr::Bitcast(value, SType::scalar(ScalarType::U32)),
                    )
                } else {
                    value
                };
                if info.atomic {
                    self.emit(Stmt::AtomicRmw {
                        dst: None,
                        op: AtomicOp::Xchg,
                        space: Space::Device,
                        array: buf,
                        index,
                        value,
                    });
                } else {
                    self.emit(Stmt::Store { buf, index, value });
                }
            }
            Some(bits) => {
                let (word, shift) = self.word_index(index, bits);
                let mask = Self::u32c((1i64 << bits) - 1);
                let x = self.let_(ScalarType::U32, Self::to_word_bits(value, ty));
                let x = self.let_(ScalarType::U32, Expr::Binary(BinaryOp::And, x, mask));
                let bits_v = self.let_(ScalarType::U32, Expr::Binary(BinaryOp::Shl, x, shift));
                let hole = self.let_(ScalarType::U32, Expr::Binary(BinaryOp::Shl, mask, shift));
                let keep = self.let_(
                    ScalarType::U32,
                    Expr::Binary(BinaryOp::Xor, hole, Self::u32c(0xffff_ffff)),
                );
                // Two atomics, each touching only this element's bits, so neighbours
                // stored by other threads survive.
                for (op, value) in [(AtomicOp::And, keep), (AtomicOp::Or, bits_v)] {
                    self.emit(Stmt::AtomicRmw {
                        dst: None,
                        op,
                        space: Space::Device,
                        array: buf,
                        index: word,
                        value,
                    });
                }
            }
        }
    }

    pub(super) fn lower_load(
        &mut self,
        op: OpId,
        has_mask: bool,
        has_other: bool,
    ) -> Result<(), LowerError> {
        let o = &self.f.ops[op];
        let (res, ptr_v) = (o.results[0], o.operands[0]);
        let mask_v = has_mask.then(|| o.operands[1]);
        let ptr = self.operand(op, 0)?;
        let mask = if has_mask {
            Some(self.operand(op, 1)?)
        } else {
            None
        };
        let other = if has_other {
            Some(self.operand(op, if has_mask { 2 } else { 1 })?)
        } else {
            None
        };
        let buf = self.buf_of(&ptr)?;
        let in_words = self.f16_in_words(buf);
        // Loads from f16 word buffers give the bits (the twin) and the f16 made from them.
        let (ty, other) = match other {
            Some(o) if in_words => {
                let i = if has_mask { 2 } else { 1 };
                (
                    ScalarType::U16,
                    Some(self.bits_operand_of(op, i, Some(&o))?),
                )
            }
            _ if in_words => (ScalarType::U16, other),
            _ => (self.reg_ty(res)?, other),
        };
        let map = match self.asg.layout(res) {
            Some(l) => Some(self.map(l, &self.f.ty(res).shape)?),
            None => None,
        };
        let n = map.as_ref().map_or(1, |m| m.num_regs());
        let g = self.vector_width(buf, ptr_v, mask_v, map.as_ref());
        let out: Vec<LocalId> = (0..n).map(|_| self.local(SType::scalar(ty))).collect();
        for start in (0..n).step_by(g) {
            let (then_body, ()) = self.nested(|s| {
                if g > 1 {
                    let vec = s.let_v(
                        SType::vector(ty, g as u8),
                        Expr::Load {
                            buf,
                            index: ptr.reg(start),
                            lanes: g as u8,
                        },
                    );
                    for j in 0..g {
                        s.emit(Stmt::Assign {
                            dst: out[start + j],
                            expr: Expr::Extract(vec, j as u8),
                        });
                    }
                } else {
                    s.load_elem(out[start], buf, ptr.reg(start));
                }
                Ok(())
            })?;
            match &mask {
                None => {
                    if let Some(cur) = self.stack.last_mut() {
                        cur.extend(then_body);
                    }
                }
                Some(m) => {
                    let (else_body, ()) = self.nested(|s| {
                        for j in start..start + g {
                            let v = other.as_ref().map_or(Self::zero(ty), |o| o.reg(j));
                            s.set(out[j], v);
                        }
                        Ok(())
                    })?;
                    self.emit_if(m.reg(start), then_body, else_body);
                }
            }
        }
        let mut regs: Vec<Operand> = out.into_iter().map(Operand::Local).collect();
        if map.is_none() {
            regs[0] = self.uniform_scalar_load(buf, regs[0], ty)?;
        }
        if in_words {
            let f16 = SType::scalar(ScalarType::F16);
            let values = regs
                .iter()
                .map(|&b| self.let_(ScalarType::F16, Expr::Bitcast(b, f16)))
                .collect();
            self.set_twin(res, regs);
            return self.define(res, values, None);
        }
        self.define(res, regs, None)
    }

    pub(super) fn lower_store(&mut self, op: OpId, has_mask: bool) -> Result<(), LowerError> {
        let o = &self.f.ops[op];
        let ptr_v = o.operands[0];
        let mask_v = has_mask.then(|| o.operands[2]);
        let ptr = self.operand(op, 0)?;
        let val = self.operand(op, 1)?;
        let mask = if has_mask {
            Some(self.operand(op, 2)?)
        } else {
            None
        };
        let buf = self.buf_of(&ptr)?;
        let ty = self.bufs[buf as usize].pointee;
        let vty = self.reg_ty(o.operands[1])?;
        // f16 word buffers store the value's bits: its twin's where it has one.
        let (val, vty, ty) = if self.f16_in_words(buf) && vty == ScalarType::F16 {
            (
                self.bits_operand_of(op, 1, Some(&val))?,
                ScalarType::U16,
                ScalarType::U16,
            )
        } else {
            (val, vty, ty)
        };
        let to_bits = self.f16_in_words(buf) && ty == ScalarType::F16;
        let shape = self.f.ty(ptr_v).shape.clone();
        let (map, owner) = match self.asg.layout(ptr_v) {
            Some(_) => {
                let l = self
                    .asg
                    .request(op, 0)
                    .cloned()
                    .ok_or_else(|| self.err("internal: store without a layout"))?;
                (Some(self.map(&l, &shape)?), self.owner(&l, &shape)?)
            }
            None => (None, self.lane_zero_owner()),
        };
        // Where several threads hold copies of an element (a scalar, or a tensor smaller than
        // the layout's tile), only its owner stores it: another copy may have been computed
        // from memory the owner already overwrote (`x = x + 1` in place).
        let one = Operand::Const(tm_tile::Literal::Int(1), ScalarType::I1);
        let n = map.as_ref().map_or(1, |m| m.num_regs());
        let g = self.vector_width(buf, ptr_v, mask_v, map.as_ref());
        for start in (0..n).step_by(g) {
            let (body, ()) = self.nested(|s| {
                let vals: Vec<Operand> = (start..start + g)
                    .map(|j| {
                        let v = s.cast(val.reg(j), vty, ty);
                        if to_bits {
                            let u16 = SType::scalar(ScalarType::U16);
                            s.let_(ScalarType::U16, Expr::Bitcast(v, u16))
                        } else {
                            v
                        }
                    })
                    .collect();
                if g > 1 {
                    let vec = s.let_v(SType::vector(ty, g as u8), Expr::Vector(vals));
                    s.emit(Stmt::Store {
                        buf,
                        index: ptr.reg(start),
                        value: vec,
                    });
                } else {
                    s.store_elem(buf, ptr.reg(start), vals[0]);
                }
                Ok(())
            })?;
            let cond = match &mask {
                Some(m) => self.and_i1(m.reg(start), owner),
                None => owner,
            };
            if cond == one {
                if let Some(cur) = self.stack.last_mut() {
                    cur.extend(body);
                }
            } else {
                self.emit_if(cond, body, Vec::new());
            }
        }
        Ok(())
    }
}
