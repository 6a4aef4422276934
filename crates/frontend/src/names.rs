//! The free names of a function: what the Python layer must resolve in its globals.

use std::collections::BTreeSet;
use std::sync::Arc;

use ruff_python_ast::visitor::{walk_expr, walk_parameters, walk_stmt, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};
use tm_core::{CompileError, SourceFile};

use crate::source;

/// Python builtins a kernel may use without a global binding.
pub const PY_BUILTINS: &[&str] = &[
    "range",
    "len",
    "min",
    "max",
    "float",
    "int",
    "bool",
    "abs",
    "isinstance",
    "print",
    "getattr",
    "hasattr",
    "tuple",
    "list",
    "zip",
    "enumerate",
    "type",
    "str",
    "round",
    "divmod",
    "all",
    "any",
    "sum",
    "reversed",
    "slice",
    "None",
    "True",
    "False",
    "ValueError",
    "TypeError",
    "AssertionError",
    "RuntimeError",
    "NotImplementedError",
];

#[derive(Default)]
struct Collect<'a> {
    loads: Vec<&'a str>,
    stores: BTreeSet<&'a str>,
}

impl<'a> Visitor<'a> for Collect<'a> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(n) = expr {
            match n.ctx {
                ExprContext::Load => self.loads.push(n.id.as_str()),
                _ => {
                    self.stores.insert(n.id.as_str());
                }
            }
        }
        walk_expr(self, expr);
    }

    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        // Nested defs and imports bind a name in this scope.
        match stmt {
            Stmt::FunctionDef(f) => {
                self.stores.insert(f.name.as_str());
            }
            Stmt::ClassDef(c) => {
                self.stores.insert(c.name.as_str());
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    let bound = a.asname.as_ref().unwrap_or(&a.name).as_str();
                    self.stores.insert(bound.split('.').next().unwrap_or(bound));
                }
            }
            Stmt::ImportFrom(i) => {
                for a in &i.names {
                    self.stores
                        .insert(a.asname.as_ref().unwrap_or(&a.name).as_str());
                }
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }
}

/// The parameter names of a def, in order (positional-only, regular, then keyword-only).
pub fn param_names(f: &ast::StmtFunctionDef) -> Vec<&str> {
    let p = &f.parameters;
    let mut out: Vec<&str> = p
        .posonlyargs
        .iter()
        .chain(p.args.iter())
        .chain(p.kwonlyargs.iter())
        .map(|a| a.parameter.name.as_str())
        .collect();
    if let Some(v) = &p.vararg {
        out.push(v.name.as_str());
    }
    if let Some(v) = &p.kwarg {
        out.push(v.name.as_str());
    }
    out
}

/// The names `def fn_name` reads that are not its parameters, its locals or Python
/// builtins, sorted. Parameter annotations and defaults count (they are evaluated in the
/// function's globals); decorators do not.
pub fn free_names(file: &SourceFile, fn_name: &str) -> Result<Vec<String>, CompileError> {
    let file = Arc::new(file.clone());
    let parsed = source::parse(&file)?;
    free_names_in(&parsed, fn_name)
}

/// [`free_names`] of a file already parsed.
pub fn free_names_in(parsed: &source::Parsed, fn_name: &str) -> Result<Vec<String>, CompileError> {
    let def = parsed.find_def(fn_name)?;
    let mut c = Collect::default();
    walk_parameters(&mut c, &def.parameters);
    if let Some(r) = &def.returns {
        c.visit_expr(r);
    }
    for s in &def.body {
        c.visit_stmt(s);
    }
    let params = param_names(def);
    let names: BTreeSet<&str> = c
        .loads
        .into_iter()
        .filter(|n| !c.stores.contains(n) && !params.contains(n) && !PY_BUILTINS.contains(n))
        .collect();
    Ok(names.into_iter().map(String::from).collect())
}
