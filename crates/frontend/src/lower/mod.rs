//! Lowering of a parsed kernel to Tile IR: specialization on the call signature, then a
//! walk over statements and expressions that keeps constexprs in Python and emits IR for
//! everything else. Callees are inlined, each with its own scope and globals.

mod atomics;
mod block_ptr;
pub mod builtins;
mod call;
mod carried;
mod constfold;
pub(crate) mod debug;
mod dot;
mod elementwise;
mod expr;
mod promote;
mod reduce;
mod shapes;
mod stmt;
mod while_loop;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use ruff_python_ast as ast;
use ruff_text_size::Ranged;
use tm_core::{CompileError, Loc, SourceFile};
use tm_tile::{BlockId, Elem, Function, Literal, OpKind, ScalarType, Type, ValueId};

use crate::api::{ArgSpec, ConstValue, FunctionSource, Globals};
use crate::source::{self, Parsed};
use crate::values::Val;

pub type Result<T> = std::result::Result<T, CompileError>;

/// Calls nest at most this deep (Triton does not support recursion either).
const MAX_INLINE_DEPTH: usize = 32;

/// Where an error or an op comes from.
#[derive(Clone)]
pub struct Site {
    pub file: Arc<SourceFile>,
    pub loc: Loc,
}

impl Site {
    pub fn err(&self, reason: impl Into<String>) -> CompileError {
        CompileError::at(&self.file, self.loc.line, self.loc.col, reason)
    }
}

/// Per-function lowering state: one per inlined call.
pub struct FnCtx<'p> {
    pub src: &'p Parsed,
    pub file_idx: u32,
    pub globals: &'p Globals,
    /// Ordered, so that region results and loop-carried values come out in a stable order.
    pub scope: BTreeMap<String, Val>,
    /// Set by `return`: the statements after it are not lowered.
    pub returned: Option<Val>,
    pub is_kernel: bool,
    /// Number of enclosing runtime `if`/`for` regions.
    pub region_depth: usize,
    /// Number of enclosing runtime `if`s lowered as early exits (a bare `return` is fine
    /// there).
    pub exit_branches: usize,
}

impl<'p> FnCtx<'p> {
    fn new(src: &'p Parsed, file_idx: u32, globals: &'p Globals, is_kernel: bool) -> Self {
        FnCtx {
            src,
            file_idx,
            globals,
            scope: BTreeMap::new(),
            returned: None,
            is_kernel,
            region_depth: 0,
            exit_branches: 0,
        }
    }

    pub fn site(&self, node: &impl Ranged) -> Site {
        let (line, col) = self.src.map.line_col(node.range().start());
        Site {
            file: self.src.file.clone(),
            loc: Loc::new(self.file_idx, line, col),
        }
    }

    pub fn err(&self, node: &impl Ranged, reason: impl Into<String>) -> CompileError {
        self.src.error(node, reason)
    }
}

pub struct Lowerer {
    pub func: Function,
    /// Where new ops go.
    pub block: BlockId,
    inline_depth: usize,
    /// Loop bodies unrolled so far by `static_range`, bounded in total.
    pub unrolled: i64,
    /// Triton's debug mode: Python `assert` statements become device asserts.
    pub debug: bool,
    /// Files parsed so far, by the address of their `Arc` (each `Parsed` holds its file,
    /// so the address is not reused while cached): a helper inlined at many call sites
    /// (the standard library's sort makes hundreds of calls) is parsed once.
    parsed: HashMap<*const SourceFile, Arc<Parsed>>,
}

impl Lowerer {
    pub fn ty(&self, v: ValueId) -> Type {
        self.func.ty(v).clone()
    }

    pub fn emit(&mut self, kind: OpKind, operands: Vec<ValueId>, ty: Type, site: &Site) -> ValueId {
        self.func.push(self.block, kind, operands, ty, site.loc)
    }

    pub fn emit_void(&mut self, kind: OpKind, operands: Vec<ValueId>, site: &Site) {
        self.func
            .push_op(self.block, kind, operands, Vec::new(), Vec::new(), site.loc);
    }

    pub fn constant(&mut self, lit: Literal, ty: Type, site: &Site) -> ValueId {
        self.emit(OpKind::Constant(lit), Vec::new(), ty, site)
    }

    /// `file` parsed, from the cache when seen before.
    pub fn parsed(&mut self, file: &Arc<SourceFile>) -> Result<Arc<Parsed>> {
        let key = Arc::as_ptr(file);
        if let Some(p) = self.parsed.get(&key) {
            return Ok(p.clone());
        }
        let p = match crate::stdlib::parsed_stdlib_file(file) {
            Some(p) => p?,
            None => Arc::new(source::parse(file)?),
        };
        self.parsed.insert(key, p.clone());
        Ok(p)
    }

    /// The index of `file` in the function's file list, adding it on first use.
    fn file_index(&mut self, file: &Arc<SourceFile>) -> u32 {
        if let Some(i) = self
            .func
            .files
            .iter()
            .position(|f| Arc::ptr_eq(f, file) || **f == **file)
        {
            return i as u32;
        }
        self.func.files.push(file.clone());
        (self.func.files.len() - 1) as u32
    }
}

/// All parameters of a def in call order; `*args`/`**kwargs` are refused.
fn params_of<'a>(
    src: &Parsed,
    def: &'a ast::StmtFunctionDef,
) -> Result<Vec<&'a ast::ParameterWithDefault>> {
    let p = &def.parameters;
    if let Some(v) = &p.vararg {
        return Err(src.error(&**v, "unsupported: *args in a jit function"));
    }
    if let Some(v) = &p.kwarg {
        return Err(src.error(&**v, "unsupported: **kwargs in a jit function"));
    }
    Ok(p.posonlyargs
        .iter()
        .chain(p.args.iter())
        .chain(p.kwonlyargs.iter())
        .collect())
}

/// Specialize `kernel` on `args` and lower it to Tile IR.
pub fn lower(kernel: &FunctionSource, args: &[ArgSpec], debug: bool) -> Result<Function> {
    let parsed = source::parse(&kernel.file)?;
    let def = parsed.find_def(&kernel.name)?;
    let mut func = Function::new(kernel.name.clone());
    func.files.push(kernel.file.clone());
    let body = func.body;
    let mut l = Lowerer {
        func,
        block: body,
        inline_depth: 0,
        unrolled: 0,
        debug,
        parsed: HashMap::new(),
    };
    let mut cx = FnCtx::new(&parsed, 0, &kernel.globals, true);
    let params = params_of(&parsed, def)?;
    if args.len() > params.len() {
        return Err(parsed.error(
            &def.name,
            format!(
                "{}() takes {} arguments but {} were given",
                kernel.name,
                params.len(),
                args.len()
            ),
        ));
    }
    for (i, p) in params.iter().enumerate() {
        let name = p.parameter.name.as_str();
        let constexpr = l.is_constexpr_annotation(&mut cx, p.parameter.annotation.as_deref());
        let site = cx.site(&p.parameter);
        let val = match args.get(i) {
            Some(ArgSpec::Pointer {
                elem,
                divisible_by_16,
            }) => Val::Value(
                l.func
                    .add_param(name, Type::ptr(*elem), i as u32, *divisible_by_16),
            ),
            Some(ArgSpec::Scalar {
                ty,
                divisible_by_16,
                equal_to_one,
            }) => {
                if *equal_to_one && ty.is_int() && !ty.is_bool() {
                    Val::Const(ConstValue::Int(1))
                } else {
                    Val::Value(l.func.add_param(
                        name,
                        Type::scalar(*ty),
                        i as u32,
                        *divisible_by_16,
                    ))
                }
            }
            Some(ArgSpec::Constexpr(c)) => Val::from_const(c.clone()),
            None => match &p.default {
                Some(d) => {
                    let v = l.expr(&mut cx, d)?;
                    if v.to_const().is_none() {
                        return Err(cx.err(
                            &**d,
                            "default value of a kernel argument must be a constexpr",
                        ));
                    }
                    v
                }
                None => {
                    return Err(site.err(format!(
                        "{}() missing required argument: '{name}'",
                        kernel.name
                    )))
                }
            },
        };
        if constexpr && val.to_const().is_none() {
            return Err(site.err(format!(
                "argument '{name}' is annotated tl.constexpr but was not given a constant"
            )));
        }
        cx.scope.insert(name.to_string(), val);
    }
    l.body(&mut cx, &def.body)?;
    let end = Site {
        file: kernel.file.clone(),
        loc: Loc::UNKNOWN,
    };
    l.emit_void(OpKind::Return, Vec::new(), &end);
    Ok(l.func)
}

impl Lowerer {
    /// Whether an annotation names `tl.constexpr`. Other annotations are ignored, as Python
    /// does.
    fn is_constexpr_annotation(&mut self, cx: &mut FnCtx, ann: Option<&ast::Expr>) -> bool {
        match ann {
            Some(e @ (ast::Expr::Name(_) | ast::Expr::Attribute(_))) => match self.expr(cx, e) {
                Ok(v) => v == Val::ConstexprType,
                // `from triton.language import constexpr` leaves a name the Python layer
                // has no binding for: recognize it by spelling.
                Err(_) => match e {
                    ast::Expr::Name(n) => n.id.as_str() == "constexpr",
                    ast::Expr::Attribute(a) => a.attr.as_str() == "constexpr",
                    _ => false,
                },
            },
            Some(ast::Expr::StringLiteral(s)) => {
                let t = s.value.to_str();
                t == "tl.constexpr" || t == "constexpr" || t.ends_with(".constexpr")
            }
            _ => false,
        }
    }
}

/// Triton's spelling of a dtype in error messages (`fp32`, `int32`, `pointer<fp16>`).
pub fn triton_name(t: ScalarType) -> &'static str {
    match t {
        ScalarType::I1 => "int1",
        ScalarType::I8 => "int8",
        ScalarType::I16 => "int16",
        ScalarType::I32 => "int32",
        ScalarType::I64 => "int64",
        ScalarType::U8 => "uint8",
        ScalarType::U16 => "uint16",
        ScalarType::U32 => "uint32",
        ScalarType::U64 => "uint64",
        ScalarType::F16 => "fp16",
        ScalarType::BF16 => "bf16",
        ScalarType::F32 => "fp32",
        ScalarType::F64 => "fp64",
    }
}

pub fn elem_name(e: Elem) -> String {
    match e {
        Elem::Scalar(s) => triton_name(s).to_string(),
        Elem::Ptr(s) => format!("pointer<{}>", triton_name(s)),
    }
}

/// A type as Triton prints it: `fp32`, `<['128'], int32>`.
pub fn type_name(t: &Type) -> String {
    if t.shape.is_empty() {
        return elem_name(t.elem);
    }
    let dims: Vec<String> = t.shape.iter().map(|d| format!("'{d}'")).collect();
    format!("<[{}], {}>", dims.join(", "), elem_name(t.elem))
}
