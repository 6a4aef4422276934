//! Loop-carried variables, shared by `for` and `while`: the names a loop body assigns that
//! are live before the loop travel through the loop op as block arguments and results.

use ruff_python_ast::Stmt;
use tm_tile::ValueId;

use super::stmt::stored_names;
use super::{type_name, FnCtx, Lowerer, Result, Site};
use crate::api::ConstValue;
use crate::values::{leaves_like, rebuild, Val};

/// One carried name: its value before the loop (the template its leaves rebuild into) and
/// the IR values of those leaves.
pub(super) type Carried = (String, Val, Vec<ValueId>);

/// Binds each carried name to a value rebuilt from the next leaves of `values`.
pub(super) fn bind_carried(
    cx: &mut FnCtx,
    values: impl IntoIterator<Item = ValueId>,
    carried: &[Carried],
) {
    let mut it = values.into_iter().map(Val::Value);
    for (n, init, _) in carried {
        cx.scope.insert(n.clone(), rebuild(init, &mut it));
    }
}

impl Lowerer {
    /// The names `body` assigns that are bound before the loop, except `skip` (a `for`
    /// loop's own variable), with their current values materialized.
    pub(super) fn carried_names(
        &mut self,
        cx: &FnCtx,
        body: &[Stmt],
        skip: Option<&str>,
        site: &Site,
    ) -> Result<Vec<Carried>> {
        let mut carried = Vec::new();
        for n in &stored_names(body) {
            if skip == Some(n.as_str()) {
                continue;
            }
            let Some(init) = cx.scope.get(n).cloned() else {
                continue;
            };
            let mut leaves = Vec::new();
            leaves_like(&init, &init, &mut leaves);
            let mut ids = Vec::new();
            for leaf in &leaves {
                ids.push(self.materialize(leaf, site)?);
            }
            carried.push((n.clone(), init, ids));
        }
        Ok(carried)
    }

    /// The values a loop body yields for the carried names, as they stand at its end. As
    /// in Triton, a carried name must keep its kind and type through the body.
    pub(super) fn carried_yields(
        &mut self,
        cx: &FnCtx,
        carried: &[Carried],
        site: &Site,
    ) -> Result<Vec<ValueId>> {
        let mut yields = Vec::new();
        for (n, init, ids) in carried {
            let now = cx
                .scope
                .get(n)
                .cloned()
                .unwrap_or(Val::Const(ConstValue::None));
            let mut leaves = Vec::new();
            if !leaves_like(init, &now, &mut leaves) {
                return Err(site.err(format!(
                    "Loop-carried variable {n} has initial type {} but is re-assigned to {} in loop! Please make sure that the type stays consistent.",
                    init.kind_name(),
                    now.kind_name()
                )));
            }
            for (leaf, &init_id) in leaves.iter().zip(ids) {
                let v = self.materialize(leaf, site)?;
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
    }
}
