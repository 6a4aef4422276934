//! Calls to other `@jit` functions: parsed from their own source, bound in their own
//! scope with their own globals, and inlined at the call site.

use std::sync::Arc;

use super::builtins::Args;
use super::{params_of, FnCtx, Lowerer, Result, Site, MAX_INLINE_DEPTH};
use crate::api::{ConstValue, FunctionSource};
use crate::values::Val;

impl Lowerer {
    pub fn call_jit(&mut self, f: &Arc<FunctionSource>, args: Args, site: &Site) -> Result<Val> {
        if self.inline_depth >= MAX_INLINE_DEPTH {
            return Err(site.err(format!(
                "unsupported: calls nested deeper than {MAX_INLINE_DEPTH} (recursion is not supported)"
            )));
        }
        let parsed = self.parsed(&f.file)?;
        let def = parsed.find_def(&f.name)?;
        let file_idx = self.file_index(&f.file);
        let mut cx = FnCtx::new(&parsed, file_idx, &f.globals, false);
        let params = params_of(&parsed, def)?;
        let name = f.name.as_str();
        let npos = def.parameters.posonlyargs.len() + def.parameters.args.len();
        if args.pos.len() > npos {
            return Err(site.err(format!(
                "{name}() takes {npos} positional arguments but {} were given",
                args.pos.len()
            )));
        }
        let mut bound: Vec<Option<Val>> = vec![None; params.len()];
        for (i, v) in args.pos.into_iter().enumerate() {
            bound[i] = Some(v);
        }
        for (k, v) in args.kw {
            let Some(i) = params
                .iter()
                .position(|p| p.parameter.name.as_str() == k)
                .filter(|&i| i >= def.parameters.posonlyargs.len())
            else {
                return Err(site.err(format!("{name}() got an unexpected keyword argument '{k}'")));
            };
            if bound[i].is_some() {
                return Err(site.err(format!("{name}() got multiple values for argument '{k}'")));
            }
            bound[i] = Some(v);
        }
        self.inline_depth += 1;
        let result = (|| {
            for (p, v) in params.iter().zip(bound) {
                let pname = p.parameter.name.as_str();
                let v = match (v, &p.default) {
                    (Some(v), _) => v,
                    (None, Some(d)) => self.expr(&mut cx, d)?,
                    (None, None) => {
                        return Err(site.err(format!(
                            "{name}() missing 1 required positional argument: '{pname}'"
                        )))
                    }
                };
                // Triton specializes a called function on which arguments are constants,
                // not on its annotations: a `tl.constexpr` parameter may be given a tensor
                // (tutorial 06 passes `offs_m` so).
                cx.scope.insert(pname.to_string(), v);
            }
            self.body(&mut cx, &def.body)?;
            Ok(cx.returned.take().unwrap_or(Val::Const(ConstValue::None)))
        })();
        self.inline_depth -= 1;
        result
    }
}
