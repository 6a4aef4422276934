//! Structured control flow. Values carried by loops and produced by ifs live in locals that
//! every path assigns; tensors carried this way keep one layout (assignment made sure).
//! Tile IR conditions and bounds are scalars, so all threads of a program take the same
//! path and barriers inside these bodies are safe.

use tm_tile::{OpId, ValueId};

use super::{LVal, LowerError, Lowerer};
use crate::ir::{LocalId, Operand, SType, Stmt};

impl Lowerer<'_> {
    /// Fresh locals for the registers of `v` (a loop-carried value or an op result).
    /// None for a value in matrix registers (matrix.rs: a loop-carried dot accumulator).
    fn slots(&mut self, v: ValueId) -> Result<Vec<LocalId>, LowerError> {
        if self.asg.in_matrix(v) {
            return Ok(Vec::new());
        }
        let ty = self.reg_ty(v)?;
        let n = self.num_regs(v)?;
        Ok((0..n).map(|_| self.local(SType::scalar(ty))).collect())
    }

    fn bind(&mut self, v: ValueId, slots: &[LocalId], buf: Option<u32>) -> Result<(), LowerError> {
        let regs = slots.iter().map(|&l| Operand::Local(l)).collect();
        self.define(v, regs, buf)
    }

    /// Assign the registers of operands `from..` of the terminator `term` to `slots`, all
    /// reads before any write (a yield may swap carried values).
    fn assign_all(
        &mut self,
        term: OpId,
        from: usize,
        slots: &[Vec<LocalId>],
    ) -> Result<Vec<Option<u32>>, LowerError> {
        let mut vals: Vec<LVal> = Vec::new();
        for (i, s) in slots.iter().enumerate() {
            let v = self.f.ops[term].operands[from + i];
            if s.is_empty() && self.asg.in_matrix(v) {
                // A matrix-register slot: lower_for moved it already.
                vals.push(self.value(v)?);
                continue;
            }
            vals.push(self.operand(term, from + i)?);
        }
        let written: Vec<LocalId> = slots.iter().flatten().copied().collect();
        let mut pairs = Vec::new();
        for (v, s) in vals.iter().zip(slots) {
            for (r, &dst) in s.iter().enumerate() {
                let src = v.reg(r);
                if src != Operand::Local(dst) {
                    pairs.push((dst, src));
                }
            }
        }
        let clash = pairs
            .iter()
            .any(|(dst, src)| matches!(src, Operand::Local(l) if written.contains(l) && l != dst));
        if clash {
            let tmps: Vec<Operand> = pairs
                .iter()
                .map(|&(dst, src)| {
                    let ty = self.locals[dst].ty;
                    self.let_v(ty, crate::ir::Expr::Operand(src))
                })
                .collect();
            for (&(dst, _), t) in pairs.iter().zip(tmps) {
                self.set(dst, t);
            }
        } else {
            for (dst, src) in pairs {
                self.set(dst, src);
            }
        }
        Ok(vals.iter().map(|v| v.buf).collect())
    }

    fn terminator(&self, op: OpId, t: Option<OpId>, kind: &str) -> Result<OpId, LowerError> {
        t.filter(|&t| self.f.ops[t].kind.name() == kind)
            .ok_or_else(|| {
                LowerError::new(
                    format!(
                        "region of '{}' must end in {kind}",
                        self.f.ops[op].kind.name()
                    ),
                    self.f.ops[op].loc,
                )
            })
    }

    pub(super) fn lower_for(&mut self, op: OpId) -> Result<(), LowerError> {
        let f = self.f;
        let o = &f.ops[op];
        let body = o.regions[0];
        let args = f.blocks[body].args.clone();
        let (lb, ub, step) = (
            self.value(o.operands[0])?,
            self.value(o.operands[1])?,
            self.value(o.operands[2])?,
        );
        let mut slots = Vec::new();
        for &r in &o.results {
            slots.push(self.slots(r)?);
        }
        // Initial values flow in through the same assignment as yields do; a slot in matrix
        // registers takes its initial value's matrices (or a copy, or converted registers).
        let mut inits: Vec<LVal> = Vec::new();
        let mut helds = Vec::new();
        for (i, &r) in o.results.iter().enumerate() {
            if self.asg.in_matrix(r) {
                let h = self.held_operand(op, 3 + i)?;
                inits.push(LVal {
                    regs: Vec::new(),
                    layout: self.asg.layout(r).cloned(),
                    ty: self.reg_ty(r)?,
                    buf: None,
                });
                helds.push(Some(h));
            } else {
                inits.push(self.operand(op, 3 + i)?);
                helds.push(None);
            }
        }
        for (v, s) in inits.iter().zip(&slots) {
            for (r, &dst) in s.iter().enumerate() {
                self.set(dst, v.reg(r));
            }
        }
        let iv_ty = self.reg_ty(args[0])?;
        let var = self.local(SType::scalar(iv_ty));
        self.vals.insert(
            args[0],
            LVal {
                regs: vec![Operand::Local(var)],
                layout: None,
                ty: iv_ty,
                buf: None,
            },
        );
        for (((&arg, s), init), h) in args[1..].iter().zip(&slots).zip(&inits).zip(&helds) {
            match h {
                Some(h) => self.define_held(arg, h.clone())?,
                None => self.bind(arg, s, init.buf)?,
            }
        }
        // Loops accumulating in matrix registers load one iteration ahead (pipeline.rs).
        let plan = self.prefetch_plan(op);
        let prefetched = match &plan {
            Some(p) => self.prefetch_first(p, args[0], lb.regs[0], ub.regs[0], iv_ty)?,
            None => Vec::new(),
        };
        let (stmts, ()) = self.nested(|s| {
            let t = match &plan {
                Some(p) => s.lower_prefetched_body(
                    body,
                    p,
                    &prefetched,
                    args[0],
                    Operand::Local(var),
                    step.regs[0],
                    ub.regs[0],
                    iv_ty,
                )?,
                None => s.lower_ops(body)?,
            };
            let t = s.terminator(op, t, "yield")?;
            s.loc = s.f.ops[t].loc;
            for (i, h) in helds.iter().enumerate() {
                if let Some(h) = h {
                    let y = s.f.ops[t].operands[i];
                    let from = s.held_value(y)?;
                    s.assign_held(h, &from);
                }
            }
            s.assign_all(t, 0, &slots)?;
            Ok(())
        })?;
        self.loc = o.loc;
        self.emit(Stmt::For {
            var,
            start: lb.regs[0],
            end: ub.regs[0],
            step: step.regs[0],
            body: stmts,
        });
        for (((&r, s), init), h) in o.results.iter().zip(&slots).zip(&inits).zip(helds) {
            match h {
                Some(h) => self.define_held(r, h)?,
                None => self.bind(r, s, init.buf)?,
            }
        }
        Ok(())
    }

    pub(super) fn lower_if(&mut self, op: OpId) -> Result<(), LowerError> {
        let f = self.f;
        let o = &f.ops[op];
        let cond = self.value(o.operands[0])?;
        let mut slots = Vec::new();
        for &r in &o.results {
            slots.push(self.slots(r)?);
        }
        let mut bodies = Vec::new();
        let mut bufs = vec![None; slots.len()];
        for &region in &o.regions {
            let (stmts, b) = self.nested(|s| {
                let t = s.lower_ops(region)?;
                if slots.is_empty() && t.is_none() {
                    return Ok(Vec::new());
                }
                let t = s.terminator(op, t, "yield")?;
                s.loc = s.f.ops[t].loc;
                s.assign_all(t, 0, &slots)
            })?;
            for (x, y) in bufs.iter_mut().zip(b) {
                *x = x.or(y);
            }
            bodies.push(stmts);
        }
        self.loc = o.loc;
        let else_body = if bodies.len() > 1 {
            bodies.pop().unwrap_or_default()
        } else {
            Vec::new()
        };
        let then_body = bodies.pop().unwrap_or_default();
        self.emit_if(cond.regs[0], then_body, else_body);
        for ((&r, s), b) in o.results.iter().zip(&slots).zip(bufs) {
            self.bind(r, s, b)?;
        }
        Ok(())
    }

    /// `loop { before; results = cond values; if !cond break; after; carried = yields }`.
    pub(super) fn lower_while(&mut self, op: OpId) -> Result<(), LowerError> {
        let f = self.f;
        let o = &f.ops[op];
        let (before, after) = (o.regions[0], o.regions[1]);
        let mut carried = Vec::new();
        for &a in &f.blocks[before].args {
            carried.push(self.slots(a)?);
        }
        let mut results = Vec::new();
        for &r in &o.results {
            results.push(self.slots(r)?);
        }
        let inits: Vec<LVal> = (0..o.operands.len())
            .map(|i| self.operand(op, i))
            .collect::<Result<_, _>>()?;
        for (v, s) in inits.iter().zip(&carried) {
            for (r, &dst) in s.iter().enumerate() {
                self.set(dst, v.reg(r));
            }
        }
        for ((&arg, s), init) in f.blocks[before].args.iter().zip(&carried).zip(&inits) {
            self.bind(arg, s, init.buf)?;
        }
        let (stmts, ()) = self.nested(|s| {
            let t = s.lower_ops(before)?;
            let t = s.terminator(op, t, "condition")?;
            s.loc = s.f.ops[t].loc;
            let cond = s.value(s.f.ops[t].operands[0])?;
            let bufs = s.assign_all(t, 1, &results)?;
            s.emit_if(cond.regs[0], Vec::new(), vec![Stmt::Break]);
            for ((&arg, sl), b) in s.f.blocks[after].args.iter().zip(&results).zip(&bufs) {
                s.bind(arg, sl, *b)?;
            }
            for ((&r, sl), b) in o.results.iter().zip(&results).zip(bufs) {
                s.bind(r, sl, b)?;
            }
            let t = s.lower_ops(after)?;
            let t = s.terminator(op, t, "yield")?;
            s.loc = s.f.ops[t].loc;
            s.assign_all(t, 0, &carried)?;
            Ok(())
        })?;
        self.loc = o.loc;
        self.emit(Stmt::Loop { body: stmts });
        Ok(())
    }
}
