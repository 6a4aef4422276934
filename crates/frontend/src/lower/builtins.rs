//! The callable things of the language: `triton.language` functions, tensor methods and
//! Python builtins, looked up by name in tables so that adding one is a table row and a
//! match arm.

use tm_tile::{AtomicOp, BinaryOp, Elem, Literal, OpKind, ScalarType, Type, UnaryOp, ValueId};

use super::atomics;
use super::block_ptr;
use super::debug::{self, DebugFn};
use super::dot;
use super::elementwise::{self, DtypeQuery, EwFn};
use super::promote::Operand;
use super::reduce::{self, ReduceFn, ScanFn};
use super::shapes::{self, ShapeFn};
use super::{constfold, elem_name, triton_name, type_name, Lowerer, Result, Site};
use crate::api::{ConstValue, Fp8, ModuleKind};
use crate::values::Val;
use tm_core::CompileError;

/// Triton's `TRITON_MAX_TENSOR_NUMEL`.
pub const MAX_TENSOR_NUMEL: u64 = 1 << 20;
/// Bodies of `tl.static_range` loops are lowered at most this many times in total.
pub const MAX_UNROLL: i64 = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    ProgramId,
    NumPrograms,
    Arange,
    Zeros,
    Full,
    Load,
    Store,
    Where,
    Maximum,
    Minimum,
    /// Elementwise math on floats (`abs` also on ints).
    Math(UnaryOp),
    Cast,
    Cdiv,
    /// Iterators: only valid as the iterable of a `for`.
    StaticRange,
    Range,
    PyRange,
    StaticAssert,
    StaticPrint,
    PyMin,
    PyMax,
    PyLen,
    PyInt,
    PyFloat,
    PyBool,
    PyAbs,
    /// Python's `math` functions on constexprs.
    PyMath(PyMathFn),
    Reduce(ReduceFn),
    Scan(ScanFn),
    Shape(ShapeFn),
    Dot,
    Debug(DebugFn),
    Elementwise(EwFn),
    /// `dtype.is_int()` and friends, already answered for the receiver's dtype.
    DtypeQuery(ScalarType, DtypeQuery),
    /// `pointer_type.is_ptr()` and friends: the receiver is a pointer.
    PtrQuery(DtypeQuery),
    AtomicRmw(AtomicOp),
    AtomicCas,
    MakeBlockPtr,
    Advance,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PyMathFn {
    Log2,
    Log,
    Exp,
    Sqrt,
    Ceil,
    Floor,
}

const TL_FUNCTIONS: &[(&str, Builtin)] = &[
    ("program_id", Builtin::ProgramId),
    ("num_programs", Builtin::NumPrograms),
    ("arange", Builtin::Arange),
    ("zeros", Builtin::Zeros),
    ("full", Builtin::Full),
    ("load", Builtin::Load),
    ("store", Builtin::Store),
    ("where", Builtin::Where),
    ("maximum", Builtin::Maximum),
    ("minimum", Builtin::Minimum),
    ("cast", Builtin::Cast),
    ("cdiv", Builtin::Cdiv),
    ("static_range", Builtin::StaticRange),
    ("range", Builtin::Range),
    ("static_assert", Builtin::StaticAssert),
    ("static_print", Builtin::StaticPrint),
    ("sum", Builtin::Reduce(ReduceFn::Sum)),
    ("max", Builtin::Reduce(ReduceFn::Max)),
    ("min", Builtin::Reduce(ReduceFn::Min)),
    ("xor_sum", Builtin::Reduce(ReduceFn::XorSum)),
    ("reduce", Builtin::Reduce(ReduceFn::Generic)),
    ("associative_scan", Builtin::Scan(ScanFn::Generic)),
    ("cumsum", Builtin::Scan(ScanFn::Cumsum)),
    ("cumprod", Builtin::Scan(ScanFn::Cumprod)),
    ("reshape", Builtin::Shape(ShapeFn::Reshape)),
    ("view", Builtin::Shape(ShapeFn::View)),
    ("trans", Builtin::Shape(ShapeFn::Trans)),
    ("permute", Builtin::Shape(ShapeFn::Permute)),
    ("expand_dims", Builtin::Shape(ShapeFn::ExpandDims)),
    ("broadcast_to", Builtin::Shape(ShapeFn::BroadcastTo)),
    ("broadcast", Builtin::Shape(ShapeFn::Broadcast)),
    ("join", Builtin::Shape(ShapeFn::Join)),
    ("split", Builtin::Shape(ShapeFn::Split)),
    ("zeros_like", Builtin::Shape(ShapeFn::ZerosLike)),
    ("dot", Builtin::Dot),
    ("device_print", Builtin::Debug(DebugFn::DevicePrint)),
    ("device_assert", Builtin::Debug(DebugFn::DeviceAssert)),
    ("multiple_of", Builtin::Debug(DebugFn::MultipleOf)),
    ("max_contiguous", Builtin::Debug(DebugFn::MaxContiguous)),
    ("max_constancy", Builtin::Debug(DebugFn::MaxConstancy)),
    ("assume", Builtin::Debug(DebugFn::Assume)),
    ("debug_barrier", Builtin::Debug(DebugFn::DebugBarrier)),
    ("fma", Builtin::Elementwise(EwFn::Fma)),
    ("umulhi", Builtin::Elementwise(EwFn::Umulhi)),
    ("div_rn", Builtin::Elementwise(EwFn::DivRn)),
    ("fdiv", Builtin::Elementwise(EwFn::Fdiv)),
    ("clamp", Builtin::Elementwise(EwFn::Clamp)),
    ("to_tensor", Builtin::Elementwise(EwFn::ToTensor)),
    ("atomic_add", Builtin::AtomicRmw(AtomicOp::Add)),
    ("atomic_max", Builtin::AtomicRmw(AtomicOp::Max)),
    ("atomic_min", Builtin::AtomicRmw(AtomicOp::Min)),
    ("atomic_and", Builtin::AtomicRmw(AtomicOp::And)),
    ("atomic_or", Builtin::AtomicRmw(AtomicOp::Or)),
    ("atomic_xor", Builtin::AtomicRmw(AtomicOp::Xor)),
    ("atomic_xchg", Builtin::AtomicRmw(AtomicOp::Xchg)),
    ("atomic_cas", Builtin::AtomicCas),
    ("make_block_ptr", Builtin::MakeBlockPtr),
    ("advance", Builtin::Advance),
];

/// Functions of `tl.math` beyond `TL_MATH`.
const MATH_FUNCTIONS: &[(&str, Builtin)] = &[
    ("cdiv", Builtin::Cdiv),
    ("maximum", Builtin::Maximum),
    ("minimum", Builtin::Minimum),
    ("fma", Builtin::Elementwise(EwFn::Fma)),
    ("umulhi", Builtin::Elementwise(EwFn::Umulhi)),
    ("div_rn", Builtin::Elementwise(EwFn::DivRn)),
    ("fdiv", Builtin::Elementwise(EwFn::Fdiv)),
    ("clamp", Builtin::Elementwise(EwFn::Clamp)),
];

/// Functions of `libdevice` of more than one operand.
const LIBDEVICE_FUNCTIONS: &[(&str, Builtin)] = &[
    ("pow", Builtin::Elementwise(EwFn::Pow)),
    ("powf", Builtin::Elementwise(EwFn::Pow)),
    ("atan2", Builtin::Elementwise(EwFn::Atan2)),
    ("fma", Builtin::Elementwise(EwFn::Fma)),
    ("div_rn", Builtin::Elementwise(EwFn::DivRn)),
    ("fmax", Builtin::Maximum),
    ("fmin", Builtin::Minimum),
    ("max", Builtin::Maximum),
    ("min", Builtin::Minimum),
    ("umulhi", Builtin::Elementwise(EwFn::Umulhi)),
];

/// Math functions of `tl` and `tl.math`.
const TL_MATH: &[(&str, UnaryOp)] = &[
    ("exp", UnaryOp::Exp),
    ("exp2", UnaryOp::Exp2),
    ("log", UnaryOp::Log),
    ("log2", UnaryOp::Log2),
    ("sqrt", UnaryOp::Sqrt),
    ("sqrt_rn", UnaryOp::SqrtRn),
    ("rsqrt", UnaryOp::Rsqrt),
    ("sin", UnaryOp::Sin),
    ("cos", UnaryOp::Cos),
    ("abs", UnaryOp::Abs),
    ("floor", UnaryOp::Floor),
    ("ceil", UnaryOp::Ceil),
    ("erf", UnaryOp::Erf),
];

/// Extra functions of `libdevice` beyond `TL_MATH`.
const LIBDEVICE_MATH: &[(&str, UnaryOp)] = &[
    ("tan", UnaryOp::Tan),
    ("asin", UnaryOp::Asin),
    ("acos", UnaryOp::Acos),
    ("atan", UnaryOp::Atan),
    ("sinh", UnaryOp::Sinh),
    ("cosh", UnaryOp::Cosh),
    ("tanh", UnaryOp::Tanh),
    ("rint", UnaryOp::Rint),
    ("trunc", UnaryOp::Trunc),
    ("isnan", UnaryOp::IsNan),
    ("isinf", UnaryOp::IsInf),
    ("fabs", UnaryOp::Abs),
];

/// Methods of tensors (`x.sum(...)`, `x.reshape(...)`): the `tl` function of the same name
/// with the receiver as the first argument (`x.to(...)` is `tl.cast`).
const TENSOR_METHODS: &[&str] = &[
    "sum",
    "max",
    "min",
    "xor_sum",
    "reduce",
    "associative_scan",
    "cumsum",
    "cumprod",
    "reshape",
    "view",
    "trans",
    "permute",
    "expand_dims",
    "broadcast_to",
    "join",
    "split",
];

fn tensor_method(name: &str) -> Option<Builtin> {
    if name == "to" {
        return Some(Builtin::Cast);
    }
    TENSOR_METHODS
        .contains(&name)
        .then(|| find(TL_FUNCTIONS, name))
        .flatten()
}

const TL_DTYPES: &[(&str, ScalarType)] = &[
    ("int1", ScalarType::I1),
    ("int8", ScalarType::I8),
    ("int16", ScalarType::I16),
    ("int32", ScalarType::I32),
    ("int64", ScalarType::I64),
    ("uint8", ScalarType::U8),
    ("uint16", ScalarType::U16),
    ("uint32", ScalarType::U32),
    ("uint64", ScalarType::U64),
    ("float16", ScalarType::F16),
    ("bfloat16", ScalarType::BF16),
    ("float32", ScalarType::F32),
    ("float64", ScalarType::F64),
];

fn find<T: Copy>(table: &[(&str, T)], name: &str) -> Option<T> {
    table.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub fn python_builtin(name: &str) -> Option<Builtin> {
    Some(match name {
        "range" => Builtin::PyRange,
        "min" => Builtin::PyMin,
        "max" => Builtin::PyMax,
        "len" => Builtin::PyLen,
        "int" => Builtin::PyInt,
        "float" => Builtin::PyFloat,
        "bool" => Builtin::PyBool,
        "abs" => Builtin::PyAbs,
        "print" => Builtin::Debug(DebugFn::PyPrint),
        _ => return None,
    })
}

/// `value.name`.
pub fn attribute(l: &mut Lowerer, v: Val, name: &str, site: &Site) -> Result<Val> {
    match &v {
        Val::Module(m) => module_attribute(*m, name, site),
        Val::Value(x) => {
            let ty = l.ty(*x);
            match name {
                "dtype" => match ty.elem {
                    Elem::Scalar(s) => Ok(Val::Const(ConstValue::Dtype(s))),
                    Elem::Ptr(p) => Ok(Val::PtrDtype(p)),
                },
                // The type of a scalar is its dtype (`Out.type.element_ty` on a pointer
                // argument); a block's type (shape and all) is not modelled.
                "type" if ty.shape.is_empty() => match ty.elem {
                    Elem::Scalar(s) => Ok(Val::Const(ConstValue::Dtype(s))),
                    Elem::Ptr(p) => Ok(Val::PtrDtype(p)),
                },
                "type" => Err(site.err("unsupported: the type of a block (use .dtype and .shape)")),
                "shape" => Ok(Val::Tuple(
                    ty.shape
                        .iter()
                        .map(|&d| Val::Const(ConstValue::Int(d as i64)))
                        .collect(),
                )),
                "numel" => Ok(Val::Const(ConstValue::Int(ty.numel() as i64))),
                "T" => Ok(Val::Value(shapes::transpose(l, *x, site)?)),
                _ => {
                    if let Some(b) = tensor_method(name) {
                        return Ok(Val::Method(Box::new(v), b));
                    }
                    if let Some(op) = find(TL_MATH, name) {
                        return Ok(Val::Method(Box::new(v), Builtin::Math(op)));
                    }
                    if let Some(f) = crate::stdlib::tensor_method(name) {
                        let src = f.function_source().map_err(|e| site.err(e.reason))?;
                        return Ok(Val::BoundJit(Box::new(v), src));
                    }
                    Err(site.err(format!("unsupported: tensor attribute '{name}'")))
                }
            }
        }
        Val::Const(c) if name == "value" => Ok(Val::Const(c.clone())),
        Val::PtrDtype(p) if name == "element_ty" => Ok(Val::Const(ConstValue::Dtype(*p))),
        Val::PtrDtype(_) if elementwise::dtype_query(name).is_some() => Ok(Val::Builtin(
            Builtin::PtrQuery(elementwise::dtype_query(name).unwrap_or(DtypeQuery::IsPtr)),
        )),
        Val::PropagateNan => match name {
            "NONE" => Ok(Val::Const(ConstValue::Int(elementwise::PROPAGATE_NAN_NONE))),
            "ALL" => Ok(Val::Const(ConstValue::Int(elementwise::PROPAGATE_NAN_ALL))),
            _ => Err(site.err(format!(
                "type object 'PropagateNan' has no attribute '{name}'"
            ))),
        },
        Val::Const(ConstValue::Dtype(t)) => dtype_attribute(*t, name, site),
        Val::Const(ConstValue::Fp8Dtype(f)) => fp8_attribute(*f, name, site),
        other => Err(site.err(format!(
            "'{}' object has no attribute '{name}'",
            other.kind_name()
        ))),
    }
}

/// Constant facts about an 8-bit float dtype.
fn fp8_attribute(f: Fp8, name: &str, site: &Site) -> Result<Val> {
    let v = match name {
        "primitive_bitwidth" => ConstValue::Int(8),
        "element_ty" | "scalar" => ConstValue::Fp8Dtype(f),
        "name" => ConstValue::Str(f.triton_name().to_string()),
        _ => return Err(fp8_unsupported(f, site)),
    };
    Ok(Val::Const(v))
}

/// The error for a use of an 8-bit float dtype that needs its values.
pub(super) fn fp8_unsupported(f: Fp8, site: &Site) -> CompileError {
    site.err(format!(
        "unsupported: {} (tl.{}): no target computes with 8-bit floats",
        f.triton_name(),
        f.language_name()
    ))
}

/// Constant facts about a dtype.
fn dtype_attribute(t: ScalarType, name: &str, site: &Site) -> Result<Val> {
    let v = match name {
        "primitive_bitwidth" => ConstValue::Int(t.bits() as i64),
        "element_ty" | "scalar" => ConstValue::Dtype(t),
        "int_bitwidth" if t.is_int() => ConstValue::Int(t.bits() as i64),
        "fp_mantissa_width" if t.is_float() => ConstValue::Int(match t {
            ScalarType::F16 => 10,
            ScalarType::BF16 => 7,
            ScalarType::F32 => 23,
            _ => 52,
        }),
        "name" => ConstValue::Str(triton_name(t).to_string()),
        _ => {
            if let Some(q) = elementwise::dtype_query(name) {
                return Ok(Val::Builtin(Builtin::DtypeQuery(t, q)));
            }
            return Err(site.err(format!("unsupported: dtype attribute '{name}'")));
        }
    };
    Ok(Val::Const(v))
}

fn module_attribute(m: ModuleKind, name: &str, site: &Site) -> Result<Val> {
    let found = match m {
        ModuleKind::Language => {
            if name == "constexpr" {
                Some(Val::ConstexprType)
            } else if name == "math" {
                Some(Val::Module(ModuleKind::LanguageMath))
            } else if name == "PropagateNan" {
                Some(Val::PropagateNan)
            } else if let Some(t) = find(TL_DTYPES, name) {
                Some(Val::Const(ConstValue::Dtype(t)))
            } else if let Some(f) = Fp8::ALL.into_iter().find(|f| f.language_name() == name) {
                Some(Val::Const(ConstValue::Fp8Dtype(f)))
            } else if let Some(b) = find(TL_FUNCTIONS, name) {
                Some(Val::Builtin(b))
            } else {
                find(TL_MATH, name).map(|op| Val::Builtin(Builtin::Math(op)))
            }
        }
        ModuleKind::LanguageMath => find(MATH_FUNCTIONS, name)
            .map(Val::Builtin)
            .or_else(|| find(TL_MATH, name).map(|op| Val::Builtin(Builtin::Math(op)))),
        ModuleKind::Libdevice => find(TL_MATH, name)
            .or_else(|| find(LIBDEVICE_MATH, name))
            .map(|op| Val::Builtin(Builtin::Math(op)))
            .or_else(|| find(LIBDEVICE_FUNCTIONS, name).map(Val::Builtin)),
        ModuleKind::Triton => match name {
            "language" => Some(Val::Module(ModuleKind::Language)),
            "cdiv" => Some(Val::Builtin(Builtin::Cdiv)),
            _ => None,
        },
        ModuleKind::PyMath => match name {
            "pi" => Some(Val::Const(ConstValue::Float(std::f64::consts::PI))),
            "e" => Some(Val::Const(ConstValue::Float(std::f64::consts::E))),
            "tau" => Some(Val::Const(ConstValue::Float(std::f64::consts::TAU))),
            "inf" => Some(Val::Const(ConstValue::Float(f64::INFINITY))),
            "nan" => Some(Val::Const(ConstValue::Float(f64::NAN))),
            "log2" => Some(Val::Builtin(Builtin::PyMath(PyMathFn::Log2))),
            "log" => Some(Val::Builtin(Builtin::PyMath(PyMathFn::Log))),
            "exp" => Some(Val::Builtin(Builtin::PyMath(PyMathFn::Exp))),
            "sqrt" => Some(Val::Builtin(Builtin::PyMath(PyMathFn::Sqrt))),
            "ceil" => Some(Val::Builtin(Builtin::PyMath(PyMathFn::Ceil))),
            "floor" => Some(Val::Builtin(Builtin::PyMath(PyMathFn::Floor))),
            _ => None,
        },
    };
    if found.is_none() {
        // Functions written in the language itself: inlined like user @jit functions.
        let f = match m {
            ModuleKind::Language => crate::stdlib::lookup(name),
            ModuleKind::Libdevice => crate::stdlib::libdevice(name),
            _ => None,
        };
        if let Some(f) = f {
            let src = f.function_source().map_err(|e| site.err(e.reason))?;
            return Ok(Val::JitFn(src));
        }
    }
    found.ok_or_else(|| {
        let module = match m {
            ModuleKind::Language => "triton.language",
            ModuleKind::LanguageMath => "triton.language.math",
            ModuleKind::Libdevice => "libdevice",
            ModuleKind::Triton => "triton",
            ModuleKind::PyMath => "math",
        };
        site.err(format!(
            "unsupported: '{name}' is not a function of {module} (or not supported yet)"
        ))
    })
}

/// The arguments of a call, evaluated.
pub struct Args {
    pub pos: Vec<Val>,
    pub kw: Vec<(String, Val)>,
}

impl Args {
    /// Bind to `params` as Python does; the first `required` must be given.
    pub fn bind(
        self,
        fname: &str,
        params: &[&str],
        required: usize,
        site: &Site,
    ) -> Result<Vec<Option<Val>>> {
        if self.pos.len() > params.len() {
            return Err(site.err(format!(
                "{fname}() takes {} positional arguments but {} were given",
                params.len(),
                self.pos.len()
            )));
        }
        let mut out: Vec<Option<Val>> = vec![None; params.len()];
        for (i, v) in self.pos.into_iter().enumerate() {
            out[i] = Some(v);
        }
        for (k, v) in self.kw {
            let Some(i) = params.iter().position(|p| *p == k) else {
                return Err(site.err(format!(
                    "{fname}() got an unexpected keyword argument '{k}'"
                )));
            };
            if out[i].is_some() {
                return Err(site.err(format!("{fname}() got multiple values for argument '{k}'")));
            }
            out[i] = Some(v);
        }
        for (i, p) in params.iter().enumerate().take(required) {
            if out[i].is_none() {
                return Err(site.err(format!(
                    "{fname}() missing 1 required positional argument: '{p}'"
                )));
            }
        }
        Ok(out)
    }

    pub fn single(self, fname: &str, site: &Site) -> Result<Val> {
        let mut v = self.bind(fname, &["x"], 1, site)?;
        Ok(v.remove(0).unwrap_or(Val::Const(ConstValue::None)))
    }
}

pub(super) fn none() -> Val {
    Val::Const(ConstValue::None)
}

pub(super) fn is_none(v: &Option<Val>) -> bool {
    matches!(v, None | Some(Val::Const(ConstValue::None)))
}

pub(super) fn const_int(v: &Option<Val>, what: &str, site: &Site) -> Result<i64> {
    match v {
        Some(Val::Const(ConstValue::Int(i))) => Ok(*i),
        Some(Val::Const(ConstValue::Bool(b))) => Ok(*b as i64),
        _ => Err(site.err(format!("{what} must be a constexpr integer"))),
    }
}

pub(super) fn const_str(v: &Option<Val>, what: &str, site: &Site) -> Result<String> {
    match v {
        None | Some(Val::Const(ConstValue::None)) => Ok(String::new()),
        Some(Val::Const(ConstValue::Str(s))) => Ok(s.clone()),
        _ => Err(site.err(format!("{what} must be a constexpr string"))),
    }
}

pub(super) fn const_bool(v: &Option<Val>, what: &str, site: &Site) -> Result<bool> {
    match v {
        None | Some(Val::Const(ConstValue::None)) => Ok(false),
        Some(Val::Const(c)) if !matches!(c, ConstValue::Str(_) | ConstValue::Dtype(_)) => {
            Ok(constfold::truthy(c))
        }
        _ => Err(site.err(format!("{what} must be a constexpr bool"))),
    }
}

pub(super) fn dtype_arg(v: &Option<Val>, site: &Site) -> Result<ScalarType> {
    match v {
        Some(Val::Const(ConstValue::Dtype(t))) => Ok(*t),
        Some(Val::Const(ConstValue::Fp8Dtype(f))) => Err(fp8_unsupported(*f, site)),
        Some(other) => Err(site.err(format!("expected a dtype, got '{}'", other.kind_name()))),
        None => Err(site.err("missing dtype")),
    }
}

/// A constexpr block shape: an int or a tuple/list of ints, each a power of two.
pub fn shape_arg(v: &Val, site: &Site) -> Result<Vec<u32>> {
    let items: Vec<&Val> = match v {
        Val::Tuple(t) => t.iter().collect(),
        other => vec![other],
    };
    let mut shape = Vec::with_capacity(items.len());
    let mut numel: u64 = 1;
    for (i, d) in items.iter().enumerate() {
        let n = match d {
            Val::Const(ConstValue::Int(n)) => *n,
            other => {
                return Err(site.err(format!(
                    "Shape element {i} must have type `constexpr[int]`, got `{}`",
                    other.kind_name()
                )))
            }
        };
        if n <= 0 || n & (n - 1) != 0 || n > MAX_TENSOR_NUMEL as i64 {
            return Err(site.err(format!("Shape element {i} must be a power of 2")));
        }
        numel = numel.saturating_mul(n as u64);
        shape.push(n as u32);
    }
    if numel > MAX_TENSOR_NUMEL {
        return Err(site.err(format!(
            "numel ({numel}) exceeds triton maximum tensor numel ({MAX_TENSOR_NUMEL})"
        )));
    }
    Ok(shape)
}

/// The value of a runtime operand that must be an IR value (Python numbers take their
/// default dtype).
pub(super) fn value(l: &mut Lowerer, v: &Val, site: &Site) -> Result<ValueId> {
    l.materialize(v, site)
}

pub fn call(l: &mut Lowerer, b: Builtin, args: Args, site: &Site) -> Result<Val> {
    match b {
        Builtin::Reduce(f) => reduce::reduce(l, f, args, site),
        Builtin::Scan(f) => reduce::scan(l, f, args, site),
        Builtin::Shape(f) => shapes::call(l, f, args, site),
        Builtin::Dot => dot::call(l, args, site),
        Builtin::Debug(f) => debug::call(l, f, args, site),
        Builtin::Elementwise(f) => elementwise::call(l, f, args, site),
        Builtin::AtomicRmw(op) => atomics::rmw(l, op, args, site),
        Builtin::AtomicCas => atomics::cas(l, args, site),
        Builtin::MakeBlockPtr => block_ptr::make(l, args, site),
        Builtin::Advance => block_ptr::advance(l, args, site),
        Builtin::DtypeQuery(t, q) => {
            args.bind("dtype query", &[], 0, site)?;
            Ok(Val::Const(ConstValue::Bool(elementwise::answer(t, q))))
        }
        Builtin::PtrQuery(q) => {
            args.bind("dtype query", &[], 0, site)?;
            Ok(Val::Const(ConstValue::Bool(q == DtypeQuery::IsPtr)))
        }
        Builtin::ProgramId | Builtin::NumPrograms => {
            let name = if b == Builtin::ProgramId {
                "program_id"
            } else {
                "num_programs"
            };
            let a = args.bind(name, &["axis"], 1, site)?;
            let axis = const_int(&a[0], "axis", site)?;
            if !(0..3).contains(&axis) {
                return Err(site.err(format!("{name} axis must be 0, 1, or 2 but got {axis}")));
            }
            let kind = if b == Builtin::ProgramId {
                OpKind::ProgramId(axis as u8)
            } else {
                OpKind::NumPrograms(axis as u8)
            };
            Ok(Val::Value(l.emit(
                kind,
                vec![],
                Type::scalar(ScalarType::I32),
                site,
            )))
        }
        Builtin::Arange => {
            let a = args.bind("arange", &["start", "end"], 2, site)?;
            let (start, end) = match (&a[0], &a[1]) {
                (Some(Val::Const(ConstValue::Int(s))), Some(Val::Const(ConstValue::Int(e)))) => {
                    (*s, *e)
                }
                _ => return Err(site.err("arange's arguments must be of type tl.constexpr")),
            };
            let (Ok(s32), Ok(e32)) = (i32::try_from(start), i32::try_from(end)) else {
                return Err(site.err("arange must fit in int32"));
            };
            if start < 0 {
                return Err(site.err("arange must fit in int32"));
            }
            if end <= start {
                return Err(
                    site.err("arange's end argument must be greater than the start argument")
                );
            }
            let range = end - start;
            if range & (range - 1) != 0 {
                return Err(site.err("arange's range must be a power of 2"));
            }
            if range as u64 > MAX_TENSOR_NUMEL {
                return Err(site.err(format!(
                    "numel ({range}) exceeds triton maximum tensor numel ({MAX_TENSOR_NUMEL})"
                )));
            }
            let ty = Type::tensor(Elem::Scalar(ScalarType::I32), vec![range as u32]);
            Ok(Val::Value(l.emit(
                OpKind::MakeRange {
                    start: s32,
                    end: e32,
                },
                vec![],
                ty,
                site,
            )))
        }
        Builtin::Zeros => {
            let a = args.bind("zeros", &["shape", "dtype"], 2, site)?;
            let shape = shape_arg(a[0].as_ref().unwrap_or(&none()), site)?;
            let t = dtype_arg(&a[1], site)?;
            let lit = if t.is_float() {
                Literal::Float(0.0)
            } else {
                Literal::Int(0)
            };
            Ok(Val::Value(l.constant(
                lit,
                Type::tensor(Elem::Scalar(t), shape),
                site,
            )))
        }
        Builtin::Full => {
            let a = args.bind("full", &["shape", "value", "dtype"], 3, site)?;
            let shape = shape_arg(a[0].as_ref().unwrap_or(&none()), site)?;
            let t = dtype_arg(&a[2], site)?;
            match a[1].as_ref().unwrap_or(&none()) {
                Val::Value(x) => {
                    if l.func.ty(*x).is_tensor() {
                        return Err(site.err("full's value must be a scalar"));
                    }
                    let x = l.cast_to(*x, Elem::Scalar(t), site);
                    Ok(Val::Value(l.broadcast_to(x, &shape, site)?))
                }
                c if c.is_numeric_const() => {
                    let Val::Const(c) = c else {
                        unreachable_const(site)?
                    };
                    Ok(Val::Value(l.number(c, t, shape, site)?))
                }
                other => Err(site.err(format!(
                    "full's value must be a number, got '{}'",
                    other.kind_name()
                ))),
            }
        }
        Builtin::Load => load(l, args, site),
        Builtin::Store => store(l, args, site),
        Builtin::Where => {
            let a = args.bind("where", &["condition", "x", "y"], 3, site)?;
            let cond = value(l, a[0].as_ref().unwrap_or(&none()), site)?;
            let cond = l.as_i1(cond, site);
            let ox = l.operand(a[1].as_ref().unwrap_or(&none()), site, "where")?;
            let oy = l.operand(a[2].as_ref().unwrap_or(&none()), site, "where")?;
            let t = l.common_type(&ox, &oy, false, site)?;
            let mut ops = vec![Operand::Value(cond)];
            ops.push(ox);
            ops.push(oy);
            // The condition keeps i1: unify the shapes first, then the value types.
            let vs = l.unify_to(&ops[1..], t, site)?;
            let shapes = [
                l.func.ty(cond).shape.clone(),
                l.func.ty(vs[0]).shape.clone(),
            ];
            let shape = l.broadcast_shape(&[&shapes[0], &shapes[1]], site)?;
            let c = l.broadcast_to(cond, &shape, site)?;
            let x = l.broadcast_to(vs[0], &shape, site)?;
            let y = l.broadcast_to(vs[1], &shape, site)?;
            let ty = l.ty(x);
            Ok(Val::Value(l.emit(OpKind::Select, vec![c, x, y], ty, site)))
        }
        Builtin::Maximum | Builtin::Minimum => {
            let name = if b == Builtin::Maximum {
                "maximum"
            } else {
                "minimum"
            };
            let a = args.bind(name, &["x", "y", "propagate_nan"], 2, site)?;
            let nan = elementwise::propagate_nan(&a[2], site)?;
            let x = a[0].clone().unwrap_or_else(none);
            let y = a[1].clone().unwrap_or_else(none);
            min_max(l, b == Builtin::Maximum, nan, x, y, site)
        }
        Builtin::Math(op) => {
            let x = args.single(&format!("{op}"), site)?;
            math(l, op, x, site)
        }
        Builtin::Cast => {
            let a = args.bind(
                "cast",
                &["input", "dtype", "fp_downcast_rounding", "bitcast"],
                2,
                site,
            )?;
            let t = dtype_arg(&a[1], site)?;
            let rounding = match &a[2] {
                None | Some(Val::Const(ConstValue::None)) => None,
                Some(Val::Const(ConstValue::Str(s))) => match s.as_str() {
                    "rtne" => Some(false),
                    "rtz" => Some(true),
                    _ => {
                        return Err(site.err(format!(
                            "Invalid rounding mode: {s}. Supported rounding modes are 'rtne' and 'rtz'."
                        )))
                    }
                },
                Some(_) => return Err(site.err("fp_downcast_rounding must be a constexpr string")),
            };
            let bitcast = const_bool(&a[3], "bitcast", site)?;
            let input = a[0].clone().unwrap_or_else(none);
            match rounding {
                Some(toward_zero) if !bitcast => {
                    let x = value(l, &input, site)?;
                    downcast_rounded(l, x, t, toward_zero, site).map(Val::Value)
                }
                _ => cast(l, input, t, bitcast, site),
            }
        }
        Builtin::Cdiv => {
            let a = args.bind("cdiv", &["x", "div"], 2, site)?;
            let x = a[0].clone().unwrap_or_else(none);
            let d = a[1].clone().unwrap_or_else(none);
            use ruff_python_ast::Operator;
            let s = l.binop(Operator::Add, x, d.clone(), site)?;
            let s = l.binop(Operator::Sub, s, Val::Const(ConstValue::Int(1)), site)?;
            l.binop(Operator::FloorDiv, s, d, site)
        }
        Builtin::StaticRange | Builtin::Range | Builtin::PyRange => {
            Err(site
                .err("unsupported: range objects are only supported as the iterable of a for loop"))
        }
        Builtin::StaticAssert => {
            let a = args.bind("static_assert", &["cond", "msg"], 1, site)?;
            let msg = const_str(&a[1], "msg", site)?;
            match a[0].as_ref().and_then(|v| v.to_const()) {
                Some(c) if constfold::truthy(&c) => Ok(none()),
                Some(_) => Err(site.err(format!("Static assertion failed: {msg}"))),
                None => Err(site.err("static_assert requires a constexpr condition")),
            }
        }
        Builtin::StaticPrint => {
            // Triton prints at compile time, to the compiler's stdout; stderr keeps our
            // stdout clean for tools that emit IR there.
            let parts: Vec<String> = args
                .pos
                .iter()
                .map(|v| match v {
                    Val::Const(ConstValue::Str(s)) => s.clone(),
                    Val::Const(ConstValue::Dtype(t)) => triton_name(*t).to_string(),
                    Val::Value(x) => type_name(l.func.ty(*x)),
                    other => match other.to_const() {
                        Some(c) => const_repr(&c),
                        None => other.kind_name().to_string(),
                    },
                })
                .collect();
            eprintln!("{}", parts.join(" "));
            Ok(none())
        }
        Builtin::PyMin | Builtin::PyMax => {
            if !args.kw.is_empty() || args.pos.is_empty() {
                return Err(site.err("min()/max() take one or more positional arguments"));
            }
            let is_max = b == Builtin::PyMax;
            let mut items = args.pos;
            if items.len() == 1 {
                match items.remove(0) {
                    Val::Tuple(t) if !t.is_empty() => items = t,
                    _ => {
                        return Err(
                            site.err("min()/max() of a single argument needs a non-empty tuple")
                        )
                    }
                }
            }
            let mut acc = items[0].clone();
            for x in items.into_iter().skip(1) {
                acc = match (acc.to_const(), x.to_const()) {
                    (Some(p), Some(q)) => {
                        use ruff_python_ast::CmpOp;
                        let greater =
                            constfold::compare(CmpOp::Gt, &q, &p).map_err(|e| site.err(e))?;
                        let less =
                            constfold::compare(CmpOp::Lt, &q, &p).map_err(|e| site.err(e))?;
                        if (is_max && greater) || (!is_max && less) {
                            x
                        } else {
                            acc
                        }
                    }
                    _ => min_max(l, is_max, false, acc, x, site)?,
                };
            }
            Ok(acc)
        }
        Builtin::PyLen => match args.single("len", site)? {
            Val::Tuple(t) => Ok(Val::Const(ConstValue::Int(t.len() as i64))),
            Val::Const(ConstValue::Str(s)) => {
                Ok(Val::Const(ConstValue::Int(s.chars().count() as i64)))
            }
            Val::Value(x) => match l.func.ty(x).shape.first() {
                Some(&d) => Ok(Val::Const(ConstValue::Int(d as i64))),
                None => Err(site.err("len() of a scalar")),
            },
            other => Err(site.err(format!(
                "object of type '{}' has no len()",
                other.kind_name()
            ))),
        },
        Builtin::PyInt | Builtin::PyFloat | Builtin::PyBool => {
            let name = match b {
                Builtin::PyInt => "int",
                Builtin::PyFloat => "float",
                _ => "bool",
            };
            let x = args.single(name, site)?;
            let c = match &x {
                Val::Const(c) => c.clone(),
                _ => {
                    return Err(site.err(format!(
                        "{name}() is only supported on constexprs; use .to() on tensors"
                    )))
                }
            };
            let r = match (b, c) {
                (Builtin::PyBool, c) => ConstValue::Bool(constfold::truthy(&c)),
                (Builtin::PyInt, ConstValue::Int(i)) => ConstValue::Int(i),
                (Builtin::PyInt, ConstValue::Bool(v)) => ConstValue::Int(v as i64),
                (Builtin::PyInt, ConstValue::Float(f)) if f.is_finite() && f.abs() < 9.2e18 => {
                    ConstValue::Int(f.trunc() as i64)
                }
                (Builtin::PyFloat, ConstValue::Int(i)) => ConstValue::Float(i as f64),
                (Builtin::PyFloat, ConstValue::Bool(v)) => ConstValue::Float(v as i64 as f64),
                (Builtin::PyFloat, ConstValue::Float(f)) => ConstValue::Float(f),
                (Builtin::PyFloat, ConstValue::Str(s)) => {
                    match s.trim().to_ascii_lowercase().as_str() {
                        "inf" | "+inf" | "infinity" => ConstValue::Float(f64::INFINITY),
                        "-inf" | "-infinity" => ConstValue::Float(f64::NEG_INFINITY),
                        "nan" | "+nan" | "-nan" => ConstValue::Float(f64::NAN),
                        t => ConstValue::Float(t.parse::<f64>().map_err(|_| {
                            site.err(format!("could not convert string to float: '{s}'"))
                        })?),
                    }
                }
                _ => return Err(site.err(format!("{name}() of an unsupported constexpr"))),
            };
            Ok(Val::Const(r))
        }
        Builtin::PyAbs => {
            let x = args.single("abs", site)?;
            match x {
                Val::Const(ConstValue::Int(i)) => i
                    .checked_abs()
                    .map(|v| Val::Const(ConstValue::Int(v)))
                    .ok_or_else(|| site.err("integer overflow in constant expression")),
                Val::Const(ConstValue::Float(f)) => Ok(Val::Const(ConstValue::Float(f.abs()))),
                Val::Const(ConstValue::Bool(v)) => Ok(Val::Const(ConstValue::Int(v as i64))),
                other => math(l, UnaryOp::Abs, other, site),
            }
        }
        Builtin::PyMath(f) => {
            let x = match args.single("math function", site)? {
                Val::Const(ConstValue::Int(i)) => i as f64,
                Val::Const(ConstValue::Float(f)) => f,
                Val::Const(ConstValue::Bool(v)) => v as i64 as f64,
                _ => return Err(site.err("math functions apply to constexpr numbers only")),
            };
            let r = match f {
                PyMathFn::Log2 => x.log2(),
                PyMathFn::Log => x.ln(),
                PyMathFn::Exp => x.exp(),
                PyMathFn::Sqrt => x.sqrt(),
                PyMathFn::Ceil | PyMathFn::Floor => {
                    let r = if f == PyMathFn::Ceil {
                        x.ceil()
                    } else {
                        x.floor()
                    };
                    if !r.is_finite() || r.abs() >= 9.2e18 {
                        return Err(site.err("value out of range"));
                    }
                    return Ok(Val::Const(ConstValue::Int(r as i64)));
                }
            };
            Ok(Val::Const(ConstValue::Float(r)))
        }
    }
}

fn unreachable_const<T>(site: &Site) -> Result<T> {
    Err(site.err("internal error: expected a constant"))
}

pub(super) fn min_max(
    l: &mut Lowerer,
    is_max: bool,
    nan: bool,
    x: Val,
    y: Val,
    site: &Site,
) -> Result<Val> {
    let name = if is_max { "maximum" } else { "minimum" };
    let ox = l.operand(&x, site, name)?;
    let oy = l.operand(&y, site, name)?;
    let t = l.common_type(&ox, &oy, false, site)?;
    if t.is_ptr() {
        return Err(site.err(format!("unsupported: {name} of pointers")));
    }
    let vs = l.unify_to(&[ox, oy], t, site)?;
    let op = match (is_max, nan) {
        (true, false) => BinaryOp::Max,
        (true, true) => BinaryOp::MaxNan,
        (false, false) => BinaryOp::Min,
        (false, true) => BinaryOp::MinNan,
    };
    let ty = l.ty(vs[0]);
    Ok(Val::Value(l.emit(OpKind::Binary(op), vs, ty, site)))
}

pub(super) fn math(l: &mut Lowerer, op: UnaryOp, x: Val, site: &Site) -> Result<Val> {
    let x = value(l, &x, site)?;
    let ty = l.ty(x);
    let Elem::Scalar(s) = ty.elem else {
        return Err(site.err(format!("unsupported: {op} of {}", elem_name(ty.elem))));
    };
    let allowed: &[ScalarType] = match op {
        UnaryOp::Abs => &[],
        UnaryOp::SqrtRn => &[ScalarType::F32],
        UnaryOp::IsNan | UnaryOp::IsInf => &[
            ScalarType::F16,
            ScalarType::BF16,
            ScalarType::F32,
            ScalarType::F64,
        ],
        _ => &[ScalarType::F32, ScalarType::F64],
    };
    if !allowed.is_empty() && !allowed.contains(&s) {
        let names: Vec<String> = allowed
            .iter()
            .map(|t| format!("'{}'", triton_name(*t)))
            .collect();
        return Err(site.err(format!(
            "Expected dtype [{}] but got {}",
            names.join(", "),
            triton_name(s)
        )));
    }
    if op == UnaryOp::Abs && (s.is_unsigned_int() || s.is_bool()) {
        return Ok(Val::Value(x));
    }
    let rty = if op.is_predicate() {
        ty.with_elem(Elem::Scalar(ScalarType::I1))
    } else {
        ty
    };
    Ok(Val::Value(l.emit(OpKind::Unary(op), vec![x], rty, site)))
}

pub(super) fn cast(
    l: &mut Lowerer,
    input: Val,
    t: ScalarType,
    bitcast: bool,
    site: &Site,
) -> Result<Val> {
    let x = match &input {
        Val::Value(x) => *x,
        Val::Const(c) if input.is_numeric_const() && !bitcast => {
            return Ok(Val::Value(l.number(c, t, Vec::new(), site)?));
        }
        other => value(l, other, site)?,
    };
    let ty = l.ty(x);
    let Elem::Scalar(s) = ty.elem else {
        return Err(site.err(format!(
            "unsupported: casting {} to {}",
            type_name(&ty),
            triton_name(t)
        )));
    };
    if s == t {
        return Ok(Val::Value(x));
    }
    if bitcast {
        if s.bits() != t.bits() {
            return Err(site.err(format!(
                "Cannot bitcast data-type of size {} to data-type of size {}",
                s.bits(),
                t.bits()
            )));
        }
        return Ok(Val::Value(l.emit(
            OpKind::Bitcast,
            vec![x],
            ty.with_elem(Elem::Scalar(t)),
            site,
        )));
    }
    Ok(Val::Value(l.cast_to(x, Elem::Scalar(t), site)))
}

/// A cast given `fp_downcast_rounding` (round to nearest even, or toward zero), with
/// Triton's checks: the rounding applies to narrowing float conversions only.
fn downcast_rounded(
    l: &mut Lowerer,
    x: ValueId,
    t: ScalarType,
    toward_zero: bool,
    site: &Site,
) -> Result<ValueId> {
    let ty = l.ty(x);
    let s = match ty.elem {
        Elem::Scalar(s) => s,
        Elem::Ptr(_) => {
            return Err(site.err(format!(
                "unsupported: casting {} to {}",
                type_name(&ty),
                triton_name(t)
            )))
        }
    };
    if s == t {
        return Ok(x);
    }
    if !(s.is_float() && t.is_float() && t.bits() < s.bits()) {
        return Err(site.err(format!(
            "fp_downcast_rounding should be set only for truncating fp conversions. Source scalar type is {} and destination type is {}",
            triton_name(s),
            triton_name(t)
        )));
    }
    let y = l.cast_to(x, Elem::Scalar(t), site);
    if !toward_zero {
        return Ok(y);
    }
    // Round to nearest, then step one unit toward zero where that went past the source
    // value: same-sign float encodings are ordered like their bits, so the step is an
    // integer decrement (and turns an overflow to infinity into the largest finite value).
    // NaN compares false and stays.
    let back = l.cast_to(y, Elem::Scalar(s), site);
    let abs_back = l.emit(OpKind::Unary(UnaryOp::Abs), vec![back], ty.clone(), site);
    let abs_x = l.emit(OpKind::Unary(UnaryOp::Abs), vec![x], ty.clone(), site);
    let bool_ty = ty.with_elem(Elem::Scalar(ScalarType::I1));
    let past = l.emit(
        OpKind::Cmp(tm_tile::CmpPred::Gt),
        vec![abs_back, abs_x],
        bool_ty,
        site,
    );
    let Some(bits) = ScalarType::int_of_width(t.bits(), false) else {
        return Err(site.err(format!("unsupported: rounding to {}", triton_name(t))));
    };
    let yt = l.ty(y);
    let ity = yt.with_elem(Elem::Scalar(bits));
    let yi = l.emit(OpKind::Bitcast, vec![y], ity.clone(), site);
    let one = l.constant(Literal::Int(1), ity.clone(), site);
    let stepped = l.emit(OpKind::Binary(BinaryOp::Sub), vec![yi, one], ity, site);
    let stepped = l.emit(OpKind::Bitcast, vec![stepped], yt.clone(), site);
    Ok(l.emit(OpKind::Select, vec![past, stepped, y], yt, site))
}

pub(super) fn pointer_arg(
    l: &Lowerer,
    v: &Option<Val>,
    op: &str,
    site: &Site,
) -> Result<(ValueId, ScalarType)> {
    match v {
        Some(Val::Value(p)) => match l.func.ty(*p).elem {
            Elem::Ptr(e) => Ok((*p, e)),
            _ => Err(site.err(format!(
                "Unsupported ptr type {} in `tl.{op}`",
                l.type_name_of(*p)
            ))),
        },
        Some(other) => Err(site.err(format!(
            "Unsupported ptr type {} in `tl.{op}`",
            other.kind_name()
        ))),
        None => Err(site.err(format!("tl.{op} needs a pointer"))),
    }
}

/// The mask of a load or store: an i1 value (Python bools become constants).
pub(super) fn mask_arg(l: &mut Lowerer, v: &Option<Val>, site: &Site) -> Result<Option<ValueId>> {
    match v {
        None | Some(Val::Const(ConstValue::None)) => Ok(None),
        Some(Val::Const(ConstValue::Bool(b))) => Ok(Some(l.constant(
            Literal::Int(*b as i64),
            Type::scalar(ScalarType::I1),
            site,
        ))),
        Some(Val::Value(m)) => {
            if l.func.ty(*m).elem != Elem::Scalar(ScalarType::I1) {
                return Err(site.err("Mask must have boolean scalar type"));
            }
            Ok(Some(*m))
        }
        Some(other) => Err(site.err(format!(
            "Mask must have boolean scalar type, got '{}'",
            other.kind_name()
        ))),
    }
}

fn check_cache(v: &Option<Val>, allowed: &[&str], site: &Site) -> Result<()> {
    let s = const_str(v, "cache_modifier", site)?;
    if !allowed.contains(&s.as_str()) {
        return Err(site.err(format!("Cache modifier {s} not supported")));
    }
    Ok(())
}

/// The cache modifier and eviction policy of a load (`is_load`) or a store: accepted and
/// dropped (they are hints) when valid.
pub(super) fn check_cache_and_eviction(
    cache: &Option<Val>,
    eviction: &Option<Val>,
    is_load: bool,
    site: &Site,
) -> Result<()> {
    if is_load {
        check_cache(cache, &["", ".ca", ".cg", ".cv"], site)?;
    } else {
        check_cache(cache, &["", ".wb", ".cg", ".cs", ".wt"], site)?;
    }
    check_eviction(eviction, site)
}

fn check_eviction(v: &Option<Val>, site: &Site) -> Result<()> {
    let s = const_str(v, "eviction_policy", site)?;
    if !["", "evict_last", "evict_first", "evict_normal"].contains(&s.as_str()) {
        return Err(site.err(format!("Eviction policy {s} not supported")));
    }
    Ok(())
}

fn check_no_block_args(
    boundary: &Option<Val>,
    padding: Option<&Option<Val>>,
    site: &Site,
) -> Result<()> {
    let empty_boundary = matches!(boundary, None | Some(Val::Const(ConstValue::None)))
        || matches!(boundary, Some(Val::Tuple(t)) if t.is_empty());
    let empty_padding = match padding {
        None | Some(None) | Some(Some(Val::Const(ConstValue::None))) => true,
        Some(Some(Val::Const(ConstValue::Str(s)))) => s.is_empty(),
        _ => false,
    };
    if !empty_boundary || !empty_padding {
        return Err(site.err(
            "`padding_option` or `boundary_check` argument is not supported for loading a tensor of pointers or loading a scalar. Because the compiler does not know the boundary; please use block pointers (defined by `make_block_ptr`) instead",
        ));
    }
    Ok(())
}

fn load(l: &mut Lowerer, args: Args, site: &Site) -> Result<Val> {
    let a = args.bind(
        "load",
        &[
            "pointer",
            "mask",
            "other",
            "boundary_check",
            "padding_option",
            "cache_modifier",
            "eviction_policy",
            "volatile",
        ],
        1,
        site,
    )?;
    if let Some(Val::BlockPtr(bp)) = &a[0] {
        return block_ptr::load(l, bp, &a, site);
    }
    let (mut ptr, elem) = pointer_arg(l, &a[0], "load", site)?;
    check_no_block_args(&a[3], Some(&a[4]), site)?;
    check_cache(&a[5], &["", ".ca", ".cg", ".cv"], site)?;
    check_eviction(&a[6], site)?;
    let volatile = const_bool(&a[7], "volatile", site)?;
    let mask = mask_arg(l, &a[1], site)?;
    let has_other = !is_none(&a[2]);
    if mask.is_none() && has_other {
        return Err(site.err("`other` cannot be provided without `mask`"));
    }
    let pshape = l.func.ty(ptr).shape.clone();
    if pshape.is_empty() {
        if let Some(m) = mask {
            if l.func.ty(m).is_tensor() {
                return Err(site
                    .err("Mask argument cannot be block type if pointer argument is not a block"));
            }
        }
        if let Some(Val::Value(o)) = &a[2] {
            if l.func.ty(*o).is_tensor() {
                return Err(site.err(
                    "Other argument cannot be block type if pointer argument is not a block",
                ));
            }
        }
    }
    let mut shapes = vec![pshape.clone()];
    if let Some(m) = mask {
        shapes.push(l.func.ty(m).shape.clone());
    }
    if let Some(Val::Value(o)) = &a[2] {
        shapes.push(l.func.ty(*o).shape.clone());
    }
    let refs: Vec<&[u32]> = shapes.iter().map(|s| s.as_slice()).collect();
    let shape = l.broadcast_shape(&refs, site)?;
    ptr = l.broadcast_to(ptr, &shape, site)?;
    let mut operands = vec![ptr];
    if let Some(m) = mask {
        operands.push(l.broadcast_to(m, &shape, site)?);
    }
    if has_other {
        let o = l.operand(a[2].as_ref().unwrap_or(&none()), site, "other")?;
        let o = match o {
            Operand::Number(c) => l.number(&c, elem, shape.clone(), site)?,
            Operand::Value(v) => {
                if l.func.ty(v).elem.is_ptr() {
                    return Err(site.err("`other` of a load cannot be a pointer"));
                }
                let v = l.cast_to(v, Elem::Scalar(elem), site);
                l.broadcast_to(v, &shape, site)?
            }
        };
        operands.push(o);
    }
    let kind = OpKind::Load {
        has_mask: mask.is_some(),
        has_other,
        volatile,
    };
    let ty = Type::tensor(Elem::Scalar(elem), shape);
    Ok(Val::Value(l.emit(kind, operands, ty, site)))
}

fn store(l: &mut Lowerer, args: Args, site: &Site) -> Result<Val> {
    let a = args.bind(
        "store",
        &[
            "pointer",
            "value",
            "mask",
            "boundary_check",
            "cache_modifier",
            "eviction_policy",
        ],
        2,
        site,
    )?;
    if let Some(Val::BlockPtr(bp)) = &a[0] {
        return block_ptr::store(l, bp, &a, site);
    }
    let (ptr, elem) = pointer_arg(l, &a[0], "store", site)?;
    check_no_block_args(&a[3], None, site)?;
    check_cache(&a[4], &["", ".wb", ".cg", ".cs", ".wt"], site)?;
    check_eviction(&a[5], site)?;
    let shape = l.func.ty(ptr).shape.clone();
    let val = match l.operand(a[1].as_ref().unwrap_or(&none()), site, "store")? {
        Operand::Number(c) => l.number(&c, elem, shape.clone(), site)?,
        Operand::Value(v) => {
            let vt = l.ty(v);
            if vt.elem.is_ptr() {
                return Err(site.err("unsupported: storing pointers"));
            }
            if shape.is_empty() && vt.is_tensor() {
                return Err(site.err(
                    "Value argument cannot be block type if pointer argument is not a block",
                ));
            }
            let v = l.broadcast_to(v, &shape, site)?;
            l.cast_to(v, Elem::Scalar(elem), site)
        }
    };
    let mut operands = vec![ptr, val];
    let mask = mask_arg(l, &a[2], site)?;
    if let Some(m) = mask {
        if shape.is_empty() && l.func.ty(m).is_tensor() {
            return Err(
                site.err("Mask argument cannot be block type if pointer argument is not a block")
            );
        }
        operands.push(l.broadcast_to(m, &shape, site)?);
    }
    l.emit_void(
        OpKind::Store {
            has_mask: mask.is_some(),
        },
        operands,
        site,
    );
    Ok(none())
}

/// Python's `repr`-like text of a constexpr, for `static_print`.
fn const_repr(c: &ConstValue) -> String {
    match c {
        ConstValue::None => "None".into(),
        ConstValue::Bool(b) => if *b { "True" } else { "False" }.into(),
        ConstValue::Int(i) => i.to_string(),
        ConstValue::Float(f) => format!("{f:?}"),
        ConstValue::Str(s) => s.clone(),
        ConstValue::Dtype(t) => triton_name(*t).to_string(),
        ConstValue::Tuple(t) => {
            let items: Vec<String> = t.iter().map(const_repr).collect();
            format!("({})", items.join(", "))
        }
        ConstValue::Function(f) => format!("JITFunction({})", f.name),
        ConstValue::Fp8Dtype(f) => f.triton_name().to_string(),
    }
}
