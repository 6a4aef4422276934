//! 64-bit integer atomics on targets without them (`Target::int64_atomics` false; MSL:
//! Apple GPUs have no 64-bit atomic add or compare-and-swap), emulated with a table of
//! spin locks in a launcher-supplied buffer (`ScratchKind::Locks`, zeroed once and left
//! released by every kernel).
//!
//! Lock choice: the lock of an element is a hash of its element index alone, not of the
//! buffer. The same memory passed as two arguments (`k(x, x)`) is then guarded by the same
//! lock whichever argument an atomic goes through; elements of different buffers with the
//! same index share a lock, which costs contention, never correctness. (Arguments are
//! bound whole, from offset 0, so equal memory means equal index.) The hash is Fibonacci
//! hashing of the index (`(i * 0x9E3779B9) >> (32 - LOCK_BITS)`), so that both
//! consecutive elements and power-of-two strides (rows of a matrix) spread over the table.
//! A thread holds at most one lock at a time (its elements are updated one after another),
//! so locks cannot deadlock on each other.
//!
//! SIMT progress: the lanes of a simdgroup run in lockstep, so the lane that wins a lock
//! must be able to finish and release it while the losers of its simdgroup spin. The
//! critical section therefore sits inside the branch of the successful acquire:
//!
//! ```text
//! loop { if (cas(lock, 0, 1) == 0) { fence; read; write; fence; lock = 0; break; } }
//! ```
//!
//! Both sides of that branch finish before the loop goes round again, so the winner's
//! critical section and release always run. (With `while (cas(lock, 0, 1) != 0) {}`
//! followed by the critical section, the winner would wait at the end of the loop for the
//! losers, who spin until it releases: a deadlock on hardware without independent thread
//! scheduling.)
//!
//! Ordering: the data words are read and written with 32-bit relaxed atomics (all Metal
//! has on device memory), so each access reaches the coherent memory level; the order
//! between the lock and the data comes from device-scope fences after the acquire and
//! before the release (`Stmt::Fence { divergent: true }`, Metal 3.2's
//! `atomic_thread_fence`; printed as a `#error` for older Metal, which has no device
//! fence). The op's own `sem` fences are added around the whole op as for 32-bit atomics.

use tm_core::{ScalarType, ScratchKind};
use tm_tile::{AtomicOp, BinaryOp, CmpPred, Literal};

use super::{LowerError, Lowerer};
use crate::ir::{Expr, FenceScope, Operand, SType, Space, Stmt};

/// log2 of the number of lock words: 4096 words, 16 KiB.
const LOCK_BITS: u32 = 12;

/// Fibonacci hashing's multiplier: 2^32 divided by the golden ratio, odd.
const HASH_MUL: i64 = 0x9E37_79B9;

impl Lowerer<'_> {
    /// The index in `buffers` of the lock table, added on first use.
    fn lock_table(&mut self) -> Result<u32, LowerError> {
        self.launcher_buffer(
            ScratchKind::Locks,
            "tm_locks",
            4 << LOCK_BITS,
            "64-bit atomics need a buffer of lock words",
        )
    }

    fn u64c(v: i64) -> Operand {
        Operand::Const(Literal::Int(v), ScalarType::U64)
    }

    fn as_u64(&mut self, v: Operand, ty: ScalarType) -> Operand {
        if ty == ScalarType::U64 {
            return v;
        }
        self.let_(
            ScalarType::U64,
            Expr::Bitcast(v, SType::scalar(ScalarType::U64)),
        )
    }

    /// One element's 64-bit atomic on `buf[index]` under its lock; the old value. `cmp` is
    /// the expected value of a compare-and-swap (`op` is then ignored).
    pub(super) fn locked_atomic64(
        &mut self,
        buf: u32,
        index: Operand,
        op: Option<AtomicOp>,
        value: Operand,
        cmp: Option<Operand>,
    ) -> Result<Operand, LowerError> {
        let ty = self.bufs[buf as usize].pointee;
        let locks = self.lock_table()?;
        let u32t = ScalarType::U32;
        let ui = self.cast(index, ScalarType::I32, u32t);
        let h = self.let_(u32t, Expr::Binary(BinaryOp::Mul, ui, Self::u32c(HASH_MUL)));
        let lock = self.let_(
            u32t,
            Expr::Binary(BinaryOp::Shr, h, Self::u32c(32 - LOCK_BITS as i64)),
        );
        let w_lo = self.let_(u32t, Expr::Binary(BinaryOp::Mul, ui, Self::u32c(2)));
        let w_hi = self.let_(u32t, Expr::Binary(BinaryOp::Add, w_lo, Self::u32c(1)));
        let old = self.local(SType::scalar(ty));
        let (body, ()) = self.nested(|s| {
            let seen = s.local(SType::scalar(u32t));
            s.emit(Stmt::AtomicCas {
                dst: seen,
                space: Space::Device,
                array: locks,
                index: lock,
                cmp: Self::u32c(0),
                value: Self::u32c(1),
            });
            let got = s.let_(
                ScalarType::I1,
                Expr::Cmp(CmpPred::Eq, Operand::Local(seen), Self::u32c(0)),
            );
            let (critical, ()) = s.nested(|s| {
                s.emit(Stmt::Fence {
                    scope: FenceScope::Device,
                    divergent: true,
                });
                let word = |s: &mut Self, w| {
                    let d = s.local(SType::scalar(u32t));
                    s.emit(Stmt::AtomicRmw {
                        dst: Some(d),
                        op: AtomicOp::Or,
                        space: Space::DeviceWords,
                        array: buf,
                        index: w,
                        value: Self::u32c(0),
                    });
                    s.let_(
                        ScalarType::U64,
                        Expr::Cast(Operand::Local(d), SType::scalar(ScalarType::U64)),
                    )
                };
                let lo = word(s, w_lo);
                let hi = word(s, w_hi);
                let hi = s.let_(
                    ScalarType::U64,
                    Expr::Binary(BinaryOp::Shl, hi, Self::u64c(32)),
                );
                let bits = s.let_(ScalarType::U64, Expr::Binary(BinaryOp::Or, hi, lo));
                let o = if ty == ScalarType::U64 {
                    bits
                } else {
                    s.let_(ty, Expr::Bitcast(bits, SType::scalar(ty)))
                };
                s.set(old, o);
                let (new, cond) = match (op, cmp) {
                    (_, Some(c)) => {
                        let eq = s.let_(ScalarType::I1, Expr::Cmp(CmpPred::Eq, o, c));
                        (value, Some(eq))
                    }
                    (Some(aop), None) => {
                        let bin = match aop {
                            AtomicOp::Xchg => None,
                            AtomicOp::Add => Some(BinaryOp::Add),
                            AtomicOp::Max => Some(BinaryOp::Max),
                            AtomicOp::Min => Some(BinaryOp::Min),
                            AtomicOp::And => Some(BinaryOp::And),
                            AtomicOp::Or => Some(BinaryOp::Or),
                            AtomicOp::Xor => Some(BinaryOp::Xor),
                        };
                        let new = match bin {
                            Some(b) => s.let_(ty, Expr::Binary(b, o, value)),
                            None => value,
                        };
                        (new, None)
                    }
                    (None, None) => return Err(s.err("internal: cas without compare")),
                };
                let (write, ()) = s.nested(|s| {
                    let nb = s.as_u64(new, ty);
                    let nlo = s.let_(u32t, Expr::Cast(nb, SType::scalar(u32t)));
                    let nhi = s.let_(
                        ScalarType::U64,
                        Expr::Binary(BinaryOp::Shr, nb, Self::u64c(32)),
                    );
                    let nhi = s.let_(u32t, Expr::Cast(nhi, SType::scalar(u32t)));
                    for (w, v) in [(w_lo, nlo), (w_hi, nhi)] {
                        s.emit(Stmt::AtomicRmw {
                            dst: None,
                            op: AtomicOp::Xchg,
                            space: Space::DeviceWords,
                            array: buf,
                            index: w,
                            value: v,
                        });
                    }
                    Ok(())
                })?;
                // A failed compare-and-swap writes nothing, as a native one.
                let always = Operand::Const(Literal::Int(1), ScalarType::I1);
                s.emit_if(cond.unwrap_or(always), write, Vec::new());
                s.emit(Stmt::Fence {
                    scope: FenceScope::Device,
                    divergent: true,
                });
                s.emit(Stmt::AtomicRmw {
                    dst: None,
                    op: AtomicOp::Xchg,
                    space: Space::Device,
                    array: locks,
                    index: lock,
                    value: Self::u32c(0),
                });
                s.emit(Stmt::Break);
                Ok(())
            })?;
            s.emit(Stmt::If {
                cond: got,
                then_body: critical,
                else_body: Vec::new(),
            });
            Ok(())
        })?;
        self.emit(Stmt::Loop { body });
        Ok(Operand::Local(old))
    }
}
