//! `while` loops: a While op whose "before" region evaluates the condition on the carried
//! values and whose "after" region runs the body. Carried values are the names the body
//! assigns that are live before the loop, as for `for` loops.

use ruff_python_ast as ast;
use tm_tile::{OpKind, Type, ValueId};

use super::stmt::stored_names;
use super::{type_name, FnCtx, Lowerer, Result};
use crate::api::ConstValue;
use crate::values::{leaves_like, rebuild, Val};

impl Lowerer {
    pub(super) fn while_stmt(&mut self, cx: &mut FnCtx, w: &ast::StmtWhile) -> Result<()> {
        let site = cx.site(w);
        if !w.orelse.is_empty() {
            return Err(site.err("unsupported: while ... else"));
        }
        let stored = stored_names(&w.body);
        let mut carried: Vec<(String, Val, Vec<ValueId>)> = Vec::new();
        for n in &stored {
            let Some(init) = cx.scope.get(n).cloned() else {
                continue;
            };
            let mut leaves = Vec::new();
            leaves_like(&init, &init, &mut leaves);
            let mut ids = Vec::new();
            for leaf in &leaves {
                ids.push(self.materialize(leaf, &site)?);
            }
            carried.push((n.clone(), init, ids));
        }
        let init_ids: Vec<ValueId> = carried.iter().flat_map(|c| c.2.clone()).collect();
        let types: Vec<Type> = init_ids.iter().map(|&v| self.ty(v)).collect();
        let parent = self.block;
        let before_scope = cx.scope.clone();

        let before_b = self.func.new_block(&types);
        let after_b = self.func.new_block(&types);
        let bind = |cx: &mut FnCtx, args: Vec<ValueId>, carried: &[(String, Val, Vec<ValueId>)]| {
            let mut it = args.into_iter().map(Val::Value);
            for (n, init, _) in carried {
                cx.scope.insert(n.clone(), rebuild(init, &mut it));
            }
        };

        cx.region_depth += 1;
        // Before: the condition on the current carried values.
        self.block = before_b;
        bind(cx, self.func.blocks[before_b].args.clone(), &carried);
        let cond = self.expr(cx, &w.test).and_then(|t| {
            if let Some(c) = t.to_const() {
                let b = super::constfold::truthy(&c);
                return self.materialize(&Val::Const(ConstValue::Bool(b)), &site);
            }
            self.condition(&t, &site)
        });
        let r = cond.and_then(|c| {
            let mut ops = vec![c];
            ops.extend(self.func.blocks[before_b].args.iter().copied());
            self.func
                .push_op(before_b, OpKind::Condition, ops, vec![], vec![], site.loc);
            // After: the body, yielding the next carried values.
            cx.scope = before_scope.clone();
            self.block = after_b;
            bind(cx, self.func.blocks[after_b].args.clone(), &carried);
            self.body(cx, &w.body)?;
            let mut yields = Vec::new();
            for (n, init, ids) in &carried {
                let now = cx.scope.get(n).cloned().unwrap_or(Val::Const(ConstValue::None));
                let mut leaves = Vec::new();
                if !leaves_like(init, &now, &mut leaves) {
                    return Err(site.err(format!(
                        "Loop-carried variable {n} has initial type {} but is re-assigned to {} in loop! Please make sure that the type stays consistent.",
                        init.kind_name(),
                        now.kind_name()
                    )));
                }
                for (leaf, &init_id) in leaves.iter().zip(ids) {
                    let v = self.materialize(leaf, &site)?;
                    let (it, vt) = (self.ty(init_id), self.ty(v));
                    if it != vt {
                        return Err(site.err(format!(
                            "Loop-carried variable {n} has initial type {} but is re-assigned to {} in loop! Please make sure that the type stays consistent.",
                            type_name(&it),
                            type_name(&vt)
                        )));
                    }
                    yields.push(v);
                }
            }
            Ok(yields)
        });
        cx.region_depth -= 1;
        self.block = parent;
        cx.scope = before_scope;
        let yields = r?;
        self.func
            .push_op(after_b, OpKind::Yield, yields, vec![], vec![], site.loc);
        let op = self.func.push_op(
            parent,
            OpKind::While,
            init_ids,
            types,
            vec![before_b, after_b],
            site.loc,
        );
        let mut results = self.func.ops[op]
            .results
            .clone()
            .into_iter()
            .map(Val::Value);
        for (n, init, _) in &carried {
            let v = rebuild(init, &mut results);
            cx.scope.insert(n.clone(), v);
        }
        Ok(())
    }
}
