//! Memory ordering of atomics (`sem`, `scope`). The atomic statements themselves are
//! relaxed (all that WGSL has, and what Metal 3 offers on atomics); acquire and release come
//! from fences around them: a release fence before the atomic, an acquire fence after it.
//!
//! A Tile IR atomic is one program-wide operation, so "the writes before it" are those of
//! every thread of the program, not only of the thread that performs the element's atomic
//! (a scalar atomic is performed by thread 0 alone). Release therefore fences every
//! thread's own accesses and then waits at a barrier, so that the atomic comes after all of
//! them; acquire fences after the atomic, and the barrier that publishes old values (or
//! the next barrier) orders the other threads' later accesses after it.
//!
//! Every fence is placed at program level, outside the per-thread guards, so each thread of
//! the group reaches it: WGSL has no fence statement and prints one as `storageBarrier()`.

use tm_tile::{MemScope, MemSem, OpId, OpKind};

use super::Lowerer;
use crate::ir::{FenceScope, Stmt};

/// The fences one atomic op needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Ordering {
    release: bool,
    acquire: bool,
    scope: FenceScope,
}

impl Lowerer<'_> {
    pub(super) fn atomic_ordering(&self, op: OpId) -> Ordering {
        let (sem, scope) = match &self.f.ops[op].kind {
            OpKind::AtomicRmw { sem, scope, .. } | OpKind::AtomicCas { sem, scope } => {
                (*sem, *scope)
            }
            _ => (MemSem::Relaxed, MemScope::Gpu),
        };
        Ordering {
            release: matches!(sem, MemSem::Release | MemSem::AcqRel),
            acquire: matches!(sem, MemSem::Acquire | MemSem::AcqRel),
            scope: match scope {
                MemScope::Cta => FenceScope::Threadgroup,
                MemScope::Gpu | MemScope::Sys => FenceScope::Device,
            },
        }
    }

    pub(super) fn release_fence(&mut self, o: Ordering) {
        if o.release {
            self.emit(Stmt::Fence {
                scope: o.scope,
                divergent: false,
            });
            self.emit(Stmt::Barrier);
        }
    }

    pub(super) fn acquire_fence(&mut self, o: Ordering) {
        if o.acquire {
            self.emit(Stmt::Fence {
                scope: o.scope,
                divergent: false,
            });
        }
    }
}
