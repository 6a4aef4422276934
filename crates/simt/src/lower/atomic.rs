//! Atomics (`tl.atomic_*`): read-modify-write and compare-and-swap, scalar and tensor
//! forms, masked, returning old values.
//!
//! Each element is updated exactly once: with a replicated layout (a tensor smaller than
//! the program) only the canonical holder of an element performs its atomic, and for a
//! scalar pointer only thread 0 does (Triton's semantics). The old values then reach the
//! copies, and every thread for a scalar, through a threadgroup array.
//!
//! Float data: add and exchange are native where `Target::float_atomic_add` (Metal's
//! `atomic_float`); otherwise, and for float max/min and compare-and-swap, the buffer is
//! declared as u32 words holding the bits and updated with a compare-and-swap loop.
//! Ordering (`sem`, `scope`) comes from fences around the relaxed atomics: see `fence`.
//! 64-bit integers: native where `Target::int64_atomics` (WGSL `atomic<i64>`), emulated
//! with locks in MSL (`atomic64`), refused on other WGSL targets. 8- and 16-bit atomics
//! are refused.

use tm_core::{Dialect, ScalarType, Target};
use tm_tile::{AtomicOp, BinaryOp, CmpPred, Function, OpId, OpKind};

use super::provenance::Provenance;
use super::{LVal, LowerError, Lowerer};
use crate::ir::{Expr, LocalId, Operand, SType, Space, Stmt};
use crate::layout::Layout;

/// Per parameter: whether its float atomics can all use the target's native float
/// atomics (add and exchange only, no compare-and-swap).
pub(super) fn native_float_atomics(f: &Function, prov: &Provenance, target: &Target) -> Vec<bool> {
    let mut ok = vec![target.float_atomic_add; f.params.len()];
    f.walk(|op| {
        let o = &f.ops[op];
        let native = match &o.kind {
            OpKind::AtomicRmw { op, .. } => matches!(op, AtomicOp::Add | AtomicOp::Xchg),
            OpKind::AtomicCas { .. } => false,
            _ => return,
        };
        if let Some(&b) = o.operands.first().and_then(|p| prov.base.get(p)) {
            if let Some(x) = ok.get_mut(b as usize) {
                *x &= native;
            }
        }
    });
    ok
}

/// What one element's atomic does.
#[derive(Clone, Copy)]
enum Update {
    Rmw(AtomicOp),
    Cas,
}

impl Lowerer<'_> {
    pub(super) fn check_atomic_type(&self, s: ScalarType) -> Result<(), LowerError> {
        if s.bits() == 32 && !s.is_bool() {
            return Ok(());
        }
        if s.bits() == 64 && s.is_int() {
            // Native where the device has them, emulated with locks in MSL (`atomic64`).
            if self.target.int64_atomics || self.target.dialect == Dialect::Msl {
                return Ok(());
            }
            return Err(self.err(format!(
                "64-bit atomics ({s}) need the device feature SHADER_INT64_ATOMIC_ALL_OPS \
                 (WGSL atomic<i64>), which {} does not have; use 32-bit data",
                self.target.name
            )));
        }
        let why = if s.bits() == 64 {
            "64-bit float atomics are not supported"
        } else {
            "atomics on 8- and 16-bit data are not supported"
        };
        Err(self.err(format!(
            "{why} ({s} on {}); use 32-bit data",
            self.target.name
        )))
    }

    /// i1: this thread is the canonical holder of the elements it holds of a tensor of
    /// `shape` in `layout` (its unwrapped offset along every replicated dimension is in
    /// range), so that each element is acted on once.
    pub(super) fn owner(&mut self, layout: &Layout, shape: &[u32]) -> Result<Operand, LowerError> {
        let m = self.map(layout, shape)?;
        let one = Operand::Const(tm_tile::Literal::Int(1), ScalarType::I1);
        if m.replication() == 1 {
            return Ok(one);
        }
        let (lane, warp) = (self.lane(), self.warp());
        let (simd_bits, warp_bits) = (self.simd.trailing_zeros(), self.num_warps.trailing_zeros());
        Ok(self.in_prologue(|s| {
            let mut acc = one;
            for dm in m.dims.iter().filter(|d| d.wrap) {
                let l = s.bits_of(lane, dm.lane_shift, dm.lanes, simd_bits);
                let w = s.bits_of(warp, dm.warp_shift, dm.warps, warp_bits);
                let lo = s.imul(l, dm.spt as i64);
                let hi = s.imul(w, (dm.spt * dm.lanes) as i64);
                let raw = s.iadd(lo, hi);
                let c = s.let_(
                    ScalarType::I1,
                    Expr::Cmp(CmpPred::Lt, raw, Self::i32c(dm.size as i64)),
                );
                acc = if acc == one {
                    c
                } else {
                    s.let_(ScalarType::I1, Expr::Binary(BinaryOp::And, acc, c))
                };
            }
            acc
        }))
    }

    fn bits(&mut self, v: Operand) -> Operand {
        self.let_(
            ScalarType::U32,
            Expr::Bitcast(v, SType::scalar(ScalarType::U32)),
        )
    }

    /// One element's atomic on `buf[index]`; the old value.
    fn atomic_elem(
        &mut self,
        buf: u32,
        index: Operand,
        upd: Update,
        value: Operand,
        cmp: Option<Operand>,
    ) -> Result<Operand, LowerError> {
        let info = self.bufs[buf as usize].clone();
        let ty = info.pointee;
        if ty.bits() == 64 && !self.target.int64_atomics {
            let op = match upd {
                Update::Rmw(op) => Some(op),
                Update::Cas => None,
            };
            return self.locked_atomic64(buf, index, op, value, cmp);
        }
        let dev = |dst, op, index, value| Stmt::AtomicRmw {
            dst: Some(dst),
            op,
            space: Space::Device,
            array: buf,
            index,
            value,
        };
        if !info.float_bits {
            let dst = self.local(SType::scalar(ty));
            let s = match (upd, cmp) {
                (Update::Rmw(op), _) => {
                    if ty.is_float() && !matches!(op, AtomicOp::Add | AtomicOp::Xchg) {
                        return Err(self.err(format!("atomic {op} on floats")));
                    }
                    dev(dst, op, index, value)
                }
                (Update::Cas, Some(cmp)) => Stmt::AtomicCas {
                    dst,
                    space: Space::Device,
                    array: buf,
                    index,
                    cmp,
                    value,
                },
                (Update::Cas, None) => return Err(self.err("internal: cas without compare")),
            };
            self.emit(s);
            return Ok(Operand::Local(dst));
        }
        // Float data kept as bits.
        let u = ScalarType::U32;
        let fty = SType::scalar(ty);
        let vb = self.bits(value);
        let old = self.local(SType::scalar(u));
        match (upd, cmp) {
            (Update::Rmw(AtomicOp::Xchg), _) => self.emit(dev(old, AtomicOp::Xchg, index, vb)),
            (Update::Cas, Some(cmp)) => {
                let cb = self.bits(cmp);
                self.emit(Stmt::AtomicCas {
                    dst: old,
                    space: Space::Device,
                    array: buf,
                    index,
                    cmp: cb,
                    value: vb,
                });
            }
            (Update::Rmw(op), _) => {
                let bin = match op {
                    AtomicOp::Add => BinaryOp::Add,
                    AtomicOp::Max => BinaryOp::Max,
                    AtomicOp::Min => BinaryOp::Min,
                    other => return Err(self.err(format!("atomic {other} on floats"))),
                };
                self.emit(dev(old, AtomicOp::Or, index, Self::u32c(0)));
                let (body, ()) = self.nested(|s| {
                    let of = s.let_(ty, Expr::Bitcast(Operand::Local(old), fty));
                    let nf = s.let_(ty, Expr::Binary(bin, of, value));
                    let nb = s.bits(nf);
                    let seen = s.local(SType::scalar(u));
                    s.emit(Stmt::AtomicCas {
                        dst: seen,
                        space: Space::Device,
                        array: buf,
                        index,
                        cmp: Operand::Local(old),
                        value: nb,
                    });
                    let done = s.let_(
                        ScalarType::I1,
                        Expr::Cmp(CmpPred::Eq, Operand::Local(seen), Operand::Local(old)),
                    );
                    s.emit(Stmt::If {
                        cond: done,
                        then_body: vec![Stmt::Break],
                        else_body: vec![],
                    });
                    s.set(old, Operand::Local(seen));
                    Ok(())
                })?;
                self.emit(Stmt::Loop { body });
            }
            (Update::Cas, None) => return Err(self.err("internal: cas without compare")),
        }
        Ok(self.let_(ty, Expr::Bitcast(Operand::Local(old), fty)))
    }

    /// The shared driver: `ptr` operand 0, `value` operand `vi`, optional `cmp` and mask.
    fn lower_atomic(
        &mut self,
        op: OpId,
        upd: Update,
        vi: usize,
        ci: Option<usize>,
        mi: Option<usize>,
    ) -> Result<(), LowerError> {
        let f = self.f;
        let o = &f.ops[op];
        let res = o.results[0];
        let ptr = self.operand(op, 0)?;
        let val = self.operand(op, vi)?;
        let cmp = ci.map(|i| self.operand(op, i)).transpose()?;
        let mask = mi.map(|i| self.operand(op, i)).transpose()?;
        let buf = self.buf_of(&ptr)?;
        let ty = self.bufs[buf as usize].pointee;
        self.check_atomic_type(ty)?;
        let shape = f.ty(o.operands[0]).shape.clone();
        let layout = self.asg.request(op, 0).cloned();
        let (n, owner, replicated) = match &layout {
            None => {
                let tid = self.lane_zero_owner();
                (1, tid, true)
            }
            Some(l) => {
                let m = self.map(l, &shape)?;
                let own = self.owner(l, &shape)?;
                (m.num_regs(), own, m.replication() > 1)
            }
        };
        let order = self.atomic_ordering(op);
        self.release_fence(order);
        let olds: Vec<LocalId> = (0..n).map(|_| self.local(SType::scalar(ty))).collect();
        for (r, &old) in olds.iter().enumerate() {
            let cond = match &mask {
                Some(m) => {
                    let mr = m.reg(r);
                    self.and_i1(mr, owner)
                }
                None => owner,
            };
            let vty = val.ty;
            let (body, ()) = self.nested(|s| {
                let v = s.cast(val.reg(r), vty, ty);
                let c = cmp.as_ref().map(|c| {
                    let cty = c.ty;
                    s.cast(c.reg(r), cty, ty)
                });
                let o = s.atomic_elem(buf, ptr.reg(r), upd, v, c)?;
                s.set(old, o);
                Ok(())
            })?;
            self.set(old, Self::zero(ty));
            self.emit_if(cond, body, Vec::new());
        }
        self.acquire_fence(order);
        let mut regs: Vec<Operand> = olds.iter().map(|&l| Operand::Local(l)).collect();
        if replicated {
            regs = self.share_old_values(&regs, ty, owner, layout.as_ref(), &shape)?;
        }
        self.define(res, regs, None)
    }

    pub(super) fn and_i1(&mut self, a: Operand, b: Operand) -> Operand {
        let one = Operand::Const(tm_tile::Literal::Int(1), ScalarType::I1);
        if b == one {
            return a;
        }
        if a == one {
            return b;
        }
        self.let_(ScalarType::I1, Expr::Binary(BinaryOp::And, a, b))
    }

    /// i1: thread 0 (the one thread that performs a scalar atomic).
    pub(super) fn lane_zero_owner(&mut self) -> Operand {
        let lane = self.lane();
        let warp = self.warp();
        self.in_prologue(|s| {
            let t = s.let_(ScalarType::I32, Expr::Binary(BinaryOp::Or, lane, warp));
            s.let_(ScalarType::I1, Expr::Cmp(CmpPred::Eq, t, Self::i32c(0)))
        })
    }

    /// Owners publish their old values; every thread reads those of its elements.
    fn share_old_values(
        &mut self,
        regs: &[Operand],
        ty: ScalarType,
        owner: Operand,
        layout: Option<&Layout>,
        shape: &[u32],
    ) -> Result<Vec<Operand>, LowerError> {
        let Some(layout) = layout else {
            return Ok(vec![self.broadcast_thread_zero(regs[0], ty, owner)?]);
        };
        let m = self.map(layout, shape)?;
        let numel = u32::try_from(m.numel()).map_err(|_| self.err("tensor too large"))?;
        let arr = self.scratch(self.shared_ty(ty), numel);
        let tmp = LVal {
            regs: regs.to_vec(),
            layout: Some(layout.clone()),
            ty,
            buf: None,
        };
        let st = m.strides().iter().map(|&x| x as i64).collect::<Vec<_>>();
        let (body, ()) = self.nested(|s| s.scatter_regs(&tmp, shape, &st, 0, arr))?;
        self.emit_if(owner, body, Vec::new());
        self.emit(Stmt::Barrier);
        let out = self.gather_regs(layout, shape, &st, 0, arr, ty)?;
        self.emit(Stmt::Barrier);
        self.release(arr);
        Ok(out)
    }

    pub(super) fn lower_atomic_rmw(
        &mut self,
        op: OpId,
        aop: AtomicOp,
        has_mask: bool,
    ) -> Result<(), LowerError> {
        self.lower_atomic(op, Update::Rmw(aop), 1, None, has_mask.then_some(2))
    }

    pub(super) fn lower_atomic_cas(&mut self, op: OpId) -> Result<(), LowerError> {
        self.lower_atomic(op, Update::Cas, 2, Some(1), None)
    }
}
