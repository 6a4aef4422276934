//! Values every thread of a program must agree on.
//!
//! Tile IR scalars are program-wide: control flow on them is uniform, and lowering relies
//! on that to put barriers inside `if`, `for` and `while` bodies. A scalar loaded from a
//! buffer the kernel also writes breaks that if each thread reads it for itself: another
//! thread of the same program may write the element between two threads' reads (tutorial
//! 05's lock: thread 0 sets the counter with `atomic_xchg` while the other threads have
//! not read it yet, so they take the other branch and wait at a different barrier). Such
//! a load is therefore read once, by thread 0, and published through threadgroup memory,
//! as the old value of a scalar atomic is.

use tm_core::ScalarType;

use super::{LowerError, Lowerer};
use crate::ir::{Operand, Stmt};

impl Lowerer<'_> {
    /// Thread 0's `v`, seen by every thread (`owner` is `lane_zero_owner()`); two barriers
    /// (the second keeps a later reuse of the scratch slot from overwriting it before
    /// everyone has read it).
    pub(super) fn broadcast_thread_zero(
        &mut self,
        v: Operand,
        ty: ScalarType,
        owner: Operand,
    ) -> Result<Operand, LowerError> {
        let arr = self.scratch(self.shared_ty(ty), 1);
        let (body, ()) = self.nested(|s| {
            s.shared_store(arr, Self::i32c(0), v, ty);
            Ok(())
        })?;
        self.emit_if(owner, body, Vec::new());
        self.emit(Stmt::Barrier);
        let out = self.shared_load(arr, Self::i32c(0), ty);
        self.emit(Stmt::Barrier);
        self.release(arr);
        Ok(out)
    }

    /// A scalar just loaded from buffer `buf`, made uniform where the kernel writes `buf`.
    pub(super) fn uniform_scalar_load(
        &mut self,
        buf: u32,
        v: Operand,
        ty: ScalarType,
    ) -> Result<Operand, LowerError> {
        let written = self.buffers.get(buf as usize).is_some_and(|b| b.writes);
        if written {
            let owner = self.lane_zero_owner();
            self.broadcast_thread_zero(v, ty, owner)
        } else {
            Ok(v)
        }
    }
}
