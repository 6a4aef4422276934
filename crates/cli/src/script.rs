//! Resolving a kernel's free names from its Python file alone, so the CLI needs no Python:
//! imports of Triton (or triton_metal) modules, other `@jit` functions of the file, and
//! module-level constants (`NAME = 128` or `NAME = tl.constexpr(128)`).

use std::collections::BTreeMap;
use std::sync::Arc;

use ruff_python_ast::{self as ast, Expr, Number, Stmt};
use tm_core::{CompileError, SourceFile};
use tm_frontend::{Binding, ConstValue, FunctionSource, Globals, ModuleKind};

/// What the file's top level defines.
pub struct Script {
    file: Arc<SourceFile>,
    modules: BTreeMap<String, ModuleKind>,
    /// Names imported from a module (`from triton.language import program_id`).
    members: BTreeMap<String, (ModuleKind, String)>,
    constants: BTreeMap<String, ConstValue>,
    /// `@jit` functions: name → parameters as (name, is annotated constexpr).
    pub jit_functions: BTreeMap<String, Vec<(String, bool)>>,
}

impl Script {
    pub fn parse(path: &str, text: String) -> Result<Script, CompileError> {
        let file = SourceFile::new(path, text, 1);
        let parsed = ruff_python_parser::parse_module(&file.text).map_err(|e| {
            let (line, col) = line_col(&file.text, e.location.start().to_usize());
            CompileError::at(&file, line, col, format!("invalid syntax: {}", e.error))
        })?;
        let mut script = Script {
            file: file.clone(),
            modules: BTreeMap::new(),
            members: BTreeMap::new(),
            constants: BTreeMap::new(),
            jit_functions: BTreeMap::new(),
        };
        for stmt in parsed.syntax().body.iter() {
            script.visit(stmt);
        }
        Ok(script)
    }

    fn visit(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Import(imp) => {
                for alias in &imp.names {
                    let full = alias.name.as_str();
                    match &alias.asname {
                        Some(asname) => {
                            if let Some(kind) = module_kind(full) {
                                self.modules.insert(asname.as_str().to_string(), kind);
                            }
                        }
                        // `import triton.language` binds `triton`.
                        None => {
                            let top = full.split('.').next().unwrap_or(full);
                            if let Some(kind) = module_kind(top) {
                                self.modules.insert(top.to_string(), kind);
                            }
                        }
                    }
                }
            }
            Stmt::ImportFrom(imp) => {
                let Some(module) = &imp.module else { return };
                for alias in &imp.names {
                    let full = format!("{}.{}", module.as_str(), alias.name.as_str());
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                    if let Some(kind) = module_kind(&full) {
                        self.modules.insert(bound.as_str().to_string(), kind);
                    } else if let Some(kind) = module_kind(module.as_str()) {
                        let member = (kind, alias.name.as_str().to_string());
                        self.members.insert(bound.as_str().to_string(), member);
                    }
                }
            }
            Stmt::FunctionDef(def) if def.decorator_list.iter().any(is_jit_decorator) => {
                let params = def
                    .parameters
                    .posonlyargs
                    .iter()
                    .chain(def.parameters.args.iter())
                    .map(|p| {
                        let constexpr = p
                            .parameter
                            .annotation
                            .as_deref()
                            .is_some_and(|a| expr_tail(a) == Some("constexpr"));
                        (p.parameter.name.as_str().to_string(), constexpr)
                    })
                    .collect();
                self.jit_functions
                    .insert(def.name.as_str().to_string(), params);
            }
            Stmt::Assign(assign) if assign.targets.len() == 1 => {
                if let (Expr::Name(name), Some(value)) =
                    (&assign.targets[0], constant_value(&assign.value))
                {
                    self.constants.insert(name.id.as_str().to_string(), value);
                }
            }
            _ => {}
        }
    }

    /// The kernel `name` with its free names bound, callees resolved recursively.
    pub fn function(&self, name: &str) -> Result<FunctionSource, CompileError> {
        self.function_at_depth(name, 0)
    }

    fn function_at_depth(&self, name: &str, depth: u32) -> Result<FunctionSource, CompileError> {
        // Triton refuses recursion; a bound here keeps a self-call from looping.
        if depth > 64 {
            return Err(CompileError::general(format!(
                "recursive call chain through '{name}': recursion is not supported"
            )));
        }
        let mut globals = Globals::new();
        for free in tm_frontend::free_names(&self.file, name)? {
            let binding = if let Some(kind) = self.modules.get(&free) {
                Binding::Module(*kind)
            } else if let Some((module, name)) = self.members.get(&free) {
                Binding::ModuleMember {
                    module: *module,
                    name: name.clone(),
                }
            } else if let Some(value) = self.constants.get(&free) {
                Binding::Const(value.clone())
            } else if self.jit_functions.contains_key(&free) {
                Binding::JitFunction(Arc::new(self.function_at_depth(&free, depth + 1)?))
            } else {
                continue;
            };
            globals.insert(free, binding);
        }
        Ok(FunctionSource {
            file: self.file.clone(),
            name: name.to_string(),
            globals,
        })
    }
}

fn module_kind(path: &str) -> Option<ModuleKind> {
    let path = path
        .strip_prefix("triton_metal")
        .map_or_else(|| path.to_string(), |rest| format!("triton{rest}"));
    Some(match path.as_str() {
        "triton" => ModuleKind::Triton,
        "triton.language" => ModuleKind::Language,
        "triton.language.math" => ModuleKind::LanguageMath,
        "triton.language.extra.libdevice" | "triton.language.extra.cuda.libdevice" => {
            ModuleKind::Libdevice
        }
        "math" => ModuleKind::PyMath,
        _ => return None,
    })
}

fn is_jit_decorator(d: &ast::Decorator) -> bool {
    let e = match &d.expression {
        Expr::Call(call) => &*call.func,
        e => e,
    };
    expr_tail(e) == Some("jit")
}

/// The last name of `a.b.c` or `c`.
fn expr_tail(e: &Expr) -> Option<&str> {
    match e {
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Attribute(a) => Some(a.attr.as_str()),
        _ => None,
    }
}

fn constant_value(e: &Expr) -> Option<ConstValue> {
    match e {
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => i.as_i64().map(ConstValue::Int),
            Number::Float(f) => Some(ConstValue::Float(*f)),
            Number::Complex { .. } => None,
        },
        Expr::BooleanLiteral(b) => Some(ConstValue::Bool(b.value)),
        Expr::Call(call) if expr_tail(&call.func) == Some("constexpr") => {
            match &call.arguments.args[..] {
                [arg] => constant_value(arg),
                _ => None,
            }
        }
        _ => None,
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() as u32 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    (line, col)
}
