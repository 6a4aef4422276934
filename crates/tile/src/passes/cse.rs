//! Common subexpression elimination: a pure op with the same kind, operands and result
//! types as an earlier op in its block, or in an enclosing block before the region's owner,
//! is replaced by that op's results.
//!
//! Loads are left alone even when not volatile: a store between two loads can change what
//! the second one reads. Ops with regions (reduce, scan) are left alone too.

use rustc_hash::FxHashMap;

use super::Subst;
use crate::func::{BlockId, Function, ValueId};
use crate::ops::{Literal, OpKind};
use crate::types::Type;

type Key = ((OpKind, bool), Vec<ValueId>, Vec<Type>);

/// Run CSE over the whole function; returns whether anything changed.
pub fn cse(f: &mut Function) -> bool {
    let mut s = Subst::default();
    let mut scopes: Vec<FxHashMap<Key, Vec<ValueId>>> = Vec::new();
    let mut changed = false;
    let body = f.body;
    cse_block(f, body, &mut s, &mut scopes, &mut changed);
    changed
}

fn cse_block(
    f: &mut Function,
    block: BlockId,
    s: &mut Subst,
    scopes: &mut Vec<FxHashMap<Key, Vec<ValueId>>>,
    changed: &mut bool,
) {
    scopes.push(FxHashMap::default());
    let ops = std::mem::take(&mut f.blocks[block].ops);
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        s.apply(f, op);
        let o = &f.ops[op];
        let eligible = o.kind.is_pure()
            && o.regions.is_empty()
            && !o.results.is_empty()
            && !matches!(o.kind, OpKind::Load { .. });
        if !eligible {
            for region in o.regions.clone() {
                cse_block(f, region, s, scopes, changed);
            }
            out.push(op);
            continue;
        }
        let mut operands = o.operands.clone();
        if let OpKind::Binary(b) = o.kind {
            if b.is_commutative() {
                operands.sort();
            }
        }
        // Float literals compare by bits: `==` would merge -0.0 with 0.0.
        let kind = match o.kind {
            OpKind::Constant(Literal::Float(v)) => {
                (OpKind::Constant(Literal::Int(v.to_bits() as i64)), true)
            }
            ref k => (k.clone(), false),
        };
        let key: Key = (
            kind,
            operands,
            o.results.iter().map(|&r| f.values[r].ty.clone()).collect(),
        );
        let found = scopes.iter().rev().find_map(|m| m.get(&key)).cloned();
        match found {
            Some(prev) => {
                for (&r, p) in f.ops[op].results.iter().zip(prev) {
                    s.insert(r, p);
                }
                *changed = true;
            }
            None => {
                let results = o.results.clone();
                if let Some(top) = scopes.last_mut() {
                    top.insert(key, results);
                }
                out.push(op);
            }
        }
    }
    f.blocks[block].ops = out;
    scopes.pop();
}
