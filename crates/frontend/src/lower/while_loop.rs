//! `while` loops: a While op whose "before" region evaluates the condition on the carried
//! values and whose "after" region runs the body. Carried values are the names the body
//! assigns that are live before the loop, as for `for` loops.

use ruff_python_ast as ast;
use tm_tile::{OpKind, Type, ValueId};

use super::carried::bind_carried;
use super::{FnCtx, Lowerer, Result};
use crate::api::ConstValue;
use crate::values::Val;

impl Lowerer {
    pub(super) fn while_stmt(&mut self, cx: &mut FnCtx, w: &ast::StmtWhile) -> Result<()> {
        let site = cx.site(w);
        if !w.orelse.is_empty() {
            return Err(site.err("unsupported: while ... else"));
        }
        let carried = self.carried_names(cx, &w.body, None, &site)?;
        let init_ids: Vec<ValueId> = carried.iter().flat_map(|c| c.2.clone()).collect();
        let types: Vec<Type> = init_ids.iter().map(|&v| self.ty(v)).collect();
        let parent = self.block;
        let before_scope = cx.scope.clone();

        let before_b = self.func.new_block(&types);
        let after_b = self.func.new_block(&types);

        cx.region_depth += 1;
        // Before: the condition on the current carried values.
        self.block = before_b;
        bind_carried(cx, self.func.blocks[before_b].args.clone(), &carried);
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
            bind_carried(cx, self.func.blocks[after_b].args.clone(), &carried);
            self.body(cx, &w.body)?;
            self.carried_yields(cx, &carried, &site)
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
        bind_carried(cx, self.func.ops[op].results.clone(), &carried);
        Ok(())
    }
}
