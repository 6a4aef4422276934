//! `acc + dot(a, b, 0)` → `dot(a, b, acc)`.
//!
//! Most kernels write `acc += tl.dot(a, b)`, which accumulates into a fresh zero tile and
//! then adds. Folding the add into the dot lets the backend keep the accumulator where the
//! dot leaves it (matrix registers across a K loop) instead of round-tripping every step.
//! Triton folds the same pattern. On floats this reassociates (`acc + (0 + Σ)` becomes
//! `acc + Σ` summed in the dot's order): rounding-level differences, which Triton accepts.
//!
//! Conditions: the dot accumulates precisely (`max_num_imprecise_acc` 0), its accumulator
//! is a constant zero (`+0.0` or integer 0), the dot's
//! result has no other use, both ops are in the same block (the dot moves to the add's
//! place, where `acc` is defined; it never moves into a region that runs it more often),
//! and the add's type is the dot's.

use rustc_hash::FxHashMap;

use crate::func::{BlockId, Function, OpId, ValueId};
use crate::ops::{BinaryOp, Literal, OpKind};

/// Fold every matching add into its dot; returns whether anything changed.
pub fn fold_dot_acc(f: &mut Function) -> bool {
    let mut uses: FxHashMap<ValueId, u32> = FxHashMap::default();
    f.walk(|op| {
        for &v in &f.ops[op].operands {
            *uses.entry(v).or_default() += 1;
        }
    });
    let mut changed = false;
    let body = f.body;
    fold_block(f, body, &uses, &mut changed);
    changed
}

fn fold_block(f: &mut Function, b: BlockId, uses: &FxHashMap<ValueId, u32>, changed: &mut bool) {
    let mut i = 0;
    while i < f.blocks[b].ops.len() {
        let op = f.blocks[b].ops[i];
        for r in f.ops[op].regions.clone() {
            fold_block(f, r, uses, changed);
        }
        if let Some((dot, acc)) = matching_dot(f, b, i, op, uses) {
            let add_res = f.ops[op].results[0];
            let dot_res = f.ops[dot].results[0];
            f.ops[dot].operands[2] = acc;
            let ops = &mut f.blocks[b].ops;
            ops[i] = dot;
            if let Some(j) = ops.iter().position(|&o| o == dot) {
                if j != i {
                    ops.remove(j);
                    // The dot stood before the add: the add's slot moved down by one.
                    i -= 1;
                }
            }
            f.replace_all_uses(add_res, dot_res);
            *changed = true;
        }
        i += 1;
    }
}

/// For an add at index `i` of block `b`: the dot (earlier in `b`) it can be folded into,
/// and the other addend.
fn matching_dot(
    f: &Function,
    b: BlockId,
    i: usize,
    op: OpId,
    uses: &FxHashMap<ValueId, u32>,
) -> Option<(OpId, ValueId)> {
    let o = &f.ops[op];
    if !matches!(o.kind, OpKind::Binary(BinaryOp::Add))
        || o.operands.len() != 2
        || o.results.len() != 1
    {
        return None;
    }
    let res_ty = f.ty(o.results[0]);
    for (x, y) in [
        (o.operands[0], o.operands[1]),
        (o.operands[1], o.operands[0]),
    ] {
        let Some(d) = f.def_op(y) else { continue };
        let dop = &f.ops[d];
        // With imprecise accumulation (fp8) the accumulator's treatment differs from the
        // add's; Triton leaves those alone too.
        if !matches!(
            dop.kind,
            OpKind::Dot {
                max_num_imprecise_acc: 0,
                ..
            }
        ) || dop.operands.len() != 3
            || uses.get(&y).copied() != Some(1)
            || f.ty(y) != res_ty
            || f.ty(x) != res_ty
            || !is_zero(f, dop.operands[2])
            || !f.blocks[b].ops[..i].contains(&d)
        {
            continue;
        }
        return Some((d, x));
    }
    None
}

fn is_zero(f: &Function, v: ValueId) -> bool {
    let Some(d) = f.def_op(v) else { return false };
    match f.ops[d].kind {
        OpKind::Constant(Literal::Int(0)) => true,
        OpKind::Constant(Literal::Float(z)) => z == 0.0 && z.is_sign_positive(),
        _ => false,
    }
}
