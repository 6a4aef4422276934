//! `tl.dot` and `a @ b`: 2-D and batched 3-D matrix products with Triton's shape and dtype
//! rules.

use tm_tile::{Elem, InputPrecision, Literal, OpKind, ScalarType, Type, ValueId};

use super::builtins::{const_bool, is_none, none, Args};
use super::{triton_name, type_name, Lowerer, Result, Site};
use crate::api::ConstValue;
use crate::values::Val;

/// Triton's smallest M, N and K for `tl.dot`.
const MIN_DOT: u32 = 16;

pub struct DotOptions {
    pub acc: Option<ValueId>,
    pub precision: InputPrecision,
    pub max_num_imprecise_acc: u32,
    pub out_dtype: ScalarType,
}

impl Default for DotOptions {
    fn default() -> Self {
        DotOptions {
            acc: None,
            precision: InputPrecision::Tf32,
            max_num_imprecise_acc: 0,
            out_dtype: ScalarType::F32,
        }
    }
}

fn operand(v: &Val, site: &Site) -> Result<ValueId> {
    match v {
        Val::Value(x) => Ok(*x),
        other => Err(site.err(format!("dot expects tensors, got '{}'", other.kind_name()))),
    }
}

pub fn call(l: &mut Lowerer, args: Args, site: &Site) -> Result<Val> {
    let a = args.bind(
        "dot",
        &[
            "input",
            "other",
            "acc",
            "input_precision",
            "allow_tf32",
            "max_num_imprecise_acc",
            "out_dtype",
        ],
        2,
        site,
    )?;
    let x = operand(a[0].as_ref().unwrap_or(&none()), site)?;
    let y = operand(a[1].as_ref().unwrap_or(&none()), site)?;
    let mut opts = DotOptions::default();
    if !is_none(&a[2]) {
        opts.acc = Some(operand(a[2].as_ref().unwrap_or(&none()), site)?);
    }
    if !is_none(&a[3]) && !is_none(&a[4]) {
        return Err(site.err("Only one of input_precision and allow_tf32 can be specified"));
    }
    opts.precision = match &a[3] {
        None | Some(Val::Const(ConstValue::None)) => {
            if !is_none(&a[4]) && !const_bool(&a[4], "allow_tf32", site)? {
                InputPrecision::Ieee
            } else {
                InputPrecision::Tf32
            }
        }
        Some(Val::Const(ConstValue::Str(s))) => InputPrecision::from_name(&s.to_ascii_lowercase())
            .ok_or_else(|| {
                site.err(format!(
                    "input_precision must be one of ('tf32', 'tf32x3', 'ieee'). Got {s}"
                ))
            })?,
        Some(other) => {
            return Err(site.err(format!(
                "input_precision must be a constexpr string, got '{}'",
                other.kind_name()
            )))
        }
    };
    opts.max_num_imprecise_acc = match &a[5] {
        None | Some(Val::Const(ConstValue::None)) => 0,
        Some(Val::Const(ConstValue::Int(n))) if *n >= 0 && *n <= u32::MAX as i64 => *n as u32,
        _ => return Err(site.err("max_num_imprecise_acc must be a non-negative constexpr int")),
    };
    opts.out_dtype = match &a[6] {
        None | Some(Val::Const(ConstValue::None)) => ScalarType::F32,
        Some(Val::Const(ConstValue::Dtype(t))) => *t,
        Some(Val::Const(ConstValue::Fp8Dtype(f))) => {
            return Err(super::builtins::fp8_unsupported(*f, site))
        }
        Some(other) => {
            return Err(site.err(format!(
                "out_dtype must be a dtype, got '{}'",
                other.kind_name()
            )))
        }
    };
    dot(l, x, y, opts, site).map(Val::Value)
}

pub fn dot(
    l: &mut Lowerer,
    x: ValueId,
    y: ValueId,
    opts: DotOptions,
    site: &Site,
) -> Result<ValueId> {
    let (xt, yt) = (l.ty(x), l.ty(y));
    let r = xt.rank();
    if !(r == 2 || r == 3) || yt.rank() != r {
        return Err(site.err(format!(
            "Both inputs must be either 2D or 3D; (lhs: {} vs rhs: {})",
            type_name(&xt),
            type_name(&yt)
        )));
    }
    let (Elem::Scalar(sx), Elem::Scalar(sy)) = (xt.elem, yt.elem) else {
        return Err(site.err("dot of pointers"));
    };
    if xt.shape[r - 1] != yt.shape[r - 2] {
        return Err(site.err(format!(
            "First input shape ({:?}) and second input shape {:?} are not compatible for matmul (second index of first shape ({}) must be equal to first index of second shape ({})",
            xt.shape, yt.shape, xt.shape[r - 1], yt.shape[r - 2]
        )));
    }
    if r == 3 && xt.shape[0] != yt.shape[0] {
        return Err(site.err(format!(
            "First input shape ({:?}) and second input shape {:?} are not compatible for matmul (batch dimensions differ)",
            xt.shape, yt.shape
        )));
    }
    let (m, k, n) = (xt.shape[r - 2], xt.shape[r - 1], yt.shape[r - 1]);
    if m < MIN_DOT || n < MIN_DOT || k < MIN_DOT {
        return Err(site.err(format!(
            "Input shapes should have M >= {MIN_DOT}, N >= {MIN_DOT} and K >= {MIN_DOT}"
        )));
    }
    if sx != sy {
        return Err(site.err(format!(
            "Both operands must be same dtype. Got {} and {}",
            triton_name(sx),
            triton_name(sy)
        )));
    }
    use ScalarType::*;
    let ret = match sx {
        I8 => I32,
        F32 | BF16 => {
            if opts.out_dtype == BF16 {
                return Err(bf16_out(site));
            }
            F32
        }
        F16 => match opts.out_dtype {
            F16 | F32 => opts.out_dtype,
            BF16 => return Err(bf16_out(site)),
            other => {
                return Err(site.err(format!(
                    "out_dtype must be float32 or float16, got {}",
                    triton_name(other)
                )))
            }
        },
        F64 => F64,
        other => {
            return Err(site.err(format!(
                "unsupported: dot of {} (f16, bf16, f32, f64 and int8 are supported)",
                triton_name(other)
            )))
        }
    };
    let mut shape = xt.shape[..r - 1].to_vec();
    shape.push(n);
    let ret_ty = Type::tensor(Elem::Scalar(ret), shape);
    let acc = match opts.acc {
        Some(acc) => {
            let at = l.ty(acc);
            if at != ret_ty {
                return Err(site.err(format!(
                    "the accumulator of dot must be {}, got {}",
                    type_name(&ret_ty),
                    type_name(&at)
                )));
            }
            acc
        }
        None => {
            let lit = if ret.is_float() {
                Literal::Float(0.0)
            } else {
                Literal::Int(0)
            };
            l.constant(lit, ret_ty.clone(), site)
        }
    };
    Ok(l.emit(
        OpKind::Dot {
            precision: opts.precision,
            max_num_imprecise_acc: opts.max_num_imprecise_acc,
        },
        vec![x, y, acc],
        ret_ty,
        site,
    ))
}

fn bf16_out(site: &Site) -> tm_core::CompileError {
    site.err("out_dtype=bfloat16 is unsupported. Please use out_dtype=float32/float16 and cast with `.to(tl.bfloat16)`")
}
