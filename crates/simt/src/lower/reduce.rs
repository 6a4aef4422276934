//! Reductions: combine a thread's own registers along the axis, then across the lanes of
//! the simdgroup with xor-shuffle butterflies, then across simdgroups through a threadgroup
//! array. Only lanes and simdgroups that hold *different* elements along the axis are
//! combined, so replicated elements (tensors smaller than the layout's tile) are counted
//! once.

use tm_core::ScalarType;
use tm_tile::{BinaryOp, CmpPred, OpId, OpKind};

use super::{LVal, LowerError, Lowerer};
use crate::ir::{Expr, Operand, SType, SimdOp, Stmt};
use crate::layout::Layout;

/// The largest exchange array a top-level reduction keeps for itself (see `lower_reduce`),
/// and the most threadgroup memory all of them together may take.
const PRIVATE_BYTES: u32 = 1024;
const PRIVATE_TOTAL: u32 = 4096;

impl Lowerer<'_> {
    /// Inline the combine region on (accumulators, new values).
    pub(super) fn combine(
        &mut self,
        op: OpId,
        acc: &[Operand],
        new: &[Operand],
        tys: &[ScalarType],
    ) -> Result<Vec<Operand>, LowerError> {
        let f = self.f;
        let region = f.ops[op].regions[0];
        let args = &f.blocks[region].args;
        if args.len() != 2 * acc.len() {
            return Err(self.err("reduce region must take accumulators and new values"));
        }
        for (i, &arg) in args.iter().enumerate() {
            let (v, ty) = if i < acc.len() {
                (acc[i], tys[i])
            } else {
                (new[i - acc.len()], tys[i - acc.len()])
            };
            self.vals.insert(
                arg,
                LVal {
                    regs: vec![v],
                    layout: None,
                    ty,
                    buf: None,
                },
            );
        }
        let loc = self.loc;
        let t = self.lower_ops(region)?;
        self.loc = loc;
        let t = t
            .filter(|&t| matches!(f.ops[t].kind, OpKind::Yield))
            .ok_or_else(|| self.err("reduce region must end in yield"))?;
        let mut out = Vec::new();
        for &y in &f.ops[t].operands {
            out.push(self.value(y)?.regs[0]);
        }
        if out.len() != acc.len() {
            return Err(self.err("reduce region yields the wrong number of values"));
        }
        Ok(out)
    }

    /// The value of `v` in the lane `lane ^ mask`. Shuffles move 32-bit words (the types
    /// every target shuffles); other types are widened or split.
    fn shuffle_xor(&mut self, v: Operand, ty: ScalarType, mask: u32) -> Operand {
        self.shuffle(SimdOp::ShuffleXor, v, ty, mask)
    }

    /// A shuffle (`ShuffleXor`, `ShuffleUp`, `ShuffleDown`, `Shuffle`) of any type.
    pub(super) fn shuffle(&mut self, op: SimdOp, v: Operand, ty: ScalarType, arg: u32) -> Operand {
        self.shuffle_by(op, v, ty, Self::u32c(arg as i64))
    }

    /// As `shuffle`, with the lane, delta or mask a run-time value.
    fn shuffle_by(&mut self, op: SimdOp, v: Operand, ty: ScalarType, arg: Operand) -> Operand {
        let m = Some(arg);
        match ty {
            ScalarType::I32 | ScalarType::U32 | ScalarType::F32 => {
                self.let_(ty, Expr::Simd(op, v, m))
            }
            ScalarType::I64 | ScalarType::U64 | ScalarType::F64 => {
                let pair = SType::vector(ScalarType::U32, 2);
                let w = self.let_v(pair, Expr::Bitcast(v, pair));
                let halves: Vec<Operand> = (0..2)
                    .map(|i| {
                        let h = self.let_(ScalarType::U32, Expr::Extract(w, i));
                        self.let_(ScalarType::U32, Expr::Simd(op, h, m))
                    })
                    .collect();
                let w = self.let_v(pair, Expr::Vector(halves));
                self.let_(ty, Expr::Bitcast(w, SType::scalar(ty)))
            }
            _ => {
                let wide = if ty.is_float() {
                    ScalarType::F32
                } else if ty.is_signed_int() {
                    ScalarType::I32
                } else {
                    ScalarType::U32
                };
                let x = self.cast(v, ty, wide);
                let x = self.let_(wide, Expr::Simd(op, x, m));
                self.let_(ty, Expr::Cast(x, SType::scalar(ty)))
            }
        }
    }

    /// Whether the combine region is one commutative binary op on one accumulator and one
    /// new value (`tl.sum`, `tl.max`, ...): `yield op(acc, new)` or `yield op(new, acc)`.
    fn commutative_combine(&self, op: OpId) -> bool {
        let f = self.f;
        let Some(&region) = f.ops[op].regions.first() else {
            return false;
        };
        let b = &f.blocks[region];
        let [acc, new] = b.args[..] else {
            return false;
        };
        let [first, last] = b.ops[..] else {
            return false;
        };
        let (o, y) = (&f.ops[first], &f.ops[last]);
        let commutes = matches!(
            o.kind,
            OpKind::Binary(
                BinaryOp::Add
                    | BinaryOp::Mul
                    | BinaryOp::Min
                    | BinaryOp::Max
                    | BinaryOp::MinNan
                    | BinaryOp::MaxNan
                    | BinaryOp::And
                    | BinaryOp::Or
                    | BinaryOp::Xor
            )
        );
        commutes
            && matches!(y.kind, OpKind::Yield)
            && y.operands[..] == o.results[..]
            && (o.operands[..] == [acc, new] || o.operands[..] == [new, acc])
    }

    pub(super) fn lower_reduce(&mut self, op: OpId, axis: u32) -> Result<(), LowerError> {
        let f = self.f;
        let o = &f.ops[op];
        if o.operands.is_empty() || o.regions.len() != 1 {
            return Err(self.err("reduce needs operands and a combine region"));
        }
        let ins = self.operands(op)?;
        let parent = self
            .asg
            .request(op, 0)
            .cloned()
            .ok_or_else(|| self.err("reduce operands must be tensors"))?;
        let in_shape = f.ty(o.operands[0]).shape.clone();
        let a = axis as usize;
        if a >= in_shape.len() {
            return Err(self.err(format!("reduce axis {axis} out of range")));
        }
        let mut out_shape = in_shape.clone();
        out_shape.remove(a);
        let out_layout = Layout::slice(axis, parent.clone());
        let im = self.map(&parent, &in_shape)?;
        let om = self.map(&out_layout, &out_shape)?;
        let tys: Vec<ScalarType> = ins.iter().map(|v| v.ty).collect();
        let dim = im.dims[a].clone();

        let mut accs: Vec<Vec<Operand>> = Vec::new();
        for ro in 0..om.num_regs() {
            let mut multi = om.reg_multi(ro);
            multi.insert(a, 0);
            let mut acc: Vec<Operand> = Vec::new();
            for i in 0..dim.regs {
                multi[a] = i;
                let r = im.reg_index(&multi);
                let vals: Vec<Operand> = ins.iter().map(|v| v.reg(r)).collect();
                acc = if i == 0 {
                    vals
                } else {
                    self.combine(op, &acc, &vals, &tys)?
                };
            }
            accs.push(acc);
        }

        let masks = dim.distinct_lane_masks();
        if !masks.is_empty() && !self.target.simd_ops {
            return Err(self.err(format!(
                "reductions need simdgroup shuffles, which {} lacks",
                self.target.name
            )));
        }
        // Partners combine in lane order (the lower lane's value first), so an associative
        // but not commutative user combine sees its operands in element order.
        let lane = if masks.is_empty() {
            Self::i32c(0)
        } else {
            self.lane()
        };
        let all_masks = masks.iter().fold(0u32, |a, &m| a | m);
        let commutative = self.commutative_combine(op);
        for m in masks {
            if commutative {
                // Operand order cannot change the result beyond the signed-zero and NaN-payload
                // bits that the broadcast below settles, so no lane-order swap is needed.
                for acc in accs.iter_mut() {
                    let others: Vec<Operand> = acc
                        .iter()
                        .zip(&tys)
                        .map(|(&x, &ty)| self.shuffle_xor(x, ty, m))
                        .collect();
                    *acc = self.combine(op, acc, &others, &tys)?;
                }
                continue;
            }
            let upper = self.in_prologue(|s| {
                let bit = s.let_(
                    ScalarType::I32,
                    Expr::Binary(BinaryOp::And, lane, Self::i32c(m as i64)),
                );
                s.let_(ScalarType::I1, Expr::Cmp(CmpPred::Ne, bit, Self::i32c(0)))
            });
            for acc in accs.iter_mut() {
                let others: Vec<Operand> = acc
                    .iter()
                    .zip(&tys)
                    .map(|(&x, &ty)| self.shuffle_xor(x, ty, m))
                    .collect();
                let mut lo = Vec::with_capacity(acc.len());
                let mut hi = Vec::with_capacity(acc.len());
                for ((&v, &w), &ty) in acc.iter().zip(&others).zip(&tys) {
                    lo.push(self.let_(ty, Expr::Select(upper, w, v)));
                    hi.push(self.let_(ty, Expr::Select(upper, v, w)));
                }
                *acc = self.combine(op, &lo, &hi, &tys)?;
            }
        }
        // Partners may still hold different bits where the combine is commutative only up
        // to signed zeros or NaN payloads (fmax(+0, -0), NaN sums): compilers may swap the
        // operands of such ops, as LLVM does. Every partner takes the lowest lane's result,
        // so the replicas that later store to one slot agree.
        if all_masks != 0 && tys.iter().any(|t| t.is_float()) {
            let src = self.in_prologue(|s| {
                s.let_(
                    ScalarType::I32,
                    Expr::Binary(BinaryOp::And, lane, Self::i32c(!(all_masks as i64))),
                )
            });
            for acc in accs.iter_mut() {
                for (v, &ty) in acc.iter_mut().zip(&tys) {
                    if ty.is_float() {
                        *v = self.shuffle_by(SimdOp::Shuffle, *v, ty, src);
                    }
                }
            }
        }

        let wd = dim.distinct_warps();
        if wd > 1 {
            let numel = u32::try_from(om.numel()).map_err(|_| self.err("tensor too large"))?;
            // Straight-line code at the kernel's top level runs once, so a small array of
            // its own, never reused, needs no barrier after the reads: nothing writes it
            // again. In a loop or branch the next write may be this reduction's own, one
            // iteration on, so the reads end in a barrier and the array goes back.
            let bytes: u32 = tys
                .iter()
                .map(|&t| self.shared_ty(t).size_bytes() * wd * numel)
                .sum();
            let private = self.stack.len() == 1
                && bytes <= PRIVATE_BYTES
                && self.private_bytes + bytes <= PRIVATE_TOTAL;
            if private {
                self.private_bytes += bytes;
            }
            let arrs: Vec<u32> = tys
                .iter()
                .map(|&t| {
                    let st = self.shared_ty(t);
                    if private {
                        self.shared_array(st, wd * numel)
                    } else {
                        self.scratch(st, wd * numel)
                    }
                })
                .collect();
            let warp = self.warp();
            let warp_bits = self.num_warps.trailing_zeros();
            let slot = self.in_prologue(|s| {
                let b = s.bits_of(warp, dim.warp_shift, wd, warp_bits);
                s.imul(b, numel as i64)
            });
            let base = self.thread_linear(&out_layout, &out_shape)?;
            let strides = om.strides();
            let lin = |r: usize| -> i64 {
                om.reg_offsets(r)
                    .iter()
                    .zip(&strides)
                    .map(|(&o, &s)| o as i64 * s as i64)
                    .sum()
            };
            for (ro, acc) in accs.iter().enumerate() {
                let at = self.iadd(base, Self::i32c(lin(ro)));
                let idx = self.iadd(slot, at);
                for ((&x, &arr), &ty) in acc.iter().zip(&arrs).zip(&tys) {
                    self.shared_store(arr, idx, x, ty);
                }
            }
            // The partials travel through threadgroup memory alone.
            self.emit(Stmt::SharedBarrier);
            for (ro, acc) in accs.iter_mut().enumerate() {
                let at = self.iadd(base, Self::i32c(lin(ro)));
                for w in 0..wd {
                    let idx = self.iadd(at, Self::i32c((w * numel) as i64));
                    let vals: Vec<Operand> = arrs
                        .iter()
                        .zip(&tys)
                        .map(|(&arr, &ty)| self.shared_load(arr, idx, ty))
                        .collect();
                    *acc = if w == 0 {
                        vals
                    } else {
                        self.combine(op, acc, &vals, &tys)?
                    };
                }
            }
            if !private {
                self.emit(Stmt::SharedBarrier);
                for arr in arrs {
                    self.release(arr);
                }
            }
        }

        for (k, &res) in o.results.iter().enumerate() {
            let regs = accs.iter().map(|acc| acc[k]).collect();
            self.define(res, regs, None)?;
        }
        Ok(())
    }
}
