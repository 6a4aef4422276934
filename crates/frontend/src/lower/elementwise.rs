//! Elementwise builtins of more than one operand: `fma`, `umulhi`, `div_rn`, `fdiv`,
//! `clamp`, `pow`, `atan2`, plus `to_tensor` and the dtype predicates (`x.dtype.is_int()`).

use tm_tile::{BinaryOp, Elem, OpKind, ScalarType, ValueId};

use super::builtins::{const_bool, is_none, none, Args};
use super::promote::Operand;
use super::{triton_name, Lowerer, Result, Site};
use crate::api::ConstValue;
use crate::values::Val;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EwFn {
    Fma,
    Umulhi,
    DivRn,
    Fdiv,
    Clamp,
    Pow,
    Atan2,
    ToTensor,
}

/// `tl.PropagateNan.NONE` / `.ALL`, as Triton numbers them.
pub const PROPAGATE_NAN_NONE: i64 = 0;
pub const PROPAGATE_NAN_ALL: i64 = 0xFFFF;

/// Whether `propagate_nan` asks for NaN propagation.
pub fn propagate_nan(v: &Option<Val>, site: &Site) -> Result<bool> {
    match v {
        None | Some(Val::Const(ConstValue::None)) => Ok(false),
        Some(Val::Const(ConstValue::Int(PROPAGATE_NAN_NONE))) => Ok(false),
        Some(Val::Const(ConstValue::Int(PROPAGATE_NAN_ALL))) => Ok(true),
        Some(_) => {
            Err(site.err("propagate_nan must be tl.PropagateNan.NONE or tl.PropagateNan.ALL"))
        }
    }
}

/// Operands brought to their common type and shape (Triton's binary type checking).
fn unify(l: &mut Lowerer, vals: &[Val], what: &str, site: &Site) -> Result<Vec<ValueId>> {
    let ops: Vec<Operand> = vals
        .iter()
        .map(|v| l.operand(v, site, what))
        .collect::<Result<_>>()?;
    let mut t = l.operand_elem(&ops[0]);
    let mut acc = ops[0].clone();
    for o in &ops[1..] {
        t = l.common_type(&acc, o, false, site)?;
        // Later operands promote against the running type, as nested binary ops would.
        acc = match t {
            Elem::Scalar(_) => Operand::Value(l.unify_to(&[acc.clone()], t, site)?[0]),
            Elem::Ptr(_) => return Err(site.err(format!("unsupported: {what} of pointers"))),
        };
    }
    if t.is_ptr() {
        return Err(site.err(format!("unsupported: {what} of pointers")));
    }
    l.unify_to(&ops, t, site)
}

fn need_float(l: &Lowerer, v: ValueId, what: &str, site: &Site) -> Result<ScalarType> {
    match l.func.ty(v).scalar_type() {
        Some(s) if s.is_float() => Ok(s),
        Some(s) => Err(site.err(format!(
            "{what} only supports floating-point types, got {}",
            triton_name(s)
        ))),
        None => Err(site.err(format!("{what} of pointers"))),
    }
}

fn binary(l: &mut Lowerer, op: BinaryOp, vs: Vec<ValueId>, site: &Site) -> Val {
    let ty = l.ty(vs[0]);
    Val::Value(l.emit(OpKind::Binary(op), vs, ty, site))
}

pub fn call(l: &mut Lowerer, f: EwFn, args: Args, site: &Site) -> Result<Val> {
    match f {
        EwFn::Fma => {
            let a = args.bind("fma", &["x", "y", "z"], 3, site)?;
            let vals: Vec<Val> = a.into_iter().map(|v| v.unwrap_or_else(none)).collect();
            let vs = unify(l, &vals, "fma", site)?;
            need_float(l, vs[0], "fma", site)?;
            let ty = l.ty(vs[0]);
            Ok(Val::Value(l.emit(OpKind::Fma, vs, ty, site)))
        }
        EwFn::Umulhi => {
            let a = args.bind("umulhi", &["x", "y"], 2, site)?;
            let vals: Vec<Val> = a.into_iter().map(|v| v.unwrap_or_else(none)).collect();
            let vs = unify(l, &vals, "umulhi", site)?;
            match l.ty(vs[0]).scalar_type() {
                Some(s) if s.is_int() && !s.is_bool() => {}
                Some(s) => {
                    return Err(site.err(format!(
                        "umulhi only supports integer types, got {}",
                        triton_name(s)
                    )))
                }
                None => return Err(site.err("umulhi of pointers")),
            }
            Ok(binary(l, BinaryOp::MulHi, vs, site))
        }
        EwFn::DivRn | EwFn::Fdiv | EwFn::Pow | EwFn::Atan2 => {
            let (name, params): (&str, &[&str]) = match f {
                EwFn::DivRn => ("div_rn", &["x", "y"]),
                EwFn::Fdiv => ("fdiv", &["x", "y", "ieee_rounding"]),
                EwFn::Pow => ("pow", &["x", "y"]),
                _ => ("atan2", &["y", "x"]),
            };
            let a = args.bind(name, params, 2, site)?;
            let ieee = f == EwFn::DivRn
                || (f == EwFn::Fdiv
                    && !is_none(&a[2])
                    && const_bool(&a[2], "ieee_rounding", site)?);
            let vals = vec![
                a[0].clone().unwrap_or_else(none),
                a[1].clone().unwrap_or_else(none),
            ];
            if f == EwFn::Fdiv {
                for v in &vals {
                    let is_float = match v {
                        Val::Value(x) => l.ty(*x).scalar_type().is_some_and(|s| s.is_float()),
                        Val::Const(ConstValue::Float(_)) => true,
                        _ => false,
                    };
                    if !is_float {
                        return Err(
                            site.err("both operands of fdiv must have floating scalar type")
                        );
                    }
                }
            }
            let vs = unify(l, &vals, name, site)?;
            need_float(l, vs[0], name, site)?;
            let op = match f {
                EwFn::Pow => BinaryOp::Pow,
                EwFn::Atan2 => BinaryOp::Atan2,
                _ if ieee => BinaryOp::DivRn,
                _ => BinaryOp::Div,
            };
            Ok(binary(l, op, vs, site))
        }
        EwFn::Clamp => {
            let a = args.bind("clamp", &["x", "min", "max", "propagate_nan"], 3, site)?;
            let nan = propagate_nan(&a[3], site)?;
            let vals: Vec<Val> = a[..3]
                .iter()
                .map(|v| v.clone().unwrap_or_else(none))
                .collect();
            let vs = unify(l, &vals, "clamp", site)?;
            need_float(l, vs[0], "clamp", site)?;
            let (max, min) = if nan {
                (BinaryOp::MaxNan, BinaryOp::MinNan)
            } else {
                (BinaryOp::Max, BinaryOp::Min)
            };
            let ty = l.ty(vs[0]);
            let lo = l.emit(OpKind::Binary(max), vec![vs[0], vs[1]], ty.clone(), site);
            Ok(Val::Value(l.emit(
                OpKind::Binary(min),
                vec![lo, vs[2]],
                ty,
                site,
            )))
        }
        EwFn::ToTensor => {
            let a = args.bind("to_tensor", &["x"], 1, site)?;
            let x = a[0].clone().unwrap_or_else(none);
            Ok(Val::Value(l.materialize(&x, site)?))
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtypeQuery {
    IsFloating,
    IsInt,
    IsIntSigned,
    IsIntUnsigned,
    IsBool,
    IsFp16,
    IsBf16,
    IsFp32,
    IsFp64,
    Is(ScalarType),
    IsPtr,
}

pub fn dtype_query(name: &str) -> Option<DtypeQuery> {
    use DtypeQuery::*;
    Some(match name {
        "is_floating" => IsFloating,
        "is_int" => IsInt,
        "is_int_signed" => IsIntSigned,
        "is_int_unsigned" => IsIntUnsigned,
        "is_bool" => IsBool,
        "is_fp16" => IsFp16,
        "is_bf16" => IsBf16,
        "is_fp32" => IsFp32,
        "is_fp64" => IsFp64,
        "is_int1" => Is(ScalarType::I1),
        "is_int8" => Is(ScalarType::I8),
        "is_int16" => Is(ScalarType::I16),
        "is_int32" => Is(ScalarType::I32),
        "is_int64" => Is(ScalarType::I64),
        "is_uint8" => Is(ScalarType::U8),
        "is_uint16" => Is(ScalarType::U16),
        "is_uint32" => Is(ScalarType::U32),
        "is_uint64" => Is(ScalarType::U64),
        "is_ptr" => IsPtr,
        _ => return None,
    })
}

/// The answer of `dtype.<query>()`; Triton counts int1 as neither signed nor unsigned.
pub fn answer(t: ScalarType, q: DtypeQuery) -> bool {
    use DtypeQuery::*;
    match q {
        IsFloating => t.is_float(),
        IsInt => t.is_int(),
        IsIntSigned => t.is_signed_int() && !t.is_bool(),
        IsIntUnsigned => t.is_unsigned_int() && !t.is_bool(),
        IsBool => t.is_bool(),
        IsFp16 => t == ScalarType::F16,
        IsBf16 => t == ScalarType::BF16,
        IsFp32 => t == ScalarType::F32,
        IsFp64 => t == ScalarType::F64,
        Is(s) => t == s,
        IsPtr => false,
    }
}
