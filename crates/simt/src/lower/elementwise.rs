//! Constants, program geometry, shape ops and elementwise math: register by register.

use tm_core::ScalarType;
use tm_tile::{Literal, OpId, OpKind, ValueId};

use super::{LowerError, Lowerer};
use crate::ir::{Expr, Operand, SType};
use crate::layout::Layout;

impl Lowerer<'_> {
    /// Registers of `v` in `layout` made afresh, for values that cost nothing to produce in
    /// any layout (constants, splats, ranges), instead of a trip through threadgroup memory.
    pub(super) fn rematerialize(
        &mut self,
        v: ValueId,
        layout: &Layout,
    ) -> Result<Option<Vec<Operand>>, LowerError> {
        let Some(op) = self.f.def_op(v) else {
            return Ok(None);
        };
        let shape = self.f.ty(v).shape.clone();
        let n = self.map(layout, &shape)?.num_regs();
        match self.f.ops[op].kind {
            OpKind::Constant(_) | OpKind::Splat => {
                let src = self.value(v)?;
                Ok(Some(vec![src.regs[0]; n]))
            }
            OpKind::MakeRange { start, .. } => Ok(Some(self.range_regs(layout, &shape, start)?)),
            _ => Ok(None),
        }
    }

    fn range_regs(
        &mut self,
        layout: &Layout,
        shape: &[u32],
        start: i32,
    ) -> Result<Vec<Operand>, LowerError> {
        let m = self.map(layout, shape)?;
        let base = self.dim_offset(layout, shape, 0)?;
        let mut regs = Vec::with_capacity(m.num_regs());
        for r in 0..m.num_regs() {
            let c = start as i64 + m.reg_offsets(r)[0] as i64;
            regs.push(self.iadd(base, Self::i32c(c)));
        }
        Ok(regs)
    }

    pub(super) fn lower_constant(&mut self, op: OpId, lit: Literal) -> Result<(), LowerError> {
        let res = self.f.ops[op].results[0];
        if self.f.ty(res).elem.is_ptr() {
            return Err(self.err("pointer constants cannot be lowered"));
        }
        let ty = self.reg_ty(res)?;
        let lit = match (lit, ty.is_float()) {
            (Literal::Int(v), true) => Literal::Float(v as f64),
            (Literal::Float(v), false) => Literal::Int(v as i64),
            (l, _) => l,
        };
        let n = self.num_regs(res)?;
        self.define(res, vec![Operand::Const(lit, ty); n], None)
    }

    pub(super) fn lower_program_id(&mut self, op: OpId, axis: u8) -> Result<(), LowerError> {
        let v = self.program_id(axis)?;
        self.define(self.f.ops[op].results[0], vec![v], None)
    }

    pub(super) fn lower_num_programs(&mut self, op: OpId, axis: u8) -> Result<(), LowerError> {
        let v = self.num_programs(axis)?;
        self.define(self.f.ops[op].results[0], vec![v], None)
    }

    pub(super) fn lower_make_range(&mut self, op: OpId, start: i32) -> Result<(), LowerError> {
        let res = self.f.ops[op].results[0];
        let shape = self.f.ty(res).shape.clone();
        let layout = self
            .asg
            .layout(res)
            .cloned()
            .ok_or_else(|| self.err("make_range must produce a tensor"))?;
        let regs = self.range_regs(&layout, &shape, start)?;
        self.define(res, regs, None)
    }

    /// Splat and value hints: the registers of the operand, repeated for a splat.
    pub(super) fn lower_alias(&mut self, op: OpId) -> Result<(), LowerError> {
        let res = self.f.ops[op].results[0];
        let src = self.operand(op, 0)?;
        let n = self.num_regs(res)?;
        let regs = if src.regs.len() == n {
            src.regs.clone()
        } else if src.regs.len() == 1 {
            vec![src.regs[0]; n]
        } else {
            return Err(self.err("operand and result registers do not match"));
        };
        self.define(res, regs, src.buf)
    }

    pub(super) fn lower_broadcast(&mut self, op: OpId) -> Result<(), LowerError> {
        let res = self.f.ops[op].results[0];
        let src_v = self.f.ops[op].operands[0];
        let src = self.operand(op, 0)?;
        let (rs, ss) = (self.f.ty(res).shape.clone(), self.f.ty(src_v).shape.clone());
        let layout = self
            .asg
            .layout(res)
            .cloned()
            .ok_or_else(|| self.err("broadcast must produce a tensor"))?;
        if ss.is_empty() {
            let n = self.num_regs(res)?;
            return self.define(res, vec![src.regs[0]; n], src.buf);
        }
        if rs.len() != ss.len() {
            return Err(self.err("broadcast changes the rank"));
        }
        let (rm, sm) = (self.map(&layout, &rs)?, self.map(&layout, &ss)?);
        let mut regs = Vec::with_capacity(rm.num_regs());
        for r in 0..rm.num_regs() {
            let mut multi = rm.reg_multi(r);
            for d in 0..rs.len() {
                if ss[d] == 1 {
                    multi[d] = 0;
                }
            }
            regs.push(src.reg(sm.reg_index(&multi)));
        }
        self.define(res, regs, src.buf)
    }

    /// The operand is in `slice(axis, L)`, which places registers exactly as `L` does on the
    /// result's shape.
    pub(super) fn lower_expand_dims(&mut self, op: OpId) -> Result<(), LowerError> {
        let res = self.f.ops[op].results[0];
        let src = self.operand(op, 0)?;
        if src.regs.len() != self.num_regs(res)? {
            return Err(self.err("expand_dims operand is not in the slice layout"));
        }
        self.define(res, src.regs, src.buf)
    }

    pub(super) fn lower_elementwise(&mut self, op: OpId) -> Result<(), LowerError> {
        if self.lower_f16_bits(op)? {
            return Ok(());
        }
        let o = &self.f.ops[op];
        let kind = o.kind.clone();
        let res = o.results[0];
        let ins = self.operands(op)?;
        let ty = self.reg_ty(res)?;
        let n = self.num_regs(res)?;
        let mut buf = None;
        match &kind {
            OpKind::AddPtr => buf = ins[0].buf,
            OpKind::Select if self.f.ty(res).elem.is_ptr() => {
                if ins[1].buf != ins[2].buf {
                    return Err(self.err("select between pointers into different buffers"));
                }
                buf = ins[1].buf;
            }
            OpKind::Cast | OpKind::Bitcast
                if ins[0].buf.is_some() || self.f.ty(res).elem.is_ptr() =>
            {
                return Err(self.err("casts to or from pointers are not supported"));
            }
            _ => {}
        }
        let mut regs = Vec::with_capacity(n);
        for r in 0..n {
            let a = |i: usize| ins[i].reg(r);
            let e = match &kind {
                OpKind::Unary(u) => Expr::Unary(*u, a(0)),
                OpKind::Binary(b) => {
                    if let Some(c) = fold_int(*b, a(0), a(1), ty) {
                        regs.push(c);
                        continue;
                    }
                    Expr::Binary(*b, a(0), a(1))
                }
                OpKind::Cmp(p) => Expr::Cmp(*p, a(0), a(1)),
                OpKind::Select => Expr::Select(a(0), a(1), a(2)),
                OpKind::Cast => {
                    if ins[0].ty == ty {
                        regs.push(a(0));
                        continue;
                    }
                    Expr::Cast(a(0), SType::scalar(ty))
                }
                OpKind::Bitcast => Expr::Bitcast(a(0), SType::scalar(ty)),
                OpKind::Fma => Expr::Fma(a(0), a(1), a(2)),
                OpKind::AddPtr => {
                    let off = self.cast(a(1), ins[1].ty, ScalarType::I32);
                    regs.push(self.iadd(a(0), off));
                    continue;
                }
                _ => return Err(self.err("internal: not an elementwise op")),
            };
            regs.push(self.let_(ty, e));
        }
        self.define(res, regs, buf)
    }
}

/// Integer arithmetic on two constants, wrapped to the type's width (index math of constant
/// tensors, e.g. `arange * stride` where the range became constants).
fn fold_int(op: tm_tile::BinaryOp, a: Operand, b: Operand, ty: ScalarType) -> Option<Operand> {
    use tm_tile::BinaryOp as B;
    let (Operand::Const(Literal::Int(x), _), Operand::Const(Literal::Int(y), _)) = (a, b) else {
        return None;
    };
    if !ty.is_int() || ty.is_bool() {
        return None;
    }
    let v = match op {
        B::Add => x.wrapping_add(y),
        B::Sub => x.wrapping_sub(y),
        B::Mul => x.wrapping_mul(y),
        B::And => x & y,
        B::Or => x | y,
        B::Xor => x ^ y,
        _ => return None,
    };
    let bits = ty.bits();
    let v = if bits >= 64 {
        v
    } else if ty.is_signed_int() {
        (v << (64 - bits)) >> (64 - bits)
    } else {
        v & ((1i64 << bits) - 1)
    };
    Some(Operand::Const(Literal::Int(v), ty))
}
