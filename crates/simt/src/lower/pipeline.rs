//! Register prefetch for `for` loops that accumulate a dot in matrix registers (assign.rs):
//! the global loads that feed the loop's matrix dots are issued one iteration ahead, so their
//! latency overlaps the staging and the matrix multiplies of the current iteration (the
//! software pipelining that Triton's `num_stages` asks for, done in registers).
//!
//! Before the loop, `if lb < ub` loads iteration `lb`'s operands into prefetch registers
//! `P`. Each iteration then:
//! 1. computes the yielded values the next loads need (pointer increments: pure ops of the
//!    current iteration, lowered early and not again);
//! 2. `if iv + step < ub`: evaluates the load operands for `iv + step` and the yielded
//!    values, and loads them into temporaries `T`;
//! 3. runs the body, the prefetched loads reading `P`;
//! 4. `if iv + step < ub`: `P = T`.
//!
//! Taken only when the body has no side effects besides those loads (no stores, atomics,
//! prints; no nested control flow), so issuing the loads early cannot change what they read,
//! and when the loads' addresses and masks depend on pure ops alone.

use rustc_hash::FxHashSet;
use tm_core::ScalarType;
use tm_tile::{BlockId, CmpPred, OpId, OpKind, ValueId};

use super::{LVal, LowerError, Lowerer};
use crate::ir::{Expr, LocalId, Operand, SType};

pub(super) struct Prefetch {
    /// The prefetched loads, in body order.
    loads: Vec<OpId>,
    /// Body ops the loads' operands are computed from, in body order.
    next_slice: Vec<OpId>,
    /// Body ops the yields of the carried values in `next_slice` come from, in body order.
    yield_slice: Vec<OpId>,
}

fn pure(kind: &OpKind) -> bool {
    matches!(
        kind,
        OpKind::Constant(_)
            | OpKind::MakeRange { .. }
            | OpKind::Splat
            | OpKind::Broadcast
            | OpKind::ExpandDims(_)
            | OpKind::Unary(_)
            | OpKind::Binary(_)
            | OpKind::Cmp(_)
            | OpKind::Select
            | OpKind::Cast
            | OpKind::Bitcast
            | OpKind::Fma
            | OpKind::AddPtr
            | OpKind::Hint { .. }
            | OpKind::ProgramId(_)
            | OpKind::NumPrograms(_)
    )
}

impl Lowerer<'_> {
    /// The prefetch plan of `for` op `op`, if it has one (module docs).
    pub(super) fn prefetch_plan(&self, op: OpId) -> Option<Prefetch> {
        let f = self.f;
        let o = &f.ops[op];
        if !o.results.iter().any(|&r| self.asg.in_matrix(r)) {
            return None;
        }
        if (0..f.params.len()).any(|i| self.f16_words(i)) {
            return None;
        }
        let body: BlockId = *o.regions.first()?;
        let blk = &f.blocks[body];
        let term = *blk.ops.last()?;
        if !matches!(f.ops[term].kind, OpKind::Yield) {
            return None;
        }
        let ops = &blk.ops[..blk.ops.len() - 1];
        for &x in ops {
            let k = &f.ops[x].kind;
            if !(pure(k) || matches!(k, OpKind::Load { .. } | OpKind::Dot { .. })) {
                return None;
            }
        }
        let in_body = |v: ValueId| f.def_op(v).filter(|d| ops.contains(d));
        let mut loads = Vec::new();
        for &x in ops {
            let xo = &f.ops[x];
            if matches!(xo.kind, OpKind::Dot { .. }) && self.asg.in_matrix(xo.results[0]) {
                for &v in &xo.operands[..2] {
                    if let Some(d) = in_body(v) {
                        if matches!(f.ops[d].kind, OpKind::Load { .. }) && !loads.contains(&d) {
                            loads.push(d);
                        }
                    }
                }
            }
        }
        if loads.is_empty() {
            return None;
        }
        // Backward closure over body ops; None if it reaches a load or a dot.
        let closure = |roots: Vec<ValueId>| -> Option<(FxHashSet<OpId>, FxHashSet<ValueId>)> {
            let (mut seen, mut args) = (FxHashSet::default(), FxHashSet::default());
            let mut stack = roots;
            while let Some(v) = stack.pop() {
                match in_body(v) {
                    Some(d) => {
                        if !pure(&f.ops[d].kind) {
                            return None;
                        }
                        if seen.insert(d) {
                            stack.extend(f.ops[d].operands.iter().copied());
                        }
                    }
                    None => {
                        if blk.args.contains(&v) {
                            args.insert(v);
                        }
                    }
                }
            }
            Some((seen, args))
        };
        let roots: Vec<ValueId> = loads
            .iter()
            .flat_map(|&l| f.ops[l].operands.iter().copied())
            .collect();
        let (next, args) = closure(roots)?;
        let mut yroots = Vec::new();
        for (i, &a) in blk.args.iter().enumerate().skip(1) {
            if args.contains(&a) {
                let y = *f.ops[term].operands.get(i - 1)?;
                if self.asg.in_matrix(y) {
                    return None;
                }
                yroots.push(y);
            }
        }
        let (yslice, _) = closure(yroots)?;
        let order = |s: &FxHashSet<OpId>| -> Vec<OpId> {
            ops.iter().copied().filter(|x| s.contains(x)).collect()
        };
        Some(Prefetch {
            loads,
            next_slice: order(&next),
            yield_slice: order(&yslice),
        })
    }

    /// Lower the slice and the loads of `p` with the current bindings; the loaded registers.
    fn prefetch_loads(&mut self, p: &Prefetch) -> Result<Vec<LVal>, LowerError> {
        for &x in &p.next_slice {
            self.loc = self.f.ops[x].loc;
            self.lower_op(x)?;
        }
        let mut out = Vec::new();
        for &l in &p.loads {
            self.loc = self.f.ops[l].loc;
            self.lower_op(l)?;
            out.push(self.value(self.f.ops[l].results[0])?);
        }
        Ok(out)
    }

    /// Fresh locals holding `v`'s registers, assigned in the current body.
    fn hold(&mut self, v: &LVal) -> Vec<LocalId> {
        v.regs
            .iter()
            .map(|&r| {
                let l = self.local(SType::scalar(v.ty));
                self.set(l, r);
                l
            })
            .collect()
    }

    /// Before the loop: `if lb < ub`, iteration `lb`'s loads into the prefetch registers.
    /// `iv` is the induction variable's block argument; the carried arguments are bound
    /// to their initial values already.
    pub(super) fn prefetch_first(
        &mut self,
        p: &Prefetch,
        iv: ValueId,
        lb: Operand,
        ub: Operand,
        iv_ty: ScalarType,
    ) -> Result<Vec<(LVal, Vec<LocalId>)>, LowerError> {
        let saved = self.vals.clone();
        self.vals.insert(
            iv,
            LVal {
                regs: vec![lb],
                layout: None,
                ty: iv_ty,
                buf: None,
            },
        );
        // Declare the registers outside the `if`, fill them inside.
        let mut regs = Vec::new();
        let (body, ()) = self.nested(|s| {
            let vals = s.prefetch_loads(p)?;
            for v in vals {
                let locals = s.hold(&v);
                regs.push((v, locals));
            }
            Ok(())
        })?;
        self.vals = saved;
        let cond = self.let_(ScalarType::I1, Expr::Cmp(CmpPred::Lt, lb, ub));
        self.emit_if(cond, body, Vec::new());
        Ok(regs)
    }

    /// Lower a pipelined body (module docs): returns its terminator, like `lower_ops`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn lower_prefetched_body(
        &mut self,
        body: BlockId,
        p: &Prefetch,
        regs: &[(LVal, Vec<LocalId>)],
        iv: ValueId,
        var: Operand,
        step: Operand,
        ub: Operand,
        iv_ty: ScalarType,
    ) -> Result<Option<OpId>, LowerError> {
        let f = self.f;
        // The prefetched loads read P.
        for (&l, (v, locals)) in p.loads.iter().zip(regs) {
            let r = f.ops[l].results[0];
            self.vals.insert(
                r,
                LVal {
                    regs: locals.iter().map(|&x| Operand::Local(x)).collect(),
                    ..v.clone()
                },
            );
        }
        // 1. The yields the next loads need, from the current iteration.
        let mut done: FxHashSet<OpId> = p.loads.iter().copied().collect();
        for &x in &p.yield_slice {
            self.loc = f.ops[x].loc;
            self.lower_op(x)?;
            done.insert(x);
        }
        // 2. The next iteration's loads into T.
        let next = self.let_(iv_ty, Expr::Binary(tm_tile::BinaryOp::Add, var, step));
        let cond = self.let_(ScalarType::I1, Expr::Cmp(CmpPred::Lt, next, ub));
        let blk = &f.blocks[body];
        let term = blk.ops.last().copied();
        let saved = self.vals.clone();
        let mut rebind = vec![(
            iv,
            LVal {
                regs: vec![next],
                layout: None,
                ty: iv_ty,
                buf: None,
            },
        )];
        if let Some(t) = term {
            for (i, &a) in blk.args.iter().enumerate().skip(1) {
                if let Some(&y) = f.ops[t].operands.get(i - 1) {
                    if !self.asg.in_matrix(y) && self.vals.contains_key(&y) {
                        rebind.push((a, self.value(y)?));
                    }
                }
            }
        }
        for (a, v) in rebind {
            self.vals.insert(a, v);
        }
        let mut temps = Vec::new();
        let (pre, ()) = self.nested(|s| {
            for v in s.prefetch_loads(p)? {
                temps.push(s.hold(&v));
            }
            Ok(())
        })?;
        self.vals = saved;
        self.emit_if(cond, pre, Vec::new());
        // 3. The body.
        let mut t = None;
        for &x in &blk.ops {
            if f.ops[x].kind.is_terminator() {
                t = Some(x);
                break;
            }
            if done.contains(&x) {
                continue;
            }
            self.loc = f.ops[x].loc;
            self.lower_op(x)?;
        }
        // 4. P = T.
        let (swap, ()) = self.nested(|s| {
            for ((_, p_locals), t_locals) in regs.iter().zip(&temps) {
                for (&dst, &src) in p_locals.iter().zip(t_locals) {
                    s.set(dst, Operand::Local(src));
                }
            }
            Ok(())
        })?;
        self.emit_if(cond, swap, Vec::new());
        Ok(t)
    }
}
