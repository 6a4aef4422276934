//! The verifier: the structural and typing rules of Tile IR (documented per op in
//! `ops.rs`). Passes and backends may assume a verified function.
//!
//! Rules beyond the per-op ones:
//! - Every tensor dimension is a power of two (Triton's rule); scalars have rank 0.
//! - SSA dominance in structured regions: a value is used only after its definition in its
//!   own block, or inside regions of later ops of that block (and their nested regions).
//! - Terminators (`yield`, `condition`, `return`) only as the last op of a block. Regions of
//!   `for`, `if`, `reduce`, `scan` and the "after" region of `while` end in `yield`; the
//!   "before" region of `while` ends in `condition`. The body may end in `return` (or in
//!   nothing: falling off the end returns).
//! - Each block is the region of one op only, and each op is in one block only.

use std::fmt;

use crate::func::{BlockId, Function, OpId, ValueId};
use crate::ops::{BinaryOp, Literal, OpKind, UnaryOp};
use crate::print::{is_ident, op_summary, Names};
use crate::types::{Elem, ScalarType, Type};

/// A broken rule: the op (in its printed form, regions elided) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// The op's printed line, when the error is about one op.
    pub op: Option<String>,
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.op {
            Some(op) => write!(f, "{}\n  in: {op}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Check every rule; the first broken one is reported.
pub fn verify(f: &Function) -> Result<(), VerifyError> {
    let mut v = Verifier {
        f,
        visible: vec![false; f.values.len()],
        scope: Vec::new(),
        block_seen: vec![false; f.blocks.len()],
        op_seen: vec![false; f.ops.len()],
        names: None,
    };
    v.params()?;
    v.block(f.body, None, Term::Return)?;
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Term {
    /// Function body: `return` or nothing.
    Return,
    Yield,
    Condition,
}

struct Verifier<'a> {
    f: &'a Function,
    visible: Vec<bool>,
    /// Values made visible, in order, so leaving a region hides what it defined.
    scope: Vec<ValueId>,
    block_seen: Vec<bool>,
    op_seen: Vec<bool>,
    names: Option<Names>,
}

fn general(message: impl Into<String>) -> VerifyError {
    VerifyError {
        op: None,
        message: message.into(),
    }
}

impl<'a> Verifier<'a> {
    fn fail(&mut self, op: OpId, message: impl Into<String>) -> VerifyError {
        let names = self.names.get_or_insert_with(|| Names::new(self.f));
        VerifyError {
            op: Some(op_summary(self.f, names, op)),
            message: message.into(),
        }
    }

    fn name(&mut self, v: ValueId) -> String {
        self.names.get_or_insert_with(|| Names::new(self.f)).get(v)
    }

    fn show(&mut self, v: ValueId) -> String {
        let f = self.f;
        format!("{}: {}", self.name(v), f.values[v].ty)
    }

    fn make_visible(&mut self, v: ValueId) {
        if let Some(s) = self.visible.get_mut(v.index()) {
            *s = true;
            self.scope.push(v);
        }
    }

    fn params(&mut self) -> Result<(), VerifyError> {
        let f = self.f;
        let mut seen_names = std::collections::HashSet::new();
        for (i, p) in f.params.iter().enumerate() {
            if !is_ident(&p.name) {
                return Err(general(format!(
                    "parameter {i} has name '{}', which is not an identifier",
                    p.name
                )));
            }
            if !seen_names.insert(p.name.as_str()) {
                return Err(general(format!("two parameters are named '{}'", p.name)));
            }
            let val = &f.values[p.value];
            if val.def != crate::func::ValueDef::Param(i as u32) {
                return Err(general(format!(
                    "parameter %{} is not defined as parameter {i}",
                    p.name
                )));
            }
            if let Err(e) = check_type(&val.ty) {
                return Err(general(format!("parameter %{}: {e}", p.name)));
            }
            if val.ty.is_tensor() {
                return Err(general(format!("parameter %{} is a tensor", p.name)));
            }
            self.make_visible(p.value);
        }
        Ok(())
    }

    fn block(
        &mut self,
        block: BlockId,
        owner: Option<OpId>,
        term: Term,
    ) -> Result<(), VerifyError> {
        let f = self.f;
        match self.block_seen.get_mut(block.index()) {
            Some(s) if !*s => *s = true,
            _ => {
                return Err(match owner {
                    Some(op) => self.fail(op, "a region block is used by more than one op"),
                    None => general("the body block is also used as a region"),
                })
            }
        }
        let mark = self.scope.len();
        for &a in &f.blocks[block].args {
            if let Err(e) = check_type(&f.values[a].ty) {
                let msg = format!("block argument {}: {e}", self.name(a));
                return Err(match owner {
                    Some(op) => self.fail(op, msg),
                    None => general(msg),
                });
            }
            self.make_visible(a);
        }
        let ops = &f.blocks[block].ops;
        for (i, &op) in ops.iter().enumerate() {
            match self.op_seen.get_mut(op.index()) {
                Some(s) if !*s => *s = true,
                _ => return Err(self.fail(op, "op is placed in more than one block")),
            }
            let o = &f.ops[op];
            for &operand in &o.operands {
                if !self.visible.get(operand.index()).copied().unwrap_or(false) {
                    let n = self.name(operand);
                    return Err(self.fail(
                        op,
                        format!(
                            "operand {n} does not dominate this use (it is used before its \
                             definition or outside the region that defines it)"
                        ),
                    ));
                }
            }
            if o.kind.is_terminator() {
                if i + 1 != ops.len() {
                    let msg = format!(
                        "terminator '{}' is not the last op of its block",
                        o.kind.name()
                    );
                    return Err(self.fail(op, msg));
                }
                let allowed = matches!(
                    (&o.kind, term),
                    (OpKind::Return, Term::Return)
                        | (OpKind::Yield, Term::Yield)
                        | (OpKind::Condition, Term::Condition)
                );
                if !allowed {
                    let expected = match term {
                        Term::Return => "the function body ends in 'return'",
                        Term::Yield => "this region ends in 'yield'",
                        Term::Condition => "the 'before' region of 'while' ends in 'condition'",
                    };
                    let msg = format!("'{}' is not allowed here: {expected}", o.kind.name());
                    return Err(self.fail(op, msg));
                }
            }
            for &r in &o.results {
                if let Err(e) = check_type(&f.values[r].ty) {
                    let msg = format!("result {}: {e}", self.name(r));
                    return Err(self.fail(op, msg));
                }
            }
            if let Err(msg) = self.check_op(op) {
                return Err(self.fail(op, msg));
            }
            let terms: Vec<Term> = match o.kind {
                OpKind::While => vec![Term::Condition, Term::Yield],
                _ => vec![Term::Yield; o.regions.len()],
            };
            for (&region, t) in o.regions.iter().zip(terms) {
                self.block(region, Some(op), t)?;
            }
            for &r in &o.results {
                self.make_visible(r);
            }
        }
        if term != Term::Return {
            let ends_right = ops.last().is_some_and(|&l| f.ops[l].kind.is_terminator());
            if !ends_right {
                let t = if term == Term::Yield {
                    "yield"
                } else {
                    "condition"
                };
                let msg = format!("a region of this op does not end in '{t}'");
                return Err(match owner {
                    Some(op) => self.fail(op, msg),
                    None => general(msg),
                });
            }
        }
        for v in self.scope.drain(mark..) {
            if let Some(s) = self.visible.get_mut(v.index()) {
                *s = false;
            }
        }
        Ok(())
    }

    /// Types of the operands and results, and region signatures, of one op.
    fn check_op(&mut self, op: OpId) -> Result<(), String> {
        let f = self.f;
        let o = &f.ops[op];
        let ot: Vec<&Type> = o.operands.iter().map(|&v| &f.values[v].ty).collect();
        let rt: Vec<&Type> = o.results.iter().map(|&v| &f.values[v].ty).collect();
        let name = o.kind.name();
        let arity = |n_ops: usize, n_res: usize| -> Result<(), String> {
            if ot.len() != n_ops {
                return Err(format!(
                    "'{name}' takes {n_ops} operand(s), not {}",
                    ot.len()
                ));
            }
            if rt.len() != n_res {
                return Err(format!("'{name}' has {n_res} result(s), not {}", rt.len()));
            }
            Ok(())
        };
        let n_regions = match o.kind {
            OpKind::For | OpKind::Reduce { .. } | OpKind::Scan { .. } => 1,
            OpKind::If | OpKind::While => 2,
            _ => 0,
        };
        if o.regions.len() != n_regions {
            return Err(format!(
                "'{name}' has {n_regions} region(s), not {}",
                o.regions.len()
            ));
        }
        match &o.kind {
            OpKind::Constant(lit) => {
                arity(0, 1)?;
                let Elem::Scalar(s) = rt[0].elem else {
                    return Err("a constant cannot be a pointer".into());
                };
                check_literal(*lit, s)?;
            }
            OpKind::ProgramId(axis) | OpKind::NumPrograms(axis) => {
                arity(0, 1)?;
                if *axis > 2 {
                    return Err(format!("axis {axis} is not 0, 1 or 2"));
                }
                result_is(rt[0], &Type::scalar(ScalarType::I32))?;
            }
            OpKind::MakeRange { start, end } => {
                arity(0, 1)?;
                if end <= start {
                    return Err(format!("end {end} is not above start {start}"));
                }
                let n = (*end as i64 - *start as i64) as u32;
                let want = Type::tensor(Elem::Scalar(ScalarType::I32), vec![n]);
                result_is(rt[0], &want)?;
            }
            OpKind::Splat => {
                arity(1, 1)?;
                if ot[0].is_tensor() || !rt[0].is_tensor() || ot[0].elem != rt[0].elem {
                    return Err(format!(
                        "splat takes a scalar to a tensor of its type, not {} to {}",
                        ot[0], rt[0]
                    ));
                }
            }
            OpKind::Broadcast => {
                arity(1, 1)?;
                same_elem(ot[0], rt[0])?;
                let ok = ot[0].rank() == rt[0].rank()
                    && ot[0].is_tensor()
                    && ot[0]
                        .shape
                        .iter()
                        .zip(&rt[0].shape)
                        .all(|(&a, &b)| a == b || a == 1);
                if !ok {
                    return Err(format!(
                        "broadcast keeps the rank and only grows size-1 dimensions: {} to {}",
                        ot[0], rt[0]
                    ));
                }
            }
            OpKind::ExpandDims(axis) => {
                arity(1, 1)?;
                same_elem(ot[0], rt[0])?;
                let axis = *axis as usize;
                if axis > ot[0].rank() {
                    return Err(format!("axis {axis} is beyond rank {}", ot[0].rank()));
                }
                let mut shape = ot[0].shape.clone();
                shape.insert(axis, 1);
                result_is(rt[0], &ot[0].with_shape(shape))?;
            }
            OpKind::Reshape { .. } => {
                arity(1, 1)?;
                same_elem(ot[0], rt[0])?;
                if !rt[0].is_tensor() || ot[0].numel() != rt[0].numel() {
                    return Err(format!(
                        "reshape keeps the number of elements: {} to {}",
                        ot[0], rt[0]
                    ));
                }
            }
            OpKind::Permute(perm) => {
                arity(1, 1)?;
                same_elem(ot[0], rt[0])?;
                let rank = ot[0].rank();
                let mut hit = vec![false; rank];
                for &p in perm {
                    match hit.get_mut(p as usize) {
                        Some(h) if !*h => *h = true,
                        _ => return Err(format!("{perm:?} is not a permutation of 0..{rank}")),
                    }
                }
                if perm.len() != rank {
                    return Err(format!("{perm:?} is not a permutation of 0..{rank}"));
                }
                let shape: Vec<u32> = perm.iter().map(|&p| ot[0].shape[p as usize]).collect();
                result_is(rt[0], &ot[0].with_shape(shape))?;
            }
            OpKind::Join => {
                arity(2, 1)?;
                same_type(ot[0], ot[1])?;
                let mut shape = ot[0].shape.clone();
                shape.push(2);
                let want = ot[0].with_shape(shape);
                result_is(rt[0], &want)?;
            }
            OpKind::Split => {
                arity(1, 2)?;
                if ot[0].shape.last() != Some(&2) {
                    return Err(format!("the last dimension of {} is not 2", ot[0]));
                }
                let want = ot[0].with_shape(ot[0].shape[..ot[0].rank() - 1].to_vec());
                for r in &rt {
                    if **r != want {
                        return Err(format!("the results must be {want}, not {r}"));
                    }
                }
            }
            OpKind::Unary(u) => {
                arity(1, 1)?;
                let s = scalar_elem(ot[0])?;
                let ok = match u {
                    UnaryOp::Neg | UnaryOp::Abs => true,
                    UnaryOp::Not => s.is_int(),
                    _ => s.is_float(),
                };
                if !ok {
                    return Err(format!("'{u}' does not apply to {s}"));
                }
                let want = if u.is_predicate() {
                    ot[0].with_elem(Elem::Scalar(ScalarType::I1))
                } else {
                    ot[0].clone()
                };
                result_is(rt[0], &want)?;
            }
            OpKind::Binary(b) => {
                arity(2, 1)?;
                same_type(ot[0], ot[1])?;
                let s = scalar_elem(ot[0])?;
                let ok = match b {
                    BinaryOp::DivRn | BinaryOp::Pow | BinaryOp::Atan2 => s.is_float(),
                    BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => s.is_int(),
                    BinaryOp::Shl | BinaryOp::Shr | BinaryOp::MulHi => s.is_int() && !s.is_bool(),
                    _ => true,
                };
                if !ok {
                    return Err(format!("'{b}' does not apply to {s}"));
                }
                result_is(rt[0], ot[0])?;
            }
            OpKind::Cmp(_) => {
                arity(2, 1)?;
                same_type(ot[0], ot[1])?;
                let want = ot[0].with_elem(Elem::Scalar(ScalarType::I1));
                result_is(rt[0], &want)?;
            }
            OpKind::Select => {
                arity(3, 1)?;
                same_type(ot[1], ot[2])?;
                if *ot[0] != ot[1].with_elem(Elem::Scalar(ScalarType::I1)) {
                    return Err(format!(
                        "the condition must be i1 of the values' shape, not {}",
                        ot[0]
                    ));
                }
                result_is(rt[0], ot[1])?;
            }
            OpKind::Cast => {
                arity(1, 1)?;
                scalar_elem(ot[0])?;
                scalar_elem(rt[0])?;
                if ot[0].shape != rt[0].shape {
                    return Err(format!("cast keeps the shape: {} to {}", ot[0], rt[0]));
                }
            }
            OpKind::Bitcast => {
                arity(1, 1)?;
                let ok = ot[0].shape == rt[0].shape
                    && match (ot[0].elem, rt[0].elem) {
                        (Elem::Scalar(a), Elem::Scalar(b)) => a.bits() == b.bits(),
                        (Elem::Ptr(_), Elem::Ptr(_)) => true,
                        _ => false,
                    };
                if !ok {
                    return Err(format!(
                        "bitcast keeps the shape and the bit width: {} to {}",
                        ot[0], rt[0]
                    ));
                }
            }
            OpKind::Fma => {
                arity(3, 1)?;
                same_type(ot[0], ot[1])?;
                same_type(ot[0], ot[2])?;
                if !scalar_elem(ot[0])?.is_float() {
                    return Err(format!("fma takes floats, not {}", ot[0]));
                }
                result_is(rt[0], ot[0])?;
            }
            OpKind::AddPtr => {
                arity(2, 1)?;
                if !ot[0].elem.is_ptr() {
                    return Err(format!(
                        "addptr's first operand must be pointers, not {}",
                        ot[0]
                    ));
                }
                let off = scalar_elem(ot[1])?;
                if !off.is_int() || off.is_bool() || ot[1].shape != ot[0].shape {
                    return Err(format!(
                        "addptr's offsets must be integers of the pointers' shape, not {}",
                        ot[1]
                    ));
                }
                result_is(rt[0], ot[0])?;
            }
            OpKind::Load {
                has_mask,
                has_other,
                ..
            } => {
                if *has_other && !*has_mask {
                    return Err("load has 'other' without 'mask'".into());
                }
                arity(1 + *has_mask as usize + *has_other as usize, 1)?;
                let data = pointee_type(ot[0])?;
                result_is(rt[0], &data)?;
                if *has_mask {
                    check_mask(ot[1], ot[0])?;
                }
                if *has_other && *ot[2] != data {
                    return Err(format!("'other' must be {data}, not {}", ot[2]));
                }
            }
            OpKind::Store { has_mask } => {
                arity(2 + *has_mask as usize, 0)?;
                let data = pointee_type(ot[0])?;
                if *ot[1] != data {
                    return Err(format!("the stored value must be {data}, not {}", ot[1]));
                }
                if *has_mask {
                    check_mask(ot[2], ot[0])?;
                }
            }
            OpKind::AtomicRmw { has_mask, .. } => {
                arity(2 + *has_mask as usize, 1)?;
                let data = pointee_type(ot[0])?;
                if *ot[1] != data {
                    return Err(format!("the value must be {data}, not {}", ot[1]));
                }
                if *has_mask {
                    check_mask(ot[2], ot[0])?;
                }
                result_is(rt[0], &data)?;
            }
            OpKind::AtomicCas { .. } => {
                arity(3, 1)?;
                let data = pointee_type(ot[0])?;
                for t in [ot[1], ot[2], rt[0]] {
                    if *t != data {
                        return Err(format!("compare, value and result must be {data}, not {t}"));
                    }
                }
            }
            OpKind::Reduce { axis } | OpKind::Scan { axis, .. } => {
                let n = ot.len();
                if n == 0 {
                    return Err(format!("'{name}' needs at least one operand"));
                }
                arity(n, n)?;
                let shape = &ot[0].shape;
                let axis = *axis as usize;
                if axis >= shape.len() {
                    return Err(format!("axis {axis} is beyond rank {}", shape.len()));
                }
                let mut elems = Vec::new();
                for (i, t) in ot.iter().enumerate() {
                    if t.shape != *shape {
                        return Err(format!("operands must share one shape; operand {i} is {t}"));
                    }
                    elems.push(Type::scalar(scalar_elem(t)?));
                    let want = if matches!(o.kind, OpKind::Reduce { .. }) {
                        let mut s = shape.clone();
                        s.remove(axis);
                        t.with_shape(s)
                    } else {
                        (*t).clone()
                    };
                    if *rt[i] != want {
                        return Err(format!("result {i} must be {want}, not {}", rt[i]));
                    }
                }
                let mut args = elems.clone();
                args.extend(elems.iter().cloned());
                self.region_args(o.regions[0], &args, "the combine region")?;
                self.yields(o.regions[0], &elems, "the combine region")?;
            }
            OpKind::Dot { .. } => {
                arity(3, 1)?;
                let (a, b, c) = (ot[0], ot[1], ot[2]);
                let r = a.rank();
                let ok = (r == 2 || r == 3)
                    && b.rank() == r
                    && c.rank() == r
                    && a.shape[..r - 2] == b.shape[..r - 2]
                    && a.shape[..r - 2] == c.shape[..r - 2]
                    && a.shape[r - 1] == b.shape[r - 2]
                    && c.shape[r - 2] == a.shape[r - 2]
                    && c.shape[r - 1] == b.shape[r - 1];
                if !ok {
                    return Err(format!(
                        "dot needs a [.., M, K], b [.., K, N], acc [.., M, N]; got {a}, {b}, {c}"
                    ));
                }
                scalar_elem(c)?;
                if a.elem != b.elem || scalar_elem(a).is_err() {
                    return Err(format!(
                        "dot operands a and b must share a scalar type: {a}, {b}"
                    ));
                }
                result_is(rt[0], c)?;
            }
            OpKind::For => {
                if ot.len() < 3 {
                    return Err("'for' takes lower, upper, step and initial values".into());
                }
                let n = ot.len() - 3;
                arity(3 + n, n)?;
                let iv = ot[0];
                let s = scalar_elem(iv)?;
                if iv.is_tensor() || !s.is_int() || s.is_bool() || ot[1] != iv || ot[2] != iv {
                    return Err(format!(
                        "lower, upper and step must be one integer scalar type: {}, {}, {}",
                        ot[0], ot[1], ot[2]
                    ));
                }
                let inits: Vec<Type> = ot[3..].iter().map(|t| (*t).clone()).collect();
                check_results(&rt, &inits)?;
                let mut args = vec![iv.clone()];
                args.extend(inits.iter().cloned());
                self.region_args(o.regions[0], &args, "the loop body")?;
                self.yields(o.regions[0], &inits, "the loop body")?;
            }
            OpKind::If => {
                if ot.len() != 1 || *ot[0] != Type::scalar(ScalarType::I1) {
                    return Err("'if' takes one i1 scalar condition".into());
                }
                let res: Vec<Type> = rt.iter().map(|t| (*t).clone()).collect();
                for (i, &region) in o.regions.iter().enumerate() {
                    let what = if i == 0 {
                        "the then region"
                    } else {
                        "the else region"
                    };
                    self.region_args(region, &[], what)?;
                    self.yields(region, &res, what)?;
                }
            }
            OpKind::While => {
                let inits: Vec<Type> = ot.iter().map(|t| (*t).clone()).collect();
                let res: Vec<Type> = rt.iter().map(|t| (*t).clone()).collect();
                self.region_args(o.regions[0], &inits, "the before region")?;
                let before = &f.blocks[o.regions[0]];
                let cond = before.ops.last().map(|&l| &f.ops[l]);
                if let Some(c) = cond.filter(|c| c.kind == OpKind::Condition) {
                    let ct: Vec<Type> =
                        c.operands.iter().map(|&v| f.values[v].ty.clone()).collect();
                    if ct.first() != Some(&Type::scalar(ScalarType::I1)) {
                        return Err("'condition' must start with an i1 scalar".into());
                    }
                    if ct[1..] != res[..] {
                        return Err(format!(
                            "the before region passes ({}) but the results are ({})",
                            types(&ct[1..]),
                            types(&res)
                        ));
                    }
                }
                self.region_args(o.regions[1], &res, "the after region")?;
                self.yields(o.regions[1], &inits, "the after region")?;
            }
            OpKind::Yield | OpKind::Condition => {
                if !rt.is_empty() {
                    return Err(format!("'{name}' has no results"));
                }
            }
            OpKind::Return | OpKind::Barrier => arity(0, 0)?,
            OpKind::Assert { .. } => {
                arity(1, 0)?;
                if ot[0].elem != Elem::Scalar(ScalarType::I1) {
                    return Err(format!("the condition must be i1, not {}", ot[0]));
                }
            }
            OpKind::Print { .. } => {
                if !rt.is_empty() {
                    return Err("'print' has no results".into());
                }
            }
            OpKind::Hint {
                multiple_of,
                max_contiguous,
                max_constancy,
            } => {
                arity(1, 1)?;
                result_is(rt[0], ot[0])?;
                for l in [multiple_of, max_contiguous, max_constancy] {
                    if !l.is_empty() && l.len() != ot[0].rank().max(1) {
                        return Err(format!(
                            "hint lists have one entry per dimension of {}",
                            ot[0]
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn region_args(&mut self, block: BlockId, want: &[Type], what: &str) -> Result<(), String> {
        let f = self.f;
        let have: Vec<Type> = f.blocks[block]
            .args
            .iter()
            .map(|&a| f.values[a].ty.clone())
            .collect();
        if have != want {
            return Err(format!(
                "{what} takes arguments ({}) but has ({})",
                types(want),
                types(&have)
            ));
        }
        Ok(())
    }

    /// When the region ends in a `yield`, its operands must have the types `want`. A
    /// missing terminator is reported when the region itself is checked.
    fn yields(&mut self, block: BlockId, want: &[Type], what: &str) -> Result<(), String> {
        let f = self.f;
        let Some(&last) = f.blocks[block].ops.last() else {
            return Ok(());
        };
        let y = &f.ops[last];
        if y.kind != OpKind::Yield {
            return Ok(());
        }
        let have: Vec<Type> = y.operands.iter().map(|&v| f.values[v].ty.clone()).collect();
        if have != want {
            let shown: Vec<String> = y.operands.iter().map(|&v| self.show(v)).collect();
            return Err(format!(
                "{what} yields ({}) but must yield ({})",
                shown.join(", "),
                types(want)
            ));
        }
        Ok(())
    }
}

fn types(ts: &[Type]) -> String {
    ts.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_results(rt: &[&Type], want: &[Type]) -> Result<(), String> {
    let have: Vec<Type> = rt.iter().map(|t| (*t).clone()).collect();
    if have != want {
        return Err(format!(
            "the results are ({}) but must be ({})",
            types(&have),
            types(want)
        ));
    }
    Ok(())
}

fn check_type(t: &Type) -> Result<(), String> {
    if t.shape.iter().any(|&d| !d.is_power_of_two()) {
        return Err(format!(
            "type {t} has a dimension that is not a power of two"
        ));
    }
    Ok(())
}

fn result_is(have: &Type, want: &Type) -> Result<(), String> {
    if have != want {
        return Err(format!("the result must be {want}, not {have}"));
    }
    Ok(())
}

fn same_type(a: &Type, b: &Type) -> Result<(), String> {
    if a != b {
        return Err(format!("operand types differ: {a} and {b}"));
    }
    Ok(())
}

fn same_elem(a: &Type, b: &Type) -> Result<(), String> {
    if a.elem != b.elem {
        return Err(format!("element types differ: {a} and {b}"));
    }
    Ok(())
}

fn scalar_elem(t: &Type) -> Result<ScalarType, String> {
    t.scalar_type()
        .ok_or_else(|| format!("expected numbers, not pointers ({t})"))
}

fn pointee_type(ptr: &Type) -> Result<Type, String> {
    match ptr.elem {
        Elem::Ptr(s) => Ok(ptr.with_elem(Elem::Scalar(s))),
        Elem::Scalar(_) => Err(format!("expected pointers, not {ptr}")),
    }
}

fn check_mask(mask: &Type, ptr: &Type) -> Result<(), String> {
    let want = ptr.with_elem(Elem::Scalar(ScalarType::I1));
    if *mask != want {
        return Err(format!("the mask must be {want}, not {mask}"));
    }
    Ok(())
}

/// A literal matches its type: ints for int types, in range (canonical sign- or
/// zero-extended form), floats for float types.
pub(crate) fn check_literal(lit: Literal, s: ScalarType) -> Result<(), String> {
    match lit {
        Literal::Int(v) if s.is_int() => {
            let bits = s.bits();
            let ok = if bits == 64 {
                true
            } else if s.is_signed_int() {
                let half = 1i64 << (bits - 1);
                (-half..half).contains(&v)
            } else {
                (0..(1i64 << bits)).contains(&v)
            };
            if !ok {
                return Err(format!("literal {v} is out of range for {s}"));
            }
            Ok(())
        }
        Literal::Float(_) if s.is_float() => Ok(()),
        Literal::Int(v) => Err(format!("integer literal {v} for a value of type {s}")),
        Literal::Float(v) => Err(format!("float literal {v:?} for a value of type {s}")),
    }
}
