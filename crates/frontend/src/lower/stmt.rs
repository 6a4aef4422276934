//! Statements: assignments bind names (constexprs stay in Python), `if` on a constexpr
//! lowers only the taken branch, `if` on a runtime scalar and `for` over a range become
//! structured ops whose results are the variables the branches or the body assign.

use std::collections::{BTreeMap, BTreeSet};

use ruff_python_ast::visitor::{walk_expr, walk_stmt, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};
use tm_tile::{BlockId, Literal, OpKind, ValueId};

use super::builtins::{Builtin, MAX_UNROLL};
use super::carried::bind_carried;
use super::promote::integer_promote;
use super::{constfold, type_name, FnCtx, Lowerer, Result, Site};
use crate::api::ConstValue;
use crate::values::{leaves_like, rebuild, Val};

/// Python's AST class name of a statement.
fn stmt_node_name(s: &Stmt) -> &'static str {
    match s {
        Stmt::FunctionDef(_) => "FunctionDef",
        Stmt::ClassDef(_) => "ClassDef",
        Stmt::Return(_) => "Return",
        Stmt::Delete(_) => "Delete",
        Stmt::TypeAlias(_) => "TypeAlias",
        Stmt::Assign(_) => "Assign",
        Stmt::AugAssign(_) => "AugAssign",
        Stmt::AnnAssign(_) => "AnnAssign",
        Stmt::For(_) => "For",
        Stmt::While(_) => "While",
        Stmt::If(_) => "If",
        Stmt::With(_) => "With",
        Stmt::Match(_) => "Match",
        Stmt::Raise(_) => "Raise",
        Stmt::Try(_) => "Try",
        Stmt::Assert(_) => "Assert",
        Stmt::Import(_) => "Import",
        Stmt::ImportFrom(_) => "ImportFrom",
        Stmt::Global(_) => "Global",
        Stmt::Nonlocal(_) => "Nonlocal",
        Stmt::Expr(_) => "Expr",
        Stmt::Pass(_) => "Pass",
        Stmt::Break(_) => "Break",
        Stmt::Continue(_) => "Continue",
        Stmt::IpyEscapeCommand(_) => "IpyEscapeCommand",
    }
}

/// Whether a `return` appears anywhere in an `if`'s branches.
fn contains_return(body: &[Stmt], clauses: &[ast::ElifElseClause]) -> bool {
    fn any(stmts: &[Stmt]) -> bool {
        stmts.iter().any(|s| match s {
            Stmt::Return(_) => true,
            Stmt::If(i) => contains_return(&i.body, &i.elif_else_clauses),
            Stmt::For(f) => any(&f.body) || any(&f.orelse),
            Stmt::While(w) => any(&w.body) || any(&w.orelse),
            _ => false,
        })
    }
    any(body) || clauses.iter().any(|c| any(&c.body))
}

/// Names a block of statements may assign (targets anywhere inside it).
pub(super) fn stored_names(body: &[Stmt]) -> BTreeSet<String> {
    #[derive(Default)]
    struct Stores(BTreeSet<String>);
    impl<'a> Visitor<'a> for Stores {
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Name(n) = e {
                if n.ctx == ExprContext::Store {
                    self.0.insert(n.id.as_str().to_string());
                }
            }
            walk_expr(self, e);
        }
        fn visit_stmt(&mut self, s: &'a Stmt) {
            walk_stmt(self, s);
        }
    }
    let mut v = Stores::default();
    for s in body {
        v.visit_stmt(s);
    }
    v.0
}

impl Lowerer {
    /// Ends each branch block with a yield of its values and pushes, into `parent`, the
    /// `If` op over them; its results, one per value yielded (both branches yield the same
    /// types).
    pub(super) fn push_if(
        &mut self,
        parent: BlockId,
        cond: ValueId,
        [(then_b, then_yield), (else_b, else_yield)]: [(BlockId, Vec<ValueId>); 2],
        site: &Site,
    ) -> Vec<ValueId> {
        let types = then_yield.iter().map(|&v| self.ty(v)).collect();
        self.func
            .push_op(then_b, OpKind::Yield, then_yield, vec![], vec![], site.loc);
        self.func
            .push_op(else_b, OpKind::Yield, else_yield, vec![], vec![], site.loc);
        let op = self.func.push_op(
            parent,
            OpKind::If,
            vec![cond],
            types,
            vec![then_b, else_b],
            site.loc,
        );
        self.func.ops[op].results.clone()
    }

    pub fn body(&mut self, cx: &mut FnCtx, stmts: &[Stmt]) -> Result<()> {
        let refs: Vec<&Stmt> = stmts.iter().collect();
        self.body_refs(cx, &refs)
    }

    fn body_refs(&mut self, cx: &mut FnCtx, stmts: &[&Stmt]) -> Result<()> {
        for (i, s) in stmts.iter().enumerate() {
            if cx.returned.is_some() {
                break;
            }
            if let Stmt::If(ifs) = s {
                if cx.region_depth == 0 && contains_return(&ifs.body, &ifs.elif_else_clauses) {
                    // An early exit (`if pid >= n: return`): the statements after the `if`
                    // run only on the paths that do not return, so they move into them.
                    let test = self.expr(cx, &ifs.test)?;
                    let site = cx.site(*s);
                    return self.if_exit(
                        cx,
                        test,
                        &ifs.body,
                        &ifs.elif_else_clauses,
                        &stmts[i + 1..],
                        &site,
                    );
                }
            }
            self.stmt(cx, s)?;
        }
        Ok(())
    }

    /// A runtime `if` some branch of which returns, with `rest` the statements after it.
    fn if_exit(
        &mut self,
        cx: &mut FnCtx,
        test: Val,
        body: &[Stmt],
        clauses: &[ast::ElifElseClause],
        rest: &[&Stmt],
        site: &Site,
    ) -> Result<()> {
        let then_stmts: Vec<&Stmt> = body.iter().chain(rest.iter().copied()).collect();
        if let Some(c) = test.to_const() {
            return if constfold::truthy(&c) {
                self.body_refs(cx, &then_stmts)
            } else {
                self.exit_clauses(cx, clauses, rest)
            };
        }
        let cond = self.condition(&test, site)?;
        let parent = self.block;
        let before = cx.scope.clone();
        let then_b = self.func.new_block(&[]);
        let else_b = self.func.new_block(&[]);
        cx.exit_branches += 1;
        self.block = then_b;
        let r = self.body_refs(cx, &then_stmts);
        let then_ret = cx.returned.take();
        cx.scope = before.clone();
        let r = r.and_then(|_| {
            self.block = else_b;
            self.exit_clauses(cx, clauses, rest)
        });
        let else_ret = cx.returned.take();
        cx.scope = before;
        cx.exit_branches -= 1;
        self.block = parent;
        r?;
        // Every path ended inside the branches (returned, or fell off the end of the
        // function): the value of the `if` is the function's result.
        let none = Val::Const(ConstValue::None);
        let (tv, ev) = (
            then_ret.unwrap_or(none.clone()),
            else_ret.unwrap_or(none.clone()),
        );
        let (template, then_yield, else_yield) = if tv == ev {
            (tv, Vec::new(), Vec::new())
        } else {
            self.merge_returns(tv, ev, then_b, else_b, parent, site)?
        };
        let mut results = self
            .push_if(
                parent,
                cond,
                [(then_b, then_yield), (else_b, else_yield)],
                site,
            )
            .into_iter()
            .map(Val::Value);
        cx.returned = Some(rebuild(&template, &mut results));
        Ok(())
    }

    /// The values two branches return, as the results of the `if` holding them. As in
    /// Triton, returned numbers become tensors, the types must agree, and a branch that
    /// returns nothing while the other returns a value gives an undefined value (Triton's
    /// poison; here zeros).
    fn merge_returns(
        &mut self,
        tv: Val,
        ev: Val,
        then_b: tm_tile::BlockId,
        else_b: tm_tile::BlockId,
        parent: tm_tile::BlockId,
        site: &Site,
    ) -> Result<(Val, Vec<ValueId>, Vec<ValueId>)> {
        let none = Val::Const(ConstValue::None);
        let (tv_none, ev_none) = (tv == none, ev == none);
        let template = if tv_none { ev.clone() } else { tv.clone() };
        let mut tl = Vec::new();
        let mut el = Vec::new();
        let same_shape = (tv_none || leaves_like(&template, &tv, &mut tl))
            && (ev_none || leaves_like(&template, &ev, &mut el));
        let inconsistent =
            |a: String, b: String| site.err(format!("Inconsistent return types: {a} and {b}"));
        if !same_shape {
            return Err(inconsistent(
                tv.kind_name().to_string(),
                ev.kind_name().to_string(),
            ));
        }
        let materialize_in = |l: &mut Lowerer, block, leaves: &[Val]| -> Result<Vec<ValueId>> {
            l.block = block;
            let ids = leaves
                .iter()
                .map(|v| l.materialize(v, site))
                .collect::<Result<Vec<_>>>();
            l.block = parent;
            ids
        };
        let mut tids = materialize_in(self, then_b, &tl)?;
        let mut eids = materialize_in(self, else_b, &el)?;
        if tv_none {
            tids = self.zeros_like(&eids, then_b, parent, site)?;
        }
        if ev_none {
            eids = self.zeros_like(&tids, else_b, parent, site)?;
        }
        for (&t, &e) in tids.iter().zip(&eids) {
            let (tt, et) = (self.ty(t), self.ty(e));
            if tt != et {
                return Err(inconsistent(type_name(&tt), type_name(&et)));
            }
        }
        Ok((template, tids, eids))
    }

    /// Zeros of the types of `like`, emitted in `block`.
    fn zeros_like(
        &mut self,
        like: &[ValueId],
        block: tm_tile::BlockId,
        parent: tm_tile::BlockId,
        site: &Site,
    ) -> Result<Vec<ValueId>> {
        let mut out = Vec::with_capacity(like.len());
        for &o in like {
            let ty = self.ty(o);
            let lit = match ty.elem {
                tm_tile::Elem::Scalar(s) if s.is_float() => Literal::Float(0.0),
                tm_tile::Elem::Scalar(_) => Literal::Int(0),
                tm_tile::Elem::Ptr(_) => return Err(site.err(
                    "unsupported: a path that returns nothing in a function that returns a pointer",
                )),
            };
            self.block = block;
            out.push(self.constant(lit, ty, site));
            self.block = parent;
        }
        Ok(out)
    }

    fn exit_clauses(
        &mut self,
        cx: &mut FnCtx,
        clauses: &[ast::ElifElseClause],
        rest: &[&Stmt],
    ) -> Result<()> {
        let Some((first, others)) = clauses.split_first() else {
            return self.body_refs(cx, rest);
        };
        match &first.test {
            None => {
                let stmts: Vec<&Stmt> = first.body.iter().chain(rest.iter().copied()).collect();
                self.body_refs(cx, &stmts)
            }
            Some(test) => {
                let t = self.expr(cx, test)?;
                let site = cx.site(first);
                self.if_exit(cx, t, &first.body, others, rest, &site)
            }
        }
    }

    fn stmt(&mut self, cx: &mut FnCtx, s: &Stmt) -> Result<()> {
        match s {
            Stmt::Assign(a) => {
                let v = self.expr(cx, &a.value)?;
                for t in &a.targets {
                    self.assign(cx, t, v.clone())?;
                }
                Ok(())
            }
            Stmt::AugAssign(a) => {
                let Expr::Name(n) = &*a.target else {
                    return Err(cx.err(
                        &*a.target,
                        "unsupported: augmented assignment to anything but a name",
                    ));
                };
                let cur = self.name(cx, n)?;
                let rhs = self.expr(cx, &a.value)?;
                let site = cx.site(s);
                let v = self.binop(a.op, cur, rhs, &site)?;
                cx.scope.insert(n.id.as_str().to_string(), v);
                Ok(())
            }
            Stmt::AnnAssign(a) => {
                let Some(value) = &a.value else { return Ok(()) };
                let v = self.expr(cx, value)?;
                if self.is_constexpr_annotation(cx, Some(&a.annotation)) && v.to_const().is_none() {
                    return Err(cx.err(
                        &**value,
                        "a value annotated tl.constexpr must be a compile-time constant",
                    ));
                }
                self.assign(cx, &a.target, v)
            }
            Stmt::Expr(e) => {
                self.expr(cx, &e.value)?;
                Ok(())
            }
            Stmt::Pass(_) => Ok(()),
            Stmt::Return(r) => {
                let v = match &r.value {
                    Some(e) => self.expr(cx, e)?,
                    None => Val::Const(ConstValue::None),
                };
                if cx.is_kernel && v != Val::Const(ConstValue::None) {
                    return Err(cx.err(s, "a kernel cannot return a value (only @jit functions called from a kernel can)"));
                }
                if cx.region_depth > 0 {
                    return Err(cx.err(
                        s,
                        "Cannot have `return` statements inside `while` or `for` statements in triton",
                    ));
                }
                cx.returned = Some(v);
                Ok(())
            }
            Stmt::If(i) => {
                let test = self.expr(cx, &i.test)?;
                let site = cx.site(s);
                self.if_stmt(cx, test, &i.body, &i.elif_else_clauses, &site)
            }
            Stmt::For(f) => self.for_stmt(cx, f),
            Stmt::Assert(a) => {
                // Triton compiles asserts only in debug mode; without it they do nothing.
                let test = self.expr(cx, &a.test)?;
                if !self.debug {
                    return Ok(());
                }
                let msg = match &a.msg {
                    Some(m) => match self.expr(cx, m)? {
                        Val::Const(ConstValue::Str(s)) => s,
                        other => {
                            return Err(cx.err(
                                &**m,
                                format!(
                                    "the message of an assert must be a constexpr string, got '{}'",
                                    other.kind_name()
                                ),
                            ))
                        }
                    },
                    None => String::new(),
                };
                let site = cx.site(s);
                let args = super::builtins::Args {
                    pos: vec![test, Val::Const(ConstValue::Str(msg))],
                    kw: Vec::new(),
                };
                super::builtins::call(
                    self,
                    Builtin::Debug(super::debug::DebugFn::DeviceAssert),
                    args,
                    &site,
                )?;
                Ok(())
            }
            Stmt::While(w) => self.while_stmt(cx, w),
            other => Err(cx.err(
                other,
                format!("unsupported AST node type: {}", stmt_node_name(other)),
            )),
        }
    }

    fn assign(&mut self, cx: &mut FnCtx, target: &Expr, v: Val) -> Result<()> {
        match target {
            Expr::Name(n) => {
                cx.scope.insert(n.id.as_str().to_string(), v);
                Ok(())
            }
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                let Val::Tuple(items) = v else {
                    return Err(cx.err(
                        target,
                        format!("cannot unpack non-iterable '{}' object", v.kind_name()),
                    ));
                };
                if items.len() != elts.len() {
                    return Err(cx.err(
                        target,
                        if items.len() > elts.len() {
                            format!("too many values to unpack (expected {})", elts.len())
                        } else {
                            format!(
                                "not enough values to unpack (expected {}, got {})",
                                elts.len(),
                                items.len()
                            )
                        },
                    ));
                }
                for (t, item) in elts.iter().zip(items) {
                    self.assign(cx, t, item)?;
                }
                Ok(())
            }
            Expr::Subscript(_) => Err(cx.err(target, "unsupported: assignment to a subscript")),
            Expr::Attribute(_) => Err(cx.err(target, "unsupported: assignment to an attribute")),
            other => Err(cx.err(other, "unsupported assignment target")),
        }
    }

    fn if_stmt(
        &mut self,
        cx: &mut FnCtx,
        test: Val,
        body: &[Stmt],
        clauses: &[ast::ElifElseClause],
        site: &Site,
    ) -> Result<()> {
        if let Some(c) = test.to_const() {
            return if constfold::truthy(&c) {
                self.body(cx, body)
            } else {
                self.else_clauses(cx, clauses)
            };
        }
        let cond = self.condition(&test, site)?;
        let parent = self.block;
        let before = cx.scope.clone();
        let then_b = self.func.new_block(&[]);
        let else_b = self.func.new_block(&[]);

        cx.region_depth += 1;
        self.block = then_b;
        let r = self.body(cx, body);
        let then_scope = std::mem::replace(&mut cx.scope, before.clone());
        let r = r.and_then(|_| {
            self.block = else_b;
            self.else_clauses(cx, clauses)
        });
        let else_scope = std::mem::replace(&mut cx.scope, before);
        cx.region_depth -= 1;
        self.block = parent;
        r?;

        // Names both branches define (all live-ins among them) and that differ become results.
        let mut merged: Vec<(String, Val, Vec<ValueId>, Vec<ValueId>)> = Vec::new();
        for (name, tv) in &then_scope {
            let Some(ev) = else_scope.get(name) else {
                continue;
            };
            if tv == ev {
                continue;
            }
            let mut tl = Vec::new();
            leaves_like(tv, tv, &mut tl);
            let mut el = Vec::new();
            if !leaves_like(tv, ev, &mut el) {
                return Err(site.err(format!(
                    "Mismatched type for {name} between then block ({}) and else block ({})",
                    tv.kind_name(),
                    ev.kind_name()
                )));
            }
            let (mut tids, mut eids) = (Vec::new(), Vec::new());
            for (t, e) in tl.iter().zip(&el) {
                self.block = then_b;
                let ti = self.materialize(t, site)?;
                self.block = else_b;
                let ei = self.materialize(e, site)?;
                self.block = parent;
                let (tt, et) = (self.ty(ti), self.ty(ei));
                if tt != et {
                    return Err(site.err(format!(
                        "Mismatched type for {name} between then block ({}) and else block ({})",
                        type_name(&tt),
                        type_name(&et)
                    )));
                }
                tids.push(ti);
                eids.push(ei);
            }
            merged.push((name.clone(), tv.clone(), tids, eids));
        }
        let then_yield: Vec<ValueId> = merged.iter().flat_map(|m| m.2.clone()).collect();
        let else_yield: Vec<ValueId> = merged.iter().flat_map(|m| m.3.clone()).collect();
        let mut results = self
            .push_if(
                parent,
                cond,
                [(then_b, then_yield), (else_b, else_yield)],
                site,
            )
            .into_iter()
            .map(Val::Value);
        for (name, template, _, _) in &merged {
            let v = rebuild(template, &mut results);
            cx.scope.insert(name.clone(), v);
        }
        Ok(())
    }

    fn else_clauses(&mut self, cx: &mut FnCtx, clauses: &[ast::ElifElseClause]) -> Result<()> {
        let Some((first, rest)) = clauses.split_first() else {
            return Ok(());
        };
        match &first.test {
            None => self.body(cx, &first.body),
            Some(test) => {
                let t = self.expr(cx, test)?;
                let site = cx.site(first);
                self.if_stmt(cx, t, &first.body, rest, &site)
            }
        }
    }

    fn for_stmt(&mut self, cx: &mut FnCtx, f: &ast::StmtFor) -> Result<()> {
        let site = cx.site(f);
        if !f.orelse.is_empty() {
            return Err(site.err("unsupported: for ... else"));
        }
        let Expr::Call(call) = &*f.iter else {
            return Err(cx.err(
                &*f.iter,
                "Only `range` and `static_range` iterators are currently supported",
            ));
        };
        let kind = match self.expr(cx, &call.func)? {
            Val::Builtin(b @ (Builtin::PyRange | Builtin::Range | Builtin::StaticRange)) => b,
            _ => {
                return Err(cx.err(
                    &*f.iter,
                    "Only `range` and `static_range` iterators are currently supported",
                ))
            }
        };
        let Expr::Name(target) = &*f.target else {
            return Err(cx.err(
                &*f.target,
                "unsupported: the target of a for loop must be a name",
            ));
        };
        let mut pos = Vec::new();
        for a in call.arguments.args.iter() {
            pos.push(self.expr(cx, a)?);
        }
        let mut kw = BTreeMap::new();
        for k in call.arguments.keywords.iter() {
            let Some(n) = &k.arg else {
                return Err(cx.err(k, "unsupported: **kwargs in a call"));
            };
            kw.insert(n.as_str().to_string(), self.expr(cx, &k.value)?);
        }
        // range(stop) | range(start, stop[, step]); tl.range's tuning keywords are hints.
        for k in kw.keys() {
            let ok = match kind {
                Builtin::PyRange => false,
                Builtin::StaticRange => matches!(k.as_str(), "start" | "end" | "step"),
                _ => matches!(
                    k.as_str(),
                    "start"
                        | "end"
                        | "step"
                        | "num_stages"
                        | "loop_unroll_factor"
                        | "disallow_acc_multi_buffer"
                        | "flatten"
                        | "warp_specialize"
                ),
            };
            if !ok {
                return Err(site.err(format!("range() got an unexpected keyword argument '{k}'")));
            }
        }
        let (mut start, mut end, mut step) = match pos.len() {
            1 => (
                Val::Const(ConstValue::Int(0)),
                pos[0].clone(),
                Val::Const(ConstValue::Int(1)),
            ),
            2 => (
                pos[0].clone(),
                pos[1].clone(),
                Val::Const(ConstValue::Int(1)),
            ),
            3 => (pos[0].clone(), pos[1].clone(), pos[2].clone()),
            0 if kw.contains_key("end") => (
                Val::Const(ConstValue::Int(0)),
                Val::Const(ConstValue::None),
                Val::Const(ConstValue::Int(1)),
            ),
            n => return Err(site.err(format!("range expected 1 to 3 arguments, got {n}"))),
        };
        if let Some(v) = kw.get("start") {
            start = v.clone();
        }
        if let Some(v) = kw.get("end") {
            end = v.clone();
        }
        if let Some(v) = kw.get("step") {
            step = v.clone();
        }
        let name = target.id.as_str().to_string();
        if kind == Builtin::StaticRange {
            return self.static_for(cx, &name, [start, end, step], &f.body, &site);
        }
        // A negative constant step runs the mirrored ascending loop and maps its induction
        // variable back: range(s, e, -k) visits s + e - v for v in range(e, s, k).
        let mut descending = false;
        if let Val::Const(c) = &step {
            match c {
                ConstValue::Int(s) if *s > 0 => {}
                ConstValue::Int(0) => return Err(site.err("range() arg 3 must not be zero")),
                ConstValue::Int(s) => {
                    let k = s
                        .checked_neg()
                        .ok_or_else(|| site.err("range() step out of range"))?;
                    step = Val::Const(ConstValue::Int(k));
                    std::mem::swap(&mut start, &mut end);
                    descending = true;
                }
                _ => {}
            }
        }
        // Bounds: Python numbers take their default dtype, then one integer type for all.
        let mut bounds = Vec::new();
        for v in [&start, &end, &step] {
            let id = self.materialize(v, &site)?;
            let ty = self.ty(id);
            match ty.scalar_type() {
                Some(t) if t.is_int() && !ty.is_tensor() => bounds.push((id, t)),
                _ => {
                    let names: Vec<String> = [&start, &end, &step]
                        .iter()
                        .map(|v| match v {
                            Val::Value(x) => type_name(self.func.ty(*x)),
                            other => other.kind_name().to_string(),
                        })
                        .collect();
                    return Err(site.err(format!(
                        "For loop bounds and step must all be ints, are ({})",
                        names.join(", ")
                    )));
                }
            }
        }
        let iv_t = integer_promote(integer_promote(bounds[0].1, bounds[1].1), bounds[2].1);
        let iv_elem = tm_tile::Elem::Scalar(iv_t);
        let lb = self.cast_to(bounds[0].0, iv_elem, &site);
        let ub = self.cast_to(bounds[1].0, iv_elem, &site);
        let st = self.cast_to(bounds[2].0, iv_elem, &site);

        // Loop-carried: names the body assigns that are live before the loop.
        let carried = self.carried_names(cx, &f.body, Some(name.as_str()), &site)?;
        let init_ids: Vec<ValueId> = carried.iter().flat_map(|c| c.2.clone()).collect();
        let mut arg_types = vec![self.ty(lb)];
        arg_types.extend(init_ids.iter().map(|&v| self.ty(v)));
        let body_b = self.func.new_block(&arg_types);
        let args = self.func.blocks[body_b].args.clone();

        let parent = self.block;
        let before = cx.scope.clone();
        let iv = if descending {
            let t = self.ty(args[0]);
            let sum = self.func.push(
                body_b,
                OpKind::Binary(tm_tile::BinaryOp::Add),
                vec![lb, ub],
                t.clone(),
                site.loc,
            );
            self.func.push(
                body_b,
                OpKind::Binary(tm_tile::BinaryOp::Sub),
                vec![sum, args[0]],
                t,
                site.loc,
            )
        } else {
            args[0]
        };
        cx.scope.insert(name.clone(), Val::Value(iv));
        bind_carried(cx, args[1..].iter().copied(), &carried);
        cx.region_depth += 1;
        self.block = body_b;
        let r = self
            .body(cx, &f.body)
            .and_then(|_| self.carried_yields(cx, &carried, &site));
        cx.region_depth -= 1;
        self.block = parent;
        cx.scope = before;
        let yields = r?;
        self.func
            .push_op(body_b, OpKind::Yield, yields, vec![], vec![], site.loc);
        let mut operands = vec![lb, ub, st];
        operands.extend(init_ids.iter().copied());
        let types = init_ids.iter().map(|&v| self.ty(v)).collect();
        let op = self
            .func
            .push_op(parent, OpKind::For, operands, types, vec![body_b], site.loc);
        bind_carried(cx, self.func.ops[op].results.clone(), &carried);
        Ok(())
    }

    fn static_for(
        &mut self,
        cx: &mut FnCtx,
        name: &str,
        bounds: [Val; 3],
        body: &[Stmt],
        site: &Site,
    ) -> Result<()> {
        let mut b = [0i64; 3];
        for (i, v) in bounds.iter().enumerate() {
            b[i] = match v {
                Val::Const(ConstValue::Int(x)) => *x,
                _ => return Err(site.err("static_range bounds must be constexpr integers")),
            };
        }
        let [start, end, step] = b;
        if step == 0 {
            return Err(site.err("static_range step must not be zero"));
        }
        let count = if step > 0 {
            (end as i128 - start as i128 + step as i128 - 1) / step as i128
        } else {
            (start as i128 - end as i128 - step as i128 - 1) / (-(step as i128))
        };
        if count > MAX_UNROLL as i128 {
            return Err(site.err(format!(
                "unsupported: static_range of {count} iterations (at most {MAX_UNROLL} are unrolled)"
            )));
        }
        let mut i = start as i128;
        for _ in 0..count.max(0) {
            if cx.returned.is_some() {
                break;
            }
            self.unrolled += 1;
            if self.unrolled > MAX_UNROLL {
                return Err(site.err(format!(
                    "unsupported: static_range unrolls more than {MAX_UNROLL} loop bodies in total"
                )));
            }
            cx.scope
                .insert(name.to_string(), Val::Const(ConstValue::Int(i as i64)));
            self.body(cx, body)?;
            i += step as i128;
        }
        Ok(())
    }
}
