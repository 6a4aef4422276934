//! Layout conversion through threadgroup memory, and the threadgroup arrays it (and
//! reductions) use.

use tm_core::ScalarType;

use super::{LVal, LowerError, Lowerer};
use crate::ir::{Expr, Operand, SType, SharedArray, Stmt};
use crate::layout::Layout;

impl Lowerer<'_> {
    /// The type a value of `ty` is kept in inside threadgroup memory: booleans as u32 words,
    /// and 8/16-bit integers as 32-bit where storage is not byte addressable.
    pub(super) fn shared_ty(&self, ty: ScalarType) -> ScalarType {
        if ty.is_bool() {
            ScalarType::U32
        } else if !self.target.byte_addressable && ty.is_int() && ty.bits() < 32 {
            if ty.is_signed_int() {
                ScalarType::I32
            } else {
                ScalarType::U32
            }
        } else {
            ty
        }
    }

    pub(super) fn shared_array(&mut self, elem: ScalarType, len: u32) -> u32 {
        let i = self.shared.len() as u32;
        self.shared.push(SharedArray {
            name: format!("tg{i}"),
            elem,
            len,
            atomic: false,
        });
        self.shared_busy.push(true);
        i
    }

    /// A threadgroup array of at least `len` elements for a use that ends in a barrier
    /// after its last read (conversions, reductions, shape changes): a released array of
    /// the same type is reused (and grown) so the kernel's threadgroup memory is the
    /// largest such use, not their sum.
    pub(super) fn scratch(&mut self, elem: ScalarType, len: u32) -> u32 {
        let free = (0..self.shared.len())
            .filter(|&i| !self.shared_busy[i] && self.shared[i].elem == elem)
            .max_by_key(|&i| self.shared[i].len);
        match free {
            Some(i) => {
                self.shared_busy[i] = true;
                let a = &mut self.shared[i];
                a.len = a.len.max(len);
                i as u32
            }
            None => self.shared_array(elem, len),
        }
    }

    /// Give back a scratch array; every thread must have passed a barrier after its last
    /// access before the next user writes it.
    pub(super) fn release(&mut self, arr: u32) {
        if let Some(b) = self.shared_busy.get_mut(arr as usize) {
            *b = false;
        }
    }

    pub(super) fn shared_store(&mut self, arr: u32, index: Operand, v: Operand, ty: ScalarType) {
        let st = self.shared_ty(ty);
        let value = self.cast(v, ty, st);
        self.emit(Stmt::SharedStore { arr, index, value });
    }

    pub(super) fn shared_load(&mut self, arr: u32, index: Operand, ty: ScalarType) -> Operand {
        let st = self.shared_ty(ty);
        let w = self.let_(
            st,
            Expr::SharedLoad {
                arr,
                index,
                lanes: 1,
            },
        );
        if st == ty {
            w
        } else {
            self.let_(ty, Expr::Cast(w, SType::scalar(ty)))
        }
    }

    /// Every thread writes its registers at their elements' row-major positions (copies
    /// write equal values), then reads back the registers the new layout gives it.
    pub(super) fn convert(
        &mut self,
        v: &LVal,
        shape: &[u32],
        to: &Layout,
    ) -> Result<LVal, LowerError> {
        let from = v
            .layout
            .clone()
            .ok_or_else(|| self.err("internal: converting a scalar"))?;
        let (fm, tm) = (self.map(&from, shape)?, self.map(to, shape)?);
        let numel = u32::try_from(fm.numel()).map_err(|_| self.err("tensor too large"))?;
        let strides = fm.strides();
        let lin = |offs: Vec<u32>| -> i64 {
            offs.iter()
                .zip(&strides)
                .map(|(&o, &s)| o as i64 * s as i64)
                .sum()
        };
        let arr = self.scratch(self.shared_ty(v.ty), numel);
        let base = self.thread_linear(&from, shape)?;
        for r in 0..fm.num_regs() {
            let idx = self.iadd(base, Self::i32c(lin(fm.reg_offsets(r))));
            self.shared_store(arr, idx, v.reg(r), v.ty);
        }
        self.emit(Stmt::Barrier);
        let base = self.thread_linear(to, shape)?;
        let mut regs = Vec::with_capacity(tm.num_regs());
        for r in 0..tm.num_regs() {
            let idx = self.iadd(base, Self::i32c(lin(tm.reg_offsets(r))));
            regs.push(self.shared_load(arr, idx, v.ty));
        }
        // The array may be written again (in a loop) only after everyone has read it.
        self.emit(Stmt::Barrier);
        self.release(arr);
        Ok(LVal {
            regs,
            layout: Some(to.clone()),
            ty: v.ty,
            buf: v.buf,
        })
    }
}
