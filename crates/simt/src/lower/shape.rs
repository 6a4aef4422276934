//! Shape ops that move elements between threads: reshape, permute (trans), join and split.
//! Each goes through a threadgroup array indexed in one row-major index space: every
//! thread writes its source registers at their elements' positions there (copies write
//! equal values), a barrier, then every thread reads the registers its result layout gives
//! it. When the source and result place every element in the same thread and register,
//! the registers are reused without touching memory.

use tm_tile::OpId;

use super::{LVal, LowerError, Lowerer};
use crate::ir::{Operand, Stmt};
use crate::layout::{Layout, TensorMap};

/// Row-major strides of a shape.
fn strides(shape: &[u32]) -> Vec<i64> {
    let mut s = vec![1i64; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1] as i64;
    }
    s
}

impl Lowerer<'_> {
    /// This thread's part of `sum_d coord[d] * strides[d]` (i32, computed in the prologue).
    fn thread_dot(
        &mut self,
        layout: &Layout,
        shape: &[u32],
        strides: &[i64],
    ) -> Result<Operand, LowerError> {
        let mut offs = Vec::with_capacity(shape.len());
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

    fn reg_dot(m: &TensorMap, r: usize, strides: &[i64]) -> i64 {
        m.reg_offsets(r)
            .iter()
            .zip(strides)
            .map(|(&o, &s)| o as i64 * s)
            .sum()
    }

    /// Store every register of `v` (a tensor of `shape`) at `sum coord*strides + add`.
    pub(super) fn scatter_regs(
        &mut self,
        v: &LVal,
        shape: &[u32],
        strides: &[i64],
        add: i64,
        arr: u32,
    ) -> Result<(), LowerError> {
        let layout = v
            .layout
            .clone()
            .ok_or_else(|| self.err("internal: scattering a scalar"))?;
        let m = self.map(&layout, shape)?;
        let base = self.thread_dot(&layout, shape, strides)?;
        for r in 0..m.num_regs() {
            let idx = self.iadd(base, Self::i32c(Self::reg_dot(&m, r, strides) + add));
            self.shared_store(arr, idx, v.reg(r), v.ty);
        }
        Ok(())
    }

    /// Read the registers of a tensor of `shape` in `layout` from
    /// `sum coord*strides + add`.
    pub(super) fn gather_regs(
        &mut self,
        layout: &Layout,
        shape: &[u32],
        strides: &[i64],
        add: i64,
        arr: u32,
        ty: tm_core::ScalarType,
    ) -> Result<Vec<Operand>, LowerError> {
        let m = self.map(layout, shape)?;
        let base = self.thread_dot(layout, shape, strides)?;
        let mut regs = Vec::with_capacity(m.num_regs());
        for r in 0..m.num_regs() {
            let idx = self.iadd(base, Self::i32c(Self::reg_dot(&m, r, strides) + add));
            regs.push(self.shared_load(arr, idx, ty));
        }
        Ok(regs)
    }

    fn result_layout(&self, op: OpId, k: usize) -> Result<Layout, LowerError> {
        let r = self.f.ops[op].results[k];
        self.asg
            .layout(r)
            .cloned()
            .ok_or_else(|| self.err("shape ops produce tensors"))
    }

    /// Register-local case: result register r of every thread holds that thread's source
    /// register `picks[r]` (checked element by element for every thread).
    fn same_regs(
        &self,
        src: &TensorMap,
        dst: &TensorMap,
        to_src: impl Fn(&[u32]) -> Vec<u32>,
    ) -> Option<Vec<usize>> {
        if src.num_threads() != dst.num_threads() {
            return None;
        }
        let mut picks = Vec::with_capacity(dst.num_regs());
        for r in 0..dst.num_regs() {
            let want = to_src(&dst.coord(0, r));
            picks.push((0..src.num_regs()).find(|&q| src.coord(0, q) == want)?);
        }
        for t in 1..dst.num_threads() {
            for (r, &p) in picks.iter().enumerate() {
                if to_src(&dst.coord(t, r)) != src.coord(t, p) {
                    return None;
                }
            }
        }
        Some(picks)
    }

    /// Result of shape `out_shape` whose element at coordinate c is the source element at
    /// `to_src(c)`; `dst_strides` index the source's elements in the result's index space.
    fn through_shared(
        &mut self,
        op: OpId,
        src: &LVal,
        in_shape: &[u32],
        out_shape: &[u32],
        src_strides: &[i64],
        to_src: impl Fn(&[u32]) -> Vec<u32>,
    ) -> Result<(), LowerError> {
        let res = self.f.ops[op].results[0];
        let out_layout = self.result_layout(op, 0)?;
        let from = src
            .layout
            .clone()
            .ok_or_else(|| self.err("shape ops take tensors"))?;
        let (sm, dm) = (
            self.map(&from, in_shape)?,
            self.map(&out_layout, out_shape)?,
        );
        if let Some(picks) = self.same_regs(&sm, &dm, &to_src) {
            let regs = picks.into_iter().map(|p| src.reg(p)).collect();
            return self.define(res, regs, src.buf);
        }
        let numel = u32::try_from(dm.numel()).map_err(|_| self.err("tensor too large"))?;
        let arr = self.scratch(self.shared_ty(src.ty), numel);
        self.scatter_regs(src, in_shape, src_strides, 0, arr)?;
        self.emit(Stmt::Barrier);
        let regs = self.gather_regs(&out_layout, out_shape, &strides(out_shape), 0, arr, src.ty)?;
        self.emit(Stmt::Barrier);
        self.release(arr);
        self.define(res, regs, src.buf)
    }

    pub(super) fn lower_reshape(&mut self, op: OpId) -> Result<(), LowerError> {
        let f = self.f;
        let o = &f.ops[op];
        let src = self.operand(op, 0)?;
        let in_shape = f.ty(o.operands[0]).shape.clone();
        let out_shape = f.ty(o.results[0]).shape.clone();
        if src.layout.is_none() {
            return self.define(o.results[0], src.regs, src.buf);
        }
        let (si, so) = (strides(&in_shape), strides(&out_shape));
        let to_src = |c: &[u32]| -> Vec<u32> {
            let lin: i64 = c.iter().zip(&so).map(|(&x, &s)| x as i64 * s).sum();
            si.iter()
                .zip(&in_shape)
                .map(|(&s, &n)| ((lin / s) % n as i64) as u32)
                .collect()
        };
        self.through_shared(op, &src, &in_shape, &out_shape, &si, to_src)
    }

    pub(super) fn lower_permute(&mut self, op: OpId, perm: &[u32]) -> Result<(), LowerError> {
        let f = self.f;
        let o = &f.ops[op];
        let src = self.operand(op, 0)?;
        let in_shape = f.ty(o.operands[0]).shape.clone();
        let out_shape = f.ty(o.results[0]).shape.clone();
        let rank = in_shape.len();
        let mut inv = vec![usize::MAX; rank];
        for (i, &p) in perm.iter().enumerate() {
            match inv.get_mut(p as usize) {
                Some(x) if *x == usize::MAX => *x = i,
                _ => return Err(self.err(format!("bad permutation {perm:?}"))),
            }
        }
        if perm.len() != rank || out_shape.len() != rank {
            return Err(self.err(format!("bad permutation {perm:?}")));
        }
        // Source dimension d is result dimension inv[d].
        let so = strides(&out_shape);
        let src_strides: Vec<i64> = (0..rank).map(|d| so[inv[d]]).collect();
        let to_src = |c: &[u32]| -> Vec<u32> { (0..rank).map(|d| c[inv[d]]).collect() };
        self.through_shared(op, &src, &in_shape, &out_shape, &src_strides, to_src)
    }

    pub(super) fn lower_join(&mut self, op: OpId) -> Result<(), LowerError> {
        let f = self.f;
        let o = &f.ops[op];
        let res = o.results[0];
        let a = self.operand(op, 0)?;
        let b = self.operand(op, 1)?;
        let in_shape = f.ty(o.operands[0]).shape.clone();
        let out_shape = f.ty(res).shape.clone();
        let out_layout = self.result_layout(op, 0)?;
        let dm = self.map(&out_layout, &out_shape)?;
        let so = strides(&out_shape);
        let src_strides = &so[..so.len() - 1];
        let numel = u32::try_from(dm.numel()).map_err(|_| self.err("tensor too large"))?;
        if in_shape.is_empty() {
            return Err(self.err("join of scalars is not supported"));
        }
        let arr = self.scratch(self.shared_ty(a.ty), numel);
        self.scatter_regs(&a, &in_shape, src_strides, 0, arr)?;
        self.scatter_regs(&b, &in_shape, src_strides, 1, arr)?;
        self.emit(Stmt::Barrier);
        let regs = self.gather_regs(&out_layout, &out_shape, &so, 0, arr, a.ty)?;
        self.emit(Stmt::Barrier);
        self.release(arr);
        self.define(res, regs, a.buf)
    }

    pub(super) fn lower_split(&mut self, op: OpId) -> Result<(), LowerError> {
        let f = self.f;
        let o = &f.ops[op];
        let src = self.operand(op, 0)?;
        let in_shape = f.ty(o.operands[0]).shape.clone();
        let out_shape = f.ty(o.results[0]).shape.clone();
        if o.results.len() != 2 || out_shape.is_empty() {
            return Err(self.err("split needs a tensor with a last dimension of 2"));
        }
        let si = strides(&in_shape);
        let numel =
            u32::try_from(si[0] * in_shape[0] as i64).map_err(|_| self.err("tensor too large"))?;
        let arr = self.scratch(self.shared_ty(src.ty), numel);
        self.scatter_regs(&src, &in_shape, &si, 0, arr)?;
        self.emit(Stmt::Barrier);
        let read_strides = &si[..si.len() - 1];
        for k in 0..2 {
            let l = self.result_layout(op, k)?;
            let regs = self.gather_regs(&l, &out_shape, read_strides, k as i64, arr, src.ty)?;
            self.define(o.results[k], regs, src.buf)?;
        }
        self.emit(Stmt::Barrier);
        self.release(arr);
        Ok(())
    }
}
