//! Dead code elimination: ops without side effects whose results are all unused are
//! removed, last to first so that whole dead chains go in one sweep. `for` and `if` count
//! as side-effect free when everything in their regions is (a `for` always terminates);
//! `while` never does (it may not terminate).

use crate::func::{BlockId, Function, OpId};
use crate::ops::OpKind;

/// Run DCE over the whole function; returns whether anything changed.
pub fn dce(f: &mut Function) -> bool {
    let mut uses = vec![0u32; f.values.len()];
    let mut all = Vec::new();
    f.walk(|op| all.push(op));
    for &op in &all {
        for &v in &f.ops[op].operands {
            if let Some(u) = uses.get_mut(v.index()) {
                *u += 1;
            }
        }
    }
    let mut changed = false;
    let body = f.body;
    dce_block(f, body, &mut uses, &mut changed);
    changed
}

fn dce_block(f: &mut Function, block: BlockId, uses: &mut [u32], changed: &mut bool) {
    let ops = std::mem::take(&mut f.blocks[block].ops);
    let mut keep = Vec::with_capacity(ops.len());
    for &op in ops.iter().rev() {
        let unused = f.ops[op]
            .results
            .iter()
            .all(|r| uses.get(r.index()).is_none_or(|&u| u == 0));
        if unused && removable(f, op) {
            release(f, op, uses);
            *changed = true;
        } else {
            for region in f.ops[op].regions.clone().into_iter().rev() {
                dce_block(f, region, uses, changed);
            }
            keep.push(op);
        }
    }
    keep.reverse();
    f.blocks[block].ops = keep;
}

fn removable(f: &Function, op: OpId) -> bool {
    let o = &f.ops[op];
    match o.kind {
        OpKind::For | OpKind::If => o.regions.iter().all(|&r| {
            f.blocks[r]
                .ops
                .iter()
                .all(|&i| f.ops[i].kind == OpKind::Yield || removable(f, i))
        }),
        ref k => k.is_pure(),
    }
}

/// Forget the uses made by a removed op and everything inside its regions.
fn release(f: &Function, op: OpId, uses: &mut [u32]) {
    for &v in &f.ops[op].operands {
        if let Some(u) = uses.get_mut(v.index()) {
            *u = u.saturating_sub(1);
        }
    }
    for &r in &f.ops[op].regions {
        for &i in &f.blocks[r].ops {
            release(f, i, uses);
        }
    }
}
