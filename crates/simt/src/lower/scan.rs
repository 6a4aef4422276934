//! Scans (`tl.cumsum`, `tl.cumprod`, `tl.associative_scan`, `reverse`) along any axis.
//!
//! Along the axis a layout splits the elements into repeats (outermost), simdgroups,
//! lanes and each thread's contiguous run. The scan runs in that order: within the
//! thread's run, then across the lanes of the axis with shuffle_up (Hillis–Steele), then
//! across simdgroups and repeats through a threadgroup array holding every simdgroup's
//! total. The combine region has no identity, so "no predecessor" is tracked with i1
//! flags and selects instead of an identity element. `reverse` runs the same steps in the
//! mirrored order (shuffle_down, later simdgroups and repeats first). Replicated copies
//! (an axis shorter than the layout's tile) compute the same values as the elements they
//! copy.

use tm_core::ScalarType;
use tm_tile::{BinaryOp, CmpPred, Literal, OpId};

use super::{LowerError, Lowerer};
use crate::ir::{Expr, Operand, SimdOp, Stmt};

fn i1(v: bool) -> Operand {
    Operand::Const(Literal::Int(v as i64), ScalarType::I1)
}

impl Lowerer<'_> {
    /// `valid ? (has ? combine(acc, new) : new) : acc`, and `has | valid`; folded when the
    /// flags are constants.
    fn maybe_combine(
        &mut self,
        op: OpId,
        acc: &[Operand],
        has: Operand,
        new: &[Operand],
        valid: Operand,
        tys: &[ScalarType],
    ) -> Result<(Vec<Operand>, Operand), LowerError> {
        if valid == i1(false) {
            return Ok((acc.to_vec(), has));
        }
        let merged = if has == i1(false) {
            new.to_vec()
        } else {
            let c = self.combine(op, acc, new, tys)?;
            if has == i1(true) {
                c
            } else {
                c.iter()
                    .zip(new)
                    .zip(tys)
                    .map(|((&c, &n), &t)| self.let_(t, Expr::Select(has, c, n)))
                    .collect()
            }
        };
        if valid == i1(true) {
            return Ok((merged, i1(true)));
        }
        // Without a predecessor `acc` is a placeholder (an i32 zero, not of the value's
        // type) that is never read, since the returned flag is `valid` itself.
        if has == i1(false) {
            return Ok((merged, valid));
        }
        let out = merged
            .iter()
            .zip(acc)
            .zip(tys)
            .map(|((&m, &a), &t)| self.let_(t, Expr::Select(valid, m, a)))
            .collect();
        let has = self.let_(ScalarType::I1, Expr::Binary(BinaryOp::Or, has, valid));
        Ok((out, has))
    }

    pub(super) fn lower_scan(&mut self, op: OpId, axis: u32, rev: bool) -> Result<(), LowerError> {
        let f = self.f;
        let o = &f.ops[op];
        if o.operands.is_empty() || o.regions.len() != 1 {
            return Err(self.err("scan needs operands and a combine region"));
        }
        let ins = self.operands(op)?;
        let layout = self
            .asg
            .request(op, 0)
            .cloned()
            .ok_or_else(|| self.err("scan operands must be tensors"))?;
        let shape = f.ty(o.operands[0]).shape.clone();
        let a = axis as usize;
        if a >= shape.len() {
            return Err(self.err(format!("scan axis {axis} out of range")));
        }
        let m = self.map(&layout, &shape)?;
        let dm = m.dims[a].clone();
        let tys: Vec<ScalarType> = ins.iter().map(|v| v.ty).collect();
        let nv = ins.len();
        let run = dm.spt.min(dm.size).min(dm.regs);
        let reps = dm.regs / run;
        let dl = dm.lanes.min((dm.size / run).max(1));
        let wd = dm.distinct_warps();
        if dl > 1 && !self.target.simd_ops {
            return Err(self.err(format!(
                "scans need simdgroup shuffles, which {} lacks",
                self.target.name
            )));
        }
        // The axis lane index in scan order (mirrored for reverse).
        let simd_bits = self.simd.trailing_zeros();
        let lane = self.lane();
        let ax_lane = self.in_prologue(|s| {
            let l = s.bits_of(lane, dm.lane_shift, dm.lanes, simd_bits);
            let l = if dl < dm.lanes {
                s.let_(
                    ScalarType::I32,
                    Expr::Binary(BinaryOp::And, l, Self::i32c(dl as i64 - 1)),
                )
            } else {
                l
            };
            if rev {
                s.let_(
                    ScalarType::I32,
                    Expr::Binary(BinaryOp::Sub, Self::i32c(dl as i64 - 1), l),
                )
            } else {
                l
            }
        });
        let warp = self.warp();
        let warp_bits = self.num_warps.trailing_zeros();
        let wslot = self.in_prologue(|s| {
            let w = s.bits_of(warp, dm.warp_shift, dm.warps, warp_bits);
            if wd < dm.warps {
                s.let_(
                    ScalarType::I32,
                    Expr::Binary(BinaryOp::And, w, Self::i32c(wd as i64 - 1)),
                )
            } else {
                w
            }
        });
        let shuffle = if rev {
            SimdOp::ShuffleDown
        } else {
            SimdOp::ShuffleUp
        };

        // Row bases: registers with axis index 0.
        let rows: Vec<usize> = (0..m.num_regs())
            .filter(|&r| m.reg_multi(r)[a] == 0)
            .collect();
        let reg_at = |r0: usize, i: u32| -> usize {
            let mut multi = m.reg_multi(r0);
            multi[a] = i;
            m.reg_index(&multi)
        };
        // Per (row, rep): local inclusive values per run position, and the lane-inclusive
        // total and lane-exclusive prefix.
        struct Block {
            local: Vec<Vec<Operand>>,
            excl: Vec<Operand>,
            has_excl: Operand,
            inc: Vec<Operand>,
        }
        let mut blocks: Vec<Vec<Block>> = Vec::new();
        for &r0 in &rows {
            let mut per_rep = Vec::new();
            for rep in 0..reps {
                let order: Vec<u32> = if rev {
                    (0..run).rev().collect()
                } else {
                    (0..run).collect()
                };
                let mut local: Vec<Vec<Operand>> = vec![Vec::new(); run as usize];
                let mut acc: Vec<Operand> = Vec::new();
                for (j, &s) in order.iter().enumerate() {
                    let r = reg_at(r0, rep * run + s);
                    let x: Vec<Operand> = ins.iter().map(|v| v.reg(r)).collect();
                    acc = if j == 0 {
                        x
                    } else {
                        self.combine(op, &acc, &x, &tys)?
                    };
                    local[s as usize] = acc.clone();
                }
                // Hillis–Steele over the lanes of the axis.
                let mut inc = acc;
                let mut d = 1;
                while d < dl {
                    let other: Vec<Operand> = inc
                        .iter()
                        .zip(&tys)
                        .map(|(&x, &t)| self.shuffle(shuffle, x, t, d << dm.lane_shift))
                        .collect();
                    let valid = self.let_(
                        ScalarType::I1,
                        Expr::Cmp(CmpPred::Ge, ax_lane, Self::i32c(d as i64)),
                    );
                    let c = self.combine(op, &other, &inc, &tys)?;
                    inc = c
                        .iter()
                        .zip(&inc)
                        .zip(&tys)
                        .map(|((&c, &x), &t)| self.let_(t, Expr::Select(valid, c, x)))
                        .collect();
                    d *= 2;
                }
                let (excl, has_excl) = if dl > 1 {
                    let e = inc
                        .iter()
                        .zip(&tys)
                        .map(|(&x, &t)| self.shuffle(shuffle, x, t, 1 << dm.lane_shift))
                        .collect();
                    let h = self.let_(
                        ScalarType::I1,
                        Expr::Cmp(CmpPred::Ge, ax_lane, Self::i32c(1)),
                    );
                    (e, h)
                } else {
                    (inc.clone(), i1(false))
                };
                per_rep.push(Block {
                    local,
                    excl,
                    has_excl,
                    inc,
                });
            }
            blocks.push(per_rep);
        }

        // Simdgroup and repeat totals through threadgroup memory.
        let mut prefixes: Vec<Vec<(Vec<Operand>, Operand)>> = Vec::new();
        if wd > 1 || reps > 1 {
            let rows_n = (m.numel() / dm.size as u64) as u32;
            let slots = reps * wd;
            let arrs: Vec<u32> = tys
                .iter()
                .map(|&t| self.scratch(self.shared_ty(t), slots * rows_n))
                .collect();
            let mut row_st = vec![0i64; shape.len()];
            let mut acc = 1i64;
            for d in (0..shape.len()).rev() {
                if d != a {
                    row_st[d] = acc;
                    acc *= shape[d] as i64;
                }
            }
            let mut ts = Vec::new();
            for d in 0..shape.len() {
                ts.push(self.dim_offset(&layout, &shape, d)?);
            }
            let row_base = self.in_prologue(|s| {
                let mut acc = Self::i32c(0);
                for (o, &st) in ts.iter().zip(&row_st) {
                    let t = s.imul(*o, st);
                    acc = s.iadd(acc, t);
                }
                acc
            });
            let row_off = |r0: usize| -> i64 {
                m.reg_offsets(r0)
                    .iter()
                    .zip(&row_st)
                    .map(|(&o, &s)| o as i64 * s)
                    .sum()
            };
            let last = self.let_(
                ScalarType::I1,
                Expr::Cmp(CmpPred::Eq, ax_lane, Self::i32c(dl as i64 - 1)),
            );
            let wbase = self.imul(wslot, rows_n as i64);
            for (ri, &r0) in rows.iter().enumerate() {
                for rep in 0..reps {
                    let at = self.iadd(
                        row_base,
                        Self::i32c(row_off(r0) + (rep * wd * rows_n) as i64),
                    );
                    let at = self.iadd(at, wbase);
                    let inc = blocks[ri][rep as usize].inc.clone();
                    let (body, ()) = self.nested(|s| {
                        for ((&arr, &x), &t) in arrs.iter().zip(&inc).zip(&tys) {
                            s.shared_store(arr, at, x, t);
                        }
                        Ok(())
                    })?;
                    self.emit_if(last, body, Vec::new());
                }
            }
            self.emit(Stmt::Barrier);
            for &r0 in &rows {
                let mut carry: Vec<Operand> = vec![Self::i32c(0); nv];
                let mut has_carry = i1(false);
                let mut row_pref = vec![(Vec::new(), i1(false)); reps as usize];
                let rep_order: Vec<u32> = if rev {
                    (0..reps).rev().collect()
                } else {
                    (0..reps).collect()
                };
                for &rep in &rep_order {
                    let mut pre = carry.clone();
                    let mut has = has_carry;
                    let mut total = carry.clone();
                    let mut has_total = has_carry;
                    let w_order: Vec<u32> = if rev {
                        (0..wd).rev().collect()
                    } else {
                        (0..wd).collect()
                    };
                    for &w in &w_order {
                        let at = self.iadd(
                            row_base,
                            Self::i32c(row_off(r0) + ((rep * wd + w) * rows_n) as i64),
                        );
                        let vals: Vec<Operand> = arrs
                            .iter()
                            .zip(&tys)
                            .map(|(&arr, &t)| self.shared_load(arr, at, t))
                            .collect();
                        // Simdgroups before this one in scan order.
                        let before = if wd == 1 {
                            i1(false)
                        } else {
                            let p = if rev { CmpPred::Gt } else { CmpPred::Lt };
                            self.let_(ScalarType::I1, Expr::Cmp(p, Self::i32c(w as i64), wslot))
                        };
                        let (p2, h2) = self.maybe_combine(op, &pre, has, &vals, before, &tys)?;
                        pre = p2;
                        has = h2;
                        let (t2, ht) =
                            self.maybe_combine(op, &total, has_total, &vals, i1(true), &tys)?;
                        total = t2;
                        has_total = ht;
                    }
                    row_pref[rep as usize] = (pre, has);
                    carry = total;
                    has_carry = has_total;
                }
                prefixes.push(row_pref);
            }
            self.emit(Stmt::Barrier);
            for arr in arrs {
                self.release(arr);
            }
        }

        let mut out: Vec<Vec<Operand>> = vec![vec![Self::i32c(0); m.num_regs()]; nv];
        for (ri, &r0) in rows.iter().enumerate() {
            for rep in 0..reps {
                let b = &blocks[ri][rep as usize];
                let (mut pre, mut has) = match prefixes.get(ri) {
                    Some(p) => p[rep as usize].clone(),
                    None => (vec![Self::i32c(0); nv], i1(false)),
                };
                let (excl, has_excl) = (b.excl.clone(), b.has_excl);
                let (p2, h2) = self.maybe_combine(op, &pre, has, &excl, has_excl, &tys)?;
                pre = p2;
                has = h2;
                for s in 0..run {
                    let r = reg_at(r0, rep * run + s);
                    let local = b.local[s as usize].clone();
                    let (v, _) = self.maybe_combine(op, &pre, has, &local, i1(true), &tys)?;
                    for k in 0..nv {
                        out[k][r] = v[k];
                    }
                }
            }
        }
        for (k, &res) in o.results.iter().enumerate() {
            self.define(res, out[k].clone(), None)?;
        }
        Ok(())
    }
}
