//! The parts of `triton.language` that Triton writes in the Triton language itself
//! (`triton.language.standard` and `triton.language.random`): our own Triton-language
//! source, embedded in the crate (`crates/frontend/stdlib/*.py`), compiled like user
//! `@jit` functions and inlined at each call.
//!
//! [`lookup`] maps `tl.<name>` to a [`StdlibFunction`]; its
//! [`function_source`](StdlibFunction::function_source) is a ready [`FunctionSource`]
//! whose free names are all bound: the modules the file imports, the other functions of the
//! file (as [`Binding::JitFunction`]) and its module-level constants.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use ruff_python_ast::{self as ast, Expr, Number, Stmt, UnaryOp};
use tm_core::{CompileError, SourceFile};

use crate::api::{Binding, ConstValue, FunctionSource, Globals, ModuleKind};
use crate::{names, source};

/// One file of the standard library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StdlibModule {
    /// `triton.language.standard`: reductions, scans, sort, flip, softmax, ...
    Standard,
    /// `triton.language.random`: Philox and the distributions built on it.
    Random,
    /// `triton.language.extra.libdevice`, the functions without a frontend builtin.
    Libdevice,
}

impl StdlibModule {
    pub const ALL: [StdlibModule; 3] = [
        StdlibModule::Standard,
        StdlibModule::Random,
        StdlibModule::Libdevice,
    ];

    /// The path errors inside the file are reported at.
    pub fn path(self) -> &'static str {
        match self {
            StdlibModule::Standard => "triton_metal/language/standard.py",
            StdlibModule::Random => "triton_metal/language/random.py",
            StdlibModule::Libdevice => "triton_metal/language/extra/libdevice.py",
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            StdlibModule::Standard => include_str!("../stdlib/standard.py"),
            StdlibModule::Random => include_str!("../stdlib/random.py"),
            StdlibModule::Libdevice => include_str!("../stdlib/libdevice.py"),
        }
    }

    /// The file, shared by every function of the module (one `Arc` per process, so the
    /// frontend's per-file caches see one file).
    pub fn file(self) -> Arc<SourceFile> {
        static FILES: [OnceLock<Arc<SourceFile>>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        FILES[self as usize]
            .get_or_init(|| SourceFile::new(self.path(), self.text(), 1))
            .clone()
    }

    /// The file parsed, once per process.
    fn parsed(self) -> Result<Arc<source::Parsed>, CompileError> {
        type Cached = Result<Arc<source::Parsed>, CompileError>;
        static PARSED: [OnceLock<Cached>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        PARSED[self as usize]
            .get_or_init(|| source::parse(&self.file()).map(Arc::new))
            .clone()
    }

    /// Every `def` of the file with its free names bound, built once.
    fn functions(self) -> Result<&'static BTreeMap<String, Arc<FunctionSource>>, CompileError> {
        type Built = Result<BTreeMap<String, Arc<FunctionSource>>, CompileError>;
        static BUILT: [OnceLock<Built>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        BUILT[self as usize]
            .get_or_init(|| build_module(&self.file()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The parsed standard-library file `file` is (the same `Arc`), parsed once per process;
/// `None` for any other file.
pub(crate) fn parsed_stdlib_file(
    file: &Arc<SourceFile>,
) -> Option<Result<Arc<source::Parsed>, CompileError>> {
    StdlibModule::ALL
        .into_iter()
        .find(|m| Arc::ptr_eq(&m.file(), file))
        .map(|m| m.parsed())
}

/// A public function of the standard library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StdlibFunction {
    /// Its name in `triton.language` (`tl.<name>`), which is also the `def` in its file.
    pub name: &'static str,
    pub module: StdlibModule,
    /// Triton also makes it a tensor method (`x.sum(axis=1)`): the receiver is passed as
    /// the first positional argument.
    pub tensor_method: bool,
}

impl StdlibFunction {
    /// The function ready to inline, every free name bound. An error here is a bug of the
    /// embedded source (the tests build every function), never of the user's kernel.
    pub fn function_source(&self) -> Result<Arc<FunctionSource>, CompileError> {
        let fns = self.module.functions()?;
        fns.get(self.name).cloned().ok_or_else(|| {
            CompileError::general(format!(
                "internal error: the standard library has no function '{}'",
                self.name
            ))
        })
    }

    /// The text of the module the function is defined in.
    pub fn source_text(&self) -> &'static str {
        self.module.text()
    }
}

use StdlibModule::{Libdevice, Random, Standard};

/// `(name, module, tensor method)`. The tensor methods are Triton's `_tensor_member_fn`s.
const PUBLIC: &[(&str, StdlibModule, bool)] = &[
    ("cdiv", Standard, true),
    ("sigmoid", Standard, true),
    ("softmax", Standard, true),
    ("ravel", Standard, true),
    ("swizzle2d", Standard, false),
    ("zeros", Standard, false),
    ("zeros_like", Standard, false),
    ("max", Standard, true),
    ("argmax", Standard, true),
    ("min", Standard, true),
    ("argmin", Standard, true),
    ("sum", Standard, true),
    ("xor_sum", Standard, true),
    ("reduce_or", Standard, true),
    ("cumsum", Standard, true),
    ("cumprod", Standard, true),
    ("sort", Standard, true),
    ("topk", Standard, true),
    ("bitonic_merge", Standard, false),
    ("flip", Standard, true),
    ("interleave", Standard, false),
    ("philox", Random, false),
    ("philox_impl", Random, false),
    ("randint", Random, false),
    ("randint4x", Random, false),
    ("rand", Random, false),
    ("rand4x", Random, false),
    ("randn", Random, false),
    ("randn4x", Random, false),
    ("uint_to_uniform_float", Random, false),
    ("pair_uniform_to_normal", Random, false),
    ("signbit", Libdevice, false),
    ("isfinitef", Libdevice, false),
    ("copysign", Libdevice, false),
    ("fdim", Libdevice, false),
    ("saturatef", Libdevice, false),
    ("round", Libdevice, false),
    ("nearbyint", Libdevice, false),
    ("fmod", Libdevice, false),
    ("rcp_rn", Libdevice, false),
    ("fast_dividef", Libdevice, false),
    ("fast_expf", Libdevice, false),
    ("fast_logf", Libdevice, false),
    ("fast_log2f", Libdevice, false),
    ("fast_log10f", Libdevice, false),
    ("fast_exp10f", Libdevice, false),
    ("fast_powf", Libdevice, false),
    ("fast_sinf", Libdevice, false),
    ("fast_cosf", Libdevice, false),
    ("fast_tanf", Libdevice, false),
    ("exp10", Libdevice, false),
    ("log10", Libdevice, false),
    ("log1p", Libdevice, false),
    ("expm1", Libdevice, false),
    ("cbrt", Libdevice, false),
    ("ldexp", Libdevice, false),
    ("hypot", Libdevice, false),
    ("asinh", Libdevice, false),
    ("acosh", Libdevice, false),
    ("atanh", Libdevice, false),
    ("erfc", Libdevice, false),
    ("normcdf", Libdevice, false),
    ("sinpi", Libdevice, false),
    ("cospi", Libdevice, false),
    ("mulhi", Libdevice, false),
    ("popc", Libdevice, false),
    ("clz", Libdevice, false),
    ("brev", Libdevice, false),
    ("ffs", Libdevice, false),
];

fn entry(&(name, module, tensor_method): &(&'static str, StdlibModule, bool)) -> StdlibFunction {
    StdlibFunction {
        name,
        module,
        tensor_method,
    }
}

/// The standard-library function `tl.<name>`, if there is one. The frontend should try
/// its builtins first: where both exist (`cdiv`, `zeros`, reductions it lowers natively),
/// the builtin is the faster path and this one the reference.
pub fn lookup(name: &str) -> Option<StdlibFunction> {
    PUBLIC
        .iter()
        .find(|e| e.0 == name && e.1 != Libdevice)
        .map(entry)
}

/// The `libdevice.<name>` function written in the Triton language, if there is one (the
/// frontend tries its builtins first).
pub fn libdevice(name: &str) -> Option<StdlibFunction> {
    PUBLIC
        .iter()
        .find(|e| e.0 == name && e.1 == Libdevice)
        .map(entry)
}

/// The standard-library function behind the tensor method `x.<name>(...)`, if any.
pub fn tensor_method(name: &str) -> Option<StdlibFunction> {
    lookup(name).filter(|f| f.tensor_method)
}

/// Every public function, in a stable order.
pub fn all() -> impl Iterator<Item = StdlibFunction> {
    PUBLIC.iter().map(entry)
}

/// What a module-level name of a stdlib file is.
enum TopLevel {
    Def,
    Module(ModuleKind),
    Const(ConstValue),
}

/// The module a dotted import path names, as the Python layer would resolve it.
fn module_kind(path: &str) -> Option<ModuleKind> {
    Some(match path {
        "triton.language" | "triton_metal.language" => ModuleKind::Language,
        "triton.language.math" | "triton_metal.language.math" => ModuleKind::LanguageMath,
        "triton.language.extra.libdevice" | "triton_metal.language.extra.libdevice" => {
            ModuleKind::Libdevice
        }
        "triton" | "triton_metal" => ModuleKind::Triton,
        "math" => ModuleKind::PyMath,
        _ => return None,
    })
}

/// A module-level constant: a literal, possibly negated or wrapped in `tl.constexpr(...)`.
fn literal(e: &Expr) -> Option<ConstValue> {
    match e {
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => i.as_i64().map(ConstValue::Int),
            Number::Float(f) => Some(ConstValue::Float(*f)),
            Number::Complex { .. } => None,
        },
        Expr::BooleanLiteral(b) => Some(ConstValue::Bool(b.value)),
        Expr::NoneLiteral(_) => Some(ConstValue::None),
        Expr::UnaryOp(u) if u.op == UnaryOp::USub => match literal(&u.operand)? {
            ConstValue::Int(v) => v.checked_neg().map(ConstValue::Int),
            ConstValue::Float(v) => Some(ConstValue::Float(-v)),
            _ => None,
        },
        Expr::Call(c)
            if c.arguments.args.len() == 1
                && c.arguments.keywords.is_empty()
                && matches!(&*c.func, Expr::Attribute(a) if a.attr.as_str() == "constexpr") =>
        {
            literal(&c.arguments.args[0])
        }
        _ => None,
    }
}

fn top_level_names(parsed: &source::Parsed) -> Result<BTreeMap<String, TopLevel>, CompileError> {
    let mut out = BTreeMap::new();
    for stmt in &parsed.module.body {
        match stmt {
            Stmt::FunctionDef(f) => {
                out.insert(f.name.to_string(), TopLevel::Def);
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    let path = a.name.as_str();
                    let (bound, target) = match &a.asname {
                        Some(n) => (n.as_str(), path),
                        // `import a.b` binds `a`.
                        None => {
                            let first = path.split('.').next().unwrap_or(path);
                            (first, first)
                        }
                    };
                    let kind = module_kind(target).ok_or_else(|| {
                        parsed.error(a, format!("stdlib: unknown module '{target}'"))
                    })?;
                    out.insert(bound.to_string(), TopLevel::Module(kind));
                }
            }
            Stmt::Assign(ast::StmtAssign { targets, value, .. }) => {
                let [Expr::Name(n)] = targets.as_slice() else {
                    return Err(parsed.error(stmt, "stdlib: only `NAME = literal` at top level"));
                };
                let v = literal(value).ok_or_else(|| {
                    parsed.error(&**value, "stdlib: a module constant must be a literal")
                })?;
                out.insert(n.id.to_string(), TopLevel::Const(v));
            }
            Stmt::AnnAssign(ast::StmtAnnAssign {
                target,
                value: Some(value),
                ..
            }) => {
                let Expr::Name(n) = &**target else {
                    return Err(parsed.error(stmt, "stdlib: only `NAME = literal` at top level"));
                };
                let v = literal(value).ok_or_else(|| {
                    parsed.error(&**value, "stdlib: a module constant must be a literal")
                })?;
                out.insert(n.id.to_string(), TopLevel::Const(v));
            }
            // The module docstring.
            Stmt::Expr(e) if e.value.is_string_literal_expr() => {}
            other => {
                return Err(parsed.error(
                    other,
                    "stdlib: only imports, constants and functions at top level",
                ))
            }
        }
    }
    Ok(out)
}

/// Build every function of a stdlib file, each with its free names bound.
fn build_module(
    file: &Arc<SourceFile>,
) -> Result<BTreeMap<String, Arc<FunctionSource>>, CompileError> {
    let parsed = source::parse(file)?;
    let top = top_level_names(&parsed)?;
    let parsed = &parsed;
    let mut built = BTreeMap::new();
    let defs: Vec<&String> = top
        .iter()
        .filter(|(_, t)| matches!(t, TopLevel::Def))
        .map(|(n, _)| n)
        .collect();
    for name in defs {
        let mut visiting = BTreeSet::new();
        build_function(parsed, &top, name, &mut built, &mut visiting)?;
    }
    Ok(built)
}

fn build_function(
    parsed: &source::Parsed,
    top: &BTreeMap<String, TopLevel>,
    name: &str,
    built: &mut BTreeMap<String, Arc<FunctionSource>>,
    visiting: &mut BTreeSet<String>,
) -> Result<Arc<FunctionSource>, CompileError> {
    if let Some(f) = built.get(name) {
        return Ok(f.clone());
    }
    if !visiting.insert(name.to_string()) {
        // Calls are inlined: a cycle would never finish compiling.
        return Err(CompileError::general(format!(
            "internal error: stdlib function '{name}' is recursive"
        )));
    }
    let mut globals = Globals::new();
    let file = &parsed.file;
    for free in names::free_names_in(parsed, name)? {
        let binding = match top.get(&free) {
            Some(TopLevel::Def) => {
                Binding::JitFunction(build_function(parsed, top, &free, built, visiting)?)
            }
            Some(TopLevel::Module(m)) => Binding::Module(*m),
            Some(TopLevel::Const(c)) => Binding::Const(c.clone()),
            None => {
                return Err(CompileError::general(format!(
                "internal error: stdlib function '{name}' reads '{free}', which {} does not define",
                file.path
            )))
            }
        };
        globals.insert(free, binding);
    }
    visiting.remove(name);
    let f = Arc::new(FunctionSource {
        file: file.clone(),
        name: name.to_string(),
        globals,
    });
    built.insert(name.to_string(), f.clone());
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_public_function_is_built_with_bound_globals() {
        for f in all() {
            let src = f
                .function_source()
                .unwrap_or_else(|e| panic!("{}: {e}", f.name));
            assert_eq!(src.name, f.name);
            let free = names::free_names(&src.file, f.name).unwrap();
            let bound: Vec<&String> = src.globals.keys().collect();
            assert_eq!(bound, free.iter().collect::<Vec<_>>(), "{}", f.name);
        }
    }

    #[test]
    fn helpers_are_bound_as_jit_functions_and_constants_as_values() {
        let randint = lookup("randint").unwrap().function_source().unwrap();
        match randint.globals.get("randint4x") {
            Some(Binding::JitFunction(g)) => assert_eq!(g.name, "randint4x"),
            other => panic!("randint4x bound to {other:?}"),
        }
        assert_eq!(
            randint.globals.get("N_ROUNDS_DEFAULT"),
            Some(&Binding::Const(ConstValue::Int(10)))
        );
        let argmax = lookup("argmax").unwrap().function_source().unwrap();
        // argmax -> _max -> _reduce_with_indices: bound through the chain.
        let Some(Binding::JitFunction(max)) = argmax.globals.get("_max") else {
            panic!("argmax does not bind _max: {:?}", argmax.globals.keys());
        };
        assert!(matches!(
            max.globals.get("_reduce_with_indices"),
            Some(Binding::JitFunction(_))
        ));
    }

    #[test]
    fn stdlib_files_are_parsed_once_per_process() {
        for m in StdlibModule::ALL {
            let a = parsed_stdlib_file(&m.file()).unwrap().unwrap();
            let b = parsed_stdlib_file(&m.file()).unwrap().unwrap();
            assert!(Arc::ptr_eq(&a, &b), "{:?} parsed twice", m);
        }
        // A file with the same text but another identity is not the stdlib's.
        let copy = SourceFile::new(Standard.path(), Standard.text(), 1);
        assert!(parsed_stdlib_file(&copy).is_none());
    }

    #[test]
    fn lookup_knows_public_names_only() {
        assert!(lookup("rand").is_some());
        assert!(lookup("_max").is_none());
        assert!(lookup("_log2").is_none());
        assert!(tensor_method("sum").is_some());
        assert!(tensor_method("rand").is_none());
    }

    #[test]
    fn module_constants() {
        let parse = |s: &str| {
            let m = ruff_python_parser::parse_module(s).unwrap().into_syntax();
            match &m.body[0] {
                Stmt::Assign(a) => literal(&a.value),
                _ => None,
            }
        };
        assert_eq!(parse("X = -3"), Some(ConstValue::Int(-3)));
        assert_eq!(parse("X = tl.constexpr(10)"), Some(ConstValue::Int(10)));
        assert_eq!(parse("X = 1.5"), Some(ConstValue::Float(1.5)));
        assert_eq!(parse("X = f(1)"), None);
    }
}
