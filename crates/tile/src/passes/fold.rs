//! Constant folding and algebraic identities.
//!
//! - Elementwise ops (unary, binary, cmp, cast) on constants, with exact integer wrapping per
//!   width and signedness and float arithmetic in the type's precision (see `eval`).
//! - Shape ops (splat, broadcast, expand_dims, reshape, permute) of constants become
//!   constants of the result type, so `x + 1` on tensors folds like scalars.
//! - Identities: `x+0`, `x-0`, `x*1`, `x/1`, `x|0`, `x^0`, `x<<0`, `x>>0`, `x&-1` → `x`;
//!   `x*0`, `x&0`, `x-x`, `x^x` → 0 (integers); `x+(-0.0)`, `x-0.0`, `x*1.0`, `x/1.0` → `x`
//!   (floats: `x+0.0` is not `x` when `x` is -0.0, and `x*0.0` is not 0 for inf/NaN).
//! - `select` with a constant condition or equal arms; `if` with a constant condition is
//!   replaced by the ops of the taken branch; `for` that runs zero times is replaced by its
//!   initial values.

use std::collections::VecDeque;

use super::eval;
use super::Subst;
use crate::func::{BlockId, Function, OpId, ValueId};
use crate::ops::{BinaryOp, CmpPred, Literal, OpKind};
use crate::types::{ScalarType, Type};

/// Run constant folding over the whole function; returns whether anything changed.
pub fn fold(f: &mut Function) -> bool {
    let mut s = Subst::default();
    let mut changed = false;
    let body = f.body;
    fold_block(f, body, &mut s, &mut changed);
    changed
}

enum Outcome {
    Keep,
    /// Replace the results by these existing values.
    Values(Vec<ValueId>),
    /// Replace the single result by a new constant.
    Const(Literal),
    /// Replace the op by the ops of this region (minus its `yield`), results by what the
    /// `yield` passes.
    Inline(BlockId),
}

fn fold_block(f: &mut Function, block: BlockId, s: &mut Subst, changed: &mut bool) {
    let mut work: VecDeque<OpId> = std::mem::take(&mut f.blocks[block].ops).into();
    let mut out = Vec::with_capacity(work.len());
    while let Some(op) = work.pop_front() {
        s.apply(f, op);
        match try_fold(f, op) {
            Outcome::Keep => {
                for region in f.ops[op].regions.clone() {
                    fold_block(f, region, s, changed);
                }
                out.push(op);
            }
            Outcome::Values(vs) => {
                for (r, v) in f.ops[op].results.clone().into_iter().zip(vs) {
                    s.insert(r, v);
                }
                *changed = true;
            }
            Outcome::Const(lit) => {
                let result = f.ops[op].results[0];
                let ty = f.values[result].ty.clone();
                let loc = f.ops[op].loc;
                let c = f.create_op(OpKind::Constant(lit), vec![], vec![ty], vec![], loc);
                s.insert(result, f.ops[c].results[0]);
                out.push(c);
                *changed = true;
            }
            Outcome::Inline(region) => {
                let mut ops = f.blocks[region].ops.clone();
                if let Some(y) = ops.pop() {
                    let results = f.ops[op].results.clone();
                    for (r, v) in results.into_iter().zip(f.ops[y].operands.clone()) {
                        s.insert(r, v);
                    }
                }
                for &o in ops.iter().rev() {
                    work.push_front(o);
                }
                *changed = true;
            }
        }
    }
    f.blocks[block].ops = out;
}

/// The literal of a constant value (a scalar, or every element of a tensor).
pub(crate) fn constant_of(f: &Function, v: ValueId) -> Option<Literal> {
    let op = f.def_op(v)?;
    match f.ops[op].kind {
        OpKind::Constant(lit) => Some(lit),
        _ => None,
    }
}

fn try_fold(f: &Function, op: OpId) -> Outcome {
    let o = &f.ops[op];
    if matches!(o.kind, OpKind::If | OpKind::For) {
        return try_fold_control(f, op);
    }
    let c = |i: usize| o.operands.get(i).and_then(|&v| constant_of(f, v));
    let operand_ty = |i: usize| o.operands.get(i).map(|&v| &f.values[v].ty);
    let Some(&first_result) = o.results.first() else {
        return Outcome::Keep;
    };
    let result_ty = &f.values[first_result].ty;
    let lit_or_keep = |l: Option<Literal>| l.map_or(Outcome::Keep, Outcome::Const);
    match &o.kind {
        OpKind::Splat
        | OpKind::Broadcast
        | OpKind::ExpandDims(_)
        | OpKind::Reshape { .. }
        | OpKind::Permute(_) => lit_or_keep(c(0)),
        OpKind::Unary(u) => {
            let (Some(a), Some(s)) = (c(0), operand_ty(0).and_then(Type::scalar_type)) else {
                return Outcome::Keep;
            };
            lit_or_keep(eval::unary(*u, a, s))
        }
        OpKind::Binary(b) => {
            let Some(s) = operand_ty(0).and_then(Type::scalar_type) else {
                return Outcome::Keep;
            };
            match (c(0), c(1), o.operands.as_slice()) {
                (Some(x), Some(y), _) => lit_or_keep(eval::binary(*b, x, y, s)),
                (cx, cy, &[x, y]) => identity(*b, x, y, cx, cy, s),
                _ => Outcome::Keep,
            }
        }
        OpKind::Cmp(pred) => {
            let (Some(a), Some(b), Some(s)) =
                (c(0), c(1), operand_ty(0).and_then(Type::scalar_type))
            else {
                return Outcome::Keep;
            };
            lit_or_keep(eval::cmp(*pred, a, b, s).map(|r| Literal::Int(r as i64)))
        }
        OpKind::Cast => {
            let (Some(a), Some(from), Some(to)) = (
                c(0),
                operand_ty(0).and_then(Type::scalar_type),
                result_ty.scalar_type(),
            ) else {
                return Outcome::Keep;
            };
            lit_or_keep(eval::cast(a, from, to))
        }
        OpKind::Select => {
            if o.operands.len() != 3 {
                return Outcome::Keep;
            }
            match c(0) {
                Some(Literal::Int(v)) => {
                    Outcome::Values(vec![o.operands[if v != 0 { 1 } else { 2 }]])
                }
                _ if o.operands[1] == o.operands[2] => Outcome::Values(vec![o.operands[1]]),
                _ => Outcome::Keep,
            }
        }
        _ => Outcome::Keep,
    }
}

/// Control flow with known conditions (these ops may have no results).
fn try_fold_control(f: &Function, op: OpId) -> Outcome {
    let o = &f.ops[op];
    match o.kind {
        OpKind::If => match o.operands.first().and_then(|&v| constant_of(f, v)) {
            Some(Literal::Int(v)) if o.regions.len() == 2 => {
                let region = o.regions[if v != 0 { 0 } else { 1 }];
                let ends_in_yield = f.blocks[region]
                    .ops
                    .last()
                    .is_some_and(|&y| f.ops[y].kind == OpKind::Yield);
                if ends_in_yield {
                    Outcome::Inline(region)
                } else {
                    Outcome::Keep
                }
            }
            _ => Outcome::Keep,
        },
        OpKind::For if o.operands.len() >= 3 => {
            let Some(s) = f.values[o.operands[0]].ty.scalar_type() else {
                return Outcome::Keep;
            };
            let (Some(Literal::Int(lb)), Some(Literal::Int(ub)), Some(Literal::Int(step))) = (
                constant_of(f, o.operands[0]),
                constant_of(f, o.operands[1]),
                constant_of(f, o.operands[2]),
            ) else {
                return Outcome::Keep;
            };
            let zero = Literal::Int(0);
            let positive = eval::cmp(CmpPred::Gt, Literal::Int(step), zero, s) == Some(true);
            let empty = eval::cmp(CmpPred::Ge, Literal::Int(lb), Literal::Int(ub), s) == Some(true);
            if positive && empty {
                Outcome::Values(o.operands[3..].to_vec())
            } else {
                Outcome::Keep
            }
        }
        _ => Outcome::Keep,
    }
}

fn identity(
    op: BinaryOp,
    x: ValueId,
    y: ValueId,
    cx: Option<Literal>,
    cy: Option<Literal>,
    s: ScalarType,
) -> Outcome {
    let is_int = |l: Option<Literal>, want: i64| match l {
        Some(Literal::Int(v)) => eval::int_val(v, s) == eval::int_val(want, s),
        _ => false,
    };
    // Float identities compare bits: -0.0 and 0.0 behave differently here.
    let is_float = |l: Option<Literal>, want: f64| match l {
        Some(Literal::Float(v)) => v.to_bits() == want.to_bits(),
        _ => false,
    };
    let commutes = op.is_commutative();
    if s.is_int() {
        let zero = Outcome::Const(Literal::Int(0));
        match op {
            BinaryOp::Add | BinaryOp::Or | BinaryOp::Xor if is_int(cy, 0) => {
                return Outcome::Values(vec![x])
            }
            BinaryOp::Add | BinaryOp::Or | BinaryOp::Xor if commutes && is_int(cx, 0) => {
                return Outcome::Values(vec![y])
            }
            BinaryOp::Sub | BinaryOp::Shl | BinaryOp::Shr if is_int(cy, 0) => {
                return Outcome::Values(vec![x])
            }
            BinaryOp::Mul | BinaryOp::Div if is_int(cy, 1) => return Outcome::Values(vec![x]),
            BinaryOp::Mul if is_int(cx, 1) => return Outcome::Values(vec![y]),
            BinaryOp::Mul | BinaryOp::And if is_int(cx, 0) || is_int(cy, 0) => return zero,
            BinaryOp::And if is_int(cy, -1) => return Outcome::Values(vec![x]),
            BinaryOp::And if is_int(cx, -1) => return Outcome::Values(vec![y]),
            BinaryOp::Sub | BinaryOp::Xor if x == y => return zero,
            BinaryOp::And | BinaryOp::Or | BinaryOp::Min | BinaryOp::Max if x == y => {
                return Outcome::Values(vec![x])
            }
            _ => {}
        }
    } else {
        match op {
            BinaryOp::Add if is_float(cy, -0.0) => return Outcome::Values(vec![x]),
            BinaryOp::Add if is_float(cx, -0.0) => return Outcome::Values(vec![y]),
            BinaryOp::Sub if is_float(cy, 0.0) => return Outcome::Values(vec![x]),
            BinaryOp::Mul | BinaryOp::Div if is_float(cy, 1.0) => return Outcome::Values(vec![x]),
            BinaryOp::Mul if is_float(cx, 1.0) => return Outcome::Values(vec![y]),
            _ => {}
        }
    }
    Outcome::Keep
}
