//! `tl.dot`: `acc + a @ b` for 2-D ([M,K] × [K,N]) and batched 3-D operands.
//!
//! Both inputs go through threadgroup memory (row-major, in chunks of K when both do not
//! fit at once). Then either:
//! - the FMA path (every target): each thread computes the dot products of its own
//!   accumulator registers, one k at a time in a loop, loading each distinct row of `a` and
//!   column of `b` it needs once per k;
//! - the matrix path (`Target::matrix_shape` square: 8×8×8 simdgroup matrices on Apple for
//!   f32/f16 inputs, 16×16×16 cooperative matrices on Vulkan for f16 inputs): the result is
//!   cut into T×T tiles spread over the simdgroups; each simdgroup loads its accumulator
//!   tiles, multiply-accumulates T×T tiles of `a` and `b` along K, stores the tiles to
//!   threadgroup memory, from where every thread reads its registers.
//!
//! Accumulation is in f32 for float inputs (f16, bf16, f32: `input_precision` tf32 and
//! tf32x3 are computed in full f32, which is at least as precise) and in i32 for integer
//! inputs; the result is converted to the accumulator's type once at the end.

use tm_core::ScalarType;
use tm_tile::{BinaryOp, OpId};

use super::{LowerError, Lowerer};
use crate::ir::{Expr, LocalId, Operand, SType, Stmt};

/// Operand geometry: batch, M, N, K.
#[derive(Clone, Copy)]
pub(super) struct Dims {
    pub batch: u32,
    pub m: u32,
    pub n: u32,
    pub k: u32,
}

impl Lowerer<'_> {
    pub(super) fn lower_dot(&mut self, op: OpId) -> Result<(), LowerError> {
        let f = self.f;
        let o = &f.ops[op];
        if o.operands.len() != 3 {
            return Err(self.err("dot takes a, b and an accumulator"));
        }
        let res = o.results[0];
        let (sa, sb, sr) = (
            f.ty(o.operands[0]).shape.clone(),
            f.ty(o.operands[1]).shape.clone(),
            f.ty(res).shape.clone(),
        );
        let rank = sr.len();
        if !(rank == 2 || rank == 3) || sa.len() != rank || sb.len() != rank {
            return Err(self.err("dot needs 2-D or 3-D operands"));
        }
        let batch = if rank == 3 { sr[0] } else { 1 };
        let d = Dims {
            batch,
            m: sa[rank - 2],
            k: sa[rank - 1],
            n: sb[rank - 1],
        };
        if sb[rank - 2] != d.k || sr[rank - 2] != d.m || sr[rank - 1] != d.n {
            return Err(self.err("dot operand shapes do not agree"));
        }
        let a = self.operand(op, 0)?;
        let b = self.operand(op, 1)?;
        if a.layout.is_none() || b.layout.is_none() {
            return Err(self.err("dot operands must be tensors"));
        }
        let in_ty = a.ty;
        if b.ty != in_ty {
            return Err(self.err("dot operands must have one element type"));
        }
        let cty = if in_ty.is_float() {
            ScalarType::F32
        } else if in_ty.is_int() && !in_ty.is_bool() && in_ty.bits() <= 32 {
            ScalarType::I32
        } else {
            return Err(self.err(format!("dot of {in_ty} is not supported")));
        };
        let elem_bytes = self.shared_ty(in_ty).size_bytes();
        let plan = crate::assign::dot_plan(
            self.target,
            self.simd,
            in_ty,
            elem_bytes,
            cty,
            d.batch,
            d.m,
            d.n,
            d.k,
        )
        .ok_or_else(|| {
            self.err(format!(
                "dot of {}x{}x{} does not fit in threadgroup memory",
                d.m, d.n, d.k
            ))
        })?;
        let kc = plan.kc;
        let use_matrix = plan.matrix.is_some();
        // The result stays in matrix registers (assignment chose it: a loop-carried
        // accumulator); else the matrix path starts and ends in registers.
        let held_out = self.asg.in_matrix(res);
        if held_out && !use_matrix {
            return Err(self.err("internal: a matrix layout for a dot off the matrix path"));
        }
        let out_layout = self.asg.layout(res).cloned();
        let held = if use_matrix {
            Some(if held_out {
                self.held_operand(op, 2)?
            } else {
                let acc = self.operand(op, 2)?;
                let h = self.new_held(d.batch, d.m, d.n);
                self.regs_to_held(&acc, &sr, &h)?;
                h
            })
        } else {
            None
        };
        let sty = self.shared_ty(in_ty);
        // Row pitches of the staged a ([batch, M, kc]) and b ([batch, kc, N]). For matrix
        // loads, rows a multiple of 128 bytes apart start in the same memory banks; a
        // 16-byte pad spreads them (where it fits the budget dot_plan kept).
        let pad = if use_matrix { 16 / elem_bytes } else { 0 };
        let padded = (d.m * (kc + pad) + kc * (d.n + pad)) * d.batch * elem_bytes
            <= self.target.shared_mem_bytes / 2;
        let (a_ld, b_ld) = if padded {
            (kc + pad, d.n + pad)
        } else {
            (kc, d.n)
        };
        let (a_len, b_len) = (d.batch * d.m * a_ld, d.batch * kc * b_ld);
        // A dot accumulating in matrix registers runs once per iteration of its loop: it
        // alternates two staging buffers (`phase` 0/1, flipped after each K step). The
        // next step writes the other buffer, and a simdgroup can only write this one again
        // after the next step's barrier, which every simdgroup reaches only once done
        // reading it, so one barrier per step suffices. The buffers are never released
        // (a later user would not know when the last reads end).
        let double =
            held_out && 2 * (a_len + b_len) * elem_bytes <= self.target.shared_mem_bytes / 2;
        let (a_arr, b_arr, phase) = if double {
            let phase = self.in_prologue(|s| {
                let l = s.local(SType::scalar(ScalarType::I32));
                s.set(l, Self::i32c(0));
                l
            });
            (
                self.scratch(sty, 2 * a_len),
                self.scratch(sty, 2 * b_len),
                Some(phase),
            )
        } else {
            (self.scratch(sty, a_len), self.scratch(sty, b_len), None)
        };

        // FMA path: accumulators in the compute type, in this thread's registers.
        let accs: Vec<LocalId> = match &held {
            Some(_) => Vec::new(),
            None => {
                let acc = self.operand(op, 2)?;
                let l = out_layout
                    .clone()
                    .ok_or_else(|| self.err("dot produces a tensor"))?;
                let rm = self.map(&l, &sr)?;
                (0..rm.num_regs())
                    .map(|r| {
                        let l = self.local(SType::scalar(cty));
                        let v = self.cast(acc.reg(r), acc.ty, cty);
                        self.set(l, v);
                        l
                    })
                    .collect()
            }
        };

        let chunks = d.k / kc;
        for c in 0..chunks {
            // a chunk: [batch, M, kc]; b chunk: [batch, kc, N].
            let a_st = if rank == 3 {
                vec![(d.m * a_ld) as i64, a_ld as i64, 1]
            } else {
                vec![a_ld as i64, 1]
            };
            let b_st = if rank == 3 {
                vec![(kc * b_ld) as i64, b_ld as i64, 1]
            } else {
                vec![b_ld as i64, 1]
            };
            let k0 = (c * kc) as i64;
            let (pa, pb) = match phase {
                Some(p) => (
                    self.imul(Operand::Local(p), a_len as i64),
                    self.imul(Operand::Local(p), b_len as i64),
                ),
                None => (Self::i32c(0), Self::i32c(0)),
            };
            self.scatter_chunk(&a, &sa, &a_st, rank - 1, k0, kc, (a_arr, pa), -k0)?;
            let b_add = -k0 * b_ld as i64;
            self.scatter_chunk(&b, &sb, &b_st, rank - 2, k0, kc, (b_arr, pb), b_add)?;
            self.emit(Stmt::SharedBarrier);
            match (&held, &out_layout) {
                (Some(h), _) => {
                    self.matrix_chunk(h, in_ty, kc, (a_arr, a_ld, pa), (b_arr, b_ld, pb))
                }
                (None, Some(l)) => {
                    self.fma_chunk(l, &sr, d, kc, a_arr, b_arr, in_ty, cty, &accs)?
                }
                (None, None) => return Err(self.err("dot produces a tensor")),
            }
            match phase {
                Some(p) => {
                    let flipped = self.let_(
                        ScalarType::I32,
                        Expr::Binary(BinaryOp::Sub, Self::i32c(1), Operand::Local(p)),
                    );
                    self.set(p, flipped);
                }
                None => self.emit(Stmt::SharedBarrier),
            }
        }
        if phase.is_none() {
            self.release(a_arr);
            self.release(b_arr);
        }

        let out_ty = self.reg_ty(res)?;
        let regs: Vec<Operand> = match (held, &out_layout) {
            (Some(h), _) if held_out => return self.define_held(res, h),
            (Some(h), Some(l)) => self.held_regs(&h, l, &sr, out_ty)?,
            (Some(_), None) => return Err(self.err("dot produces a tensor")),
            (None, _) => accs
                .iter()
                .map(|&l| self.cast(Operand::Local(l), cty, out_ty))
                .collect(),
        };
        self.define(res, regs, None)
    }

    /// Store the registers of `v` whose coordinate along `kdim` lies in
    /// `[k0, k0 + kc)` at `off + sum coord*strides + add` of array `arr` (all of them when
    /// one chunk covers K; `off` is a run-time offset: the staging buffer in use).
    #[allow(clippy::too_many_arguments)]
    fn scatter_chunk(
        &mut self,
        v: &super::LVal,
        shape: &[u32],
        strides: &[i64],
        kdim: usize,
        k0: i64,
        kc: u32,
        (arr, off): (u32, Operand),
        add: i64,
    ) -> Result<(), LowerError> {
        let whole = kc == shape[kdim];
        if whole && off == Self::i32c(0) {
            return self.scatter_regs(v, shape, strides, add, arr);
        }
        let layout = v
            .layout
            .clone()
            .ok_or_else(|| self.err("internal: dot operand without layout"))?;
        let m = self.map(&layout, shape)?;
        let tk = self.dim_offset(&layout, shape, kdim)?;
        let base = self.thread_strided(&layout, shape, strides)?;
        let base = self.iadd(base, off);
        for r in 0..m.num_regs() {
            let offs = m.reg_offsets(r);
            let kreg = offs[kdim] as i64;
            let kabs = self.iadd(tk, Self::i32c(kreg));
            let inside = match kabs {
                _ if whole => Operand::Const(tm_tile::Literal::Int(1), ScalarType::I1),
                Operand::Const(tm_tile::Literal::Int(x), _) => Operand::Const(
                    tm_tile::Literal::Int((x >= k0 && x < k0 + kc as i64) as i64),
                    ScalarType::I1,
                ),
                _ => {
                    let q = self.let_(
                        ScalarType::I32,
                        Expr::Binary(BinaryOp::Shr, kabs, Self::i32c(kc.trailing_zeros() as i64)),
                    );
                    self.let_(
                        ScalarType::I1,
                        Expr::Cmp(tm_tile::CmpPred::Eq, q, Self::i32c(k0 / kc as i64)),
                    )
                }
            };
            let lin: i64 = offs.iter().zip(strides).map(|(&o, &s)| o as i64 * s).sum();
            let reg = v.reg(r);
            let ty = v.ty;
            let (body, ()) = self.nested(|s| {
                let idx = s.iadd(base, Self::i32c(lin + add));
                s.shared_store(arr, idx, reg, ty);
                Ok(())
            })?;
            self.emit_if(inside, body, Vec::new());
        }
        Ok(())
    }

    /// This thread's part of `sum coord*strides` (i32).
    fn thread_strided(
        &mut self,
        layout: &crate::layout::Layout,
        shape: &[u32],
        strides: &[i64],
    ) -> Result<Operand, LowerError> {
        let mut offs = Vec::new();
        for d in 0..shape.len() {
            offs.push(self.dim_offset(layout, shape, d)?);
        }
        Ok(self.in_prologue(|s| {
            let mut acc = Self::i32c(0);
            for (o, &st) in offs.into_iter().zip(strides) {
                let t = s.imul(o, st);
                acc = s.iadd(acc, t);
            }
            acc
        }))
    }

    /// `acc[r] += sum_k a[m_r, k] * b[k, n_r]` over one chunk of K, in a loop over k.
    #[allow(clippy::too_many_arguments)]
    fn fma_chunk(
        &mut self,
        layout: &crate::layout::Layout,
        shape: &[u32],
        d: Dims,
        kc: u32,
        a_arr: u32,
        b_arr: u32,
        in_ty: ScalarType,
        cty: ScalarType,
        accs: &[LocalId],
    ) -> Result<(), LowerError> {
        let rank = shape.len();
        let m = self.map(layout, shape)?;
        // Row bases into a ([batch, M, kc]) and column bases into b ([batch, kc, N]).
        let (a_st, b_st) = if rank == 3 {
            (
                vec![(d.m * kc) as i64, kc as i64, 0],
                vec![(kc * d.n) as i64, 0, 1],
            )
        } else {
            (vec![kc as i64, 0], vec![0, 1])
        };
        let ta = self.thread_strided(layout, shape, &a_st)?;
        let tb = self.thread_strided(layout, shape, &b_st)?;
        let lin = |offs: &[u32], st: &[i64]| -> i64 {
            offs.iter().zip(st).map(|(&o, &s)| o as i64 * s).sum()
        };
        let mut a_keys: Vec<i64> = Vec::new();
        let mut b_keys: Vec<i64> = Vec::new();
        let mut pairs = Vec::with_capacity(m.num_regs());
        for r in 0..m.num_regs() {
            let offs = m.reg_offsets(r);
            let (ka, kb) = (lin(&offs, &a_st), lin(&offs, &b_st));
            let ia = a_keys.iter().position(|&x| x == ka).unwrap_or_else(|| {
                a_keys.push(ka);
                a_keys.len() - 1
            });
            let ib = b_keys.iter().position(|&x| x == kb).unwrap_or_else(|| {
                b_keys.push(kb);
                b_keys.len() - 1
            });
            pairs.push((ia, ib));
        }
        let kvar = self.local(SType::scalar(ScalarType::I32));
        let (body, ()) = self.nested(|s| {
            let k = Operand::Local(kvar);
            let kn = s.imul(k, d.n as i64);
            let av: Vec<Operand> = a_keys
                .iter()
                .map(|&c| {
                    let base = s.iadd(ta, Self::i32c(c));
                    let idx = s.iadd(base, k);
                    let v = s.shared_load(a_arr, idx, in_ty);
                    s.cast(v, in_ty, cty)
                })
                .collect();
            let bv: Vec<Operand> = b_keys
                .iter()
                .map(|&c| {
                    let base = s.iadd(tb, Self::i32c(c));
                    let idx = s.iadd(base, kn);
                    let v = s.shared_load(b_arr, idx, in_ty);
                    s.cast(v, in_ty, cty)
                })
                .collect();
            for (&(ia, ib), &acc) in pairs.iter().zip(accs) {
                let e = if cty.is_float() {
                    Expr::MulAdd(av[ia], bv[ib], Operand::Local(acc))
                } else {
                    let p = s.let_(cty, Expr::Binary(BinaryOp::Mul, av[ia], bv[ib]));
                    Expr::Binary(BinaryOp::Add, Operand::Local(acc), p)
                };
                s.emit(Stmt::Assign { dst: acc, expr: e });
            }
            Ok(())
        })?;
        self.emit(Stmt::For {
            var: kvar,
            start: Self::i32c(0),
            end: Self::i32c(kc as i64),
            step: Self::i32c(1),
            body,
        });
        Ok(())
    }
}

pub(super) fn row_major(shape: &[u32]) -> Vec<i64> {
    let mut s = vec![1i64; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1] as i64;
    }
    s
}
