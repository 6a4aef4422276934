//! Cleanup passes over Tile IR. Each takes a verified function, keeps it verified, and
//! says whether it changed anything. Removed ops are unlinked from their block; their
//! values stay in the arena, unreachable (the printer renumbers what is left).

pub mod cse;
pub mod dce;
pub mod dot_acc;
mod eval;
pub mod fold;

use rustc_hash::FxHashMap;

use crate::func::{Function, ValueId};

pub use cse::cse;
pub use dce::dce;
pub use dot_acc::fold_dot_acc;
pub use fold::fold;

/// Fold, fold adds into dots, CSE and DCE until nothing changes (bounded, in case two rewrites ever undo each
/// other). Returns whether anything changed.
pub fn run_default_pipeline(f: &mut Function) -> bool {
    let mut any = false;
    for _ in 0..16 {
        let changed = fold(f) | fold_dot_acc(f) | cse(f) | dce(f);
        any |= changed;
        if !changed {
            break;
        }
    }
    any
}

/// Value substitutions recorded during one forward sweep. Every use comes after its
/// definition in the sweep order, so rewriting each op's operands when it is reached
/// replaces all uses without a separate walk per replacement.
#[derive(Default)]
pub(crate) struct Subst {
    map: FxHashMap<ValueId, ValueId>,
}

impl Subst {
    pub(crate) fn insert(&mut self, from: ValueId, to: ValueId) {
        if from != to {
            self.map.insert(from, to);
        }
    }

    pub(crate) fn get(&self, mut v: ValueId) -> ValueId {
        // Chains appear when an inlined region yields a value that is itself replaced
        // later; the bound guards against a cycle in broken IR.
        for _ in 0..=self.map.len() {
            match self.map.get(&v) {
                Some(&n) => v = n,
                None => break,
            }
        }
        v
    }

    pub(crate) fn apply(&self, f: &mut Function, op: crate::func::OpId) {
        if self.map.is_empty() {
            return;
        }
        for o in &mut f.ops[op].operands {
            *o = self.get(*o);
        }
    }
}

/// Wrap an integer to the width of `s` in its canonical stored form (for the builder).
pub(crate) fn eval_canon(v: i64, s: crate::types::ScalarType) -> i64 {
    eval::canon(eval::int_val(v, s), s)
}
