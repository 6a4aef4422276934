//! `tl.atomic_*` read-modify-writes and `tl.atomic_cas`: scalar and tensor forms, masks,
//! `sem` and `scope`, returning the old values.

use tm_tile::{AtomicOp, Elem, MemScope, MemSem, OpKind, ScalarType, Type, ValueId};

use super::builtins::{mask_arg, none, pointer_arg, Args};
use super::promote::Operand;
use super::{triton_name, Lowerer, Result, Site};
use crate::api::ConstValue;
use crate::values::Val;

fn sem_arg(v: &Option<Val>, site: &Site) -> Result<MemSem> {
    match v {
        None | Some(Val::Const(ConstValue::None)) => Ok(MemSem::AcqRel),
        Some(Val::Const(ConstValue::Str(s))) => MemSem::from_name(s)
            .ok_or_else(|| site.err(format!("Memory semantic {s} not supported"))),
        Some(other) => Err(site.err(format!(
            "sem must be a constexpr string, got '{}'",
            other.kind_name()
        ))),
    }
}

fn scope_arg(v: &Option<Val>, site: &Site) -> Result<MemScope> {
    match v {
        None | Some(Val::Const(ConstValue::None)) => Ok(MemScope::Gpu),
        Some(Val::Const(ConstValue::Str(s))) => MemScope::from_name(s)
            .ok_or_else(|| site.err(format!("Memory scope {s} not supported"))),
        Some(other) => Err(site.err(format!(
            "scope must be a constexpr string, got '{}'",
            other.kind_name()
        ))),
    }
}

/// A value operand in the pointee type, broadcast to `shape`.
fn data(
    l: &mut Lowerer,
    v: &Option<Val>,
    elem: ScalarType,
    shape: &[u32],
    site: &Site,
) -> Result<ValueId> {
    match l.operand(v.as_ref().unwrap_or(&none()), site, "atomic")? {
        Operand::Number(c) => l.number(&c, elem, shape.to_vec(), site),
        Operand::Value(x) => {
            if l.ty(x).elem.is_ptr() {
                return Err(site.err("unsupported: atomics on pointer values"));
            }
            let x = l.broadcast_to(x, shape, site)?;
            Ok(l.cast_to(x, Elem::Scalar(elem), site))
        }
    }
}

fn shape_of(l: &Lowerer, v: &Option<Val>) -> Vec<u32> {
    match v {
        Some(Val::Value(x)) => l.func.ty(*x).shape.clone(),
        _ => Vec::new(),
    }
}

pub fn rmw(l: &mut Lowerer, op: AtomicOp, args: Args, site: &Site) -> Result<Val> {
    let name = format!("atomic_{op}");
    let a = args.bind(&name, &["pointer", "val", "mask", "sem", "scope"], 2, site)?;
    let (ptr, elem) = pointer_arg(l, &a[0], &name, site)?;
    let int_only = matches!(op, AtomicOp::And | AtomicOp::Or | AtomicOp::Xor);
    let bad = match elem {
        ScalarType::I1 | ScalarType::I8 | ScalarType::I16 | ScalarType::U8 | ScalarType::U16 => {
            true
        }
        ScalarType::BF16 => true,
        s if s.is_float() => int_only,
        _ => false,
    };
    if bad {
        return Err(site.err(format!(
            "atomic_{op} does not support {}",
            triton_name(elem)
        )));
    }
    let sem = sem_arg(&a[3], site)?;
    let scope = scope_arg(&a[4], site)?;
    let mask = mask_arg(l, &a[2], site)?;
    let mut shapes = vec![l.func.ty(ptr).shape.clone(), shape_of(l, &a[1])];
    if let Some(m) = mask {
        shapes.push(l.func.ty(m).shape.clone());
    }
    let refs: Vec<&[u32]> = shapes.iter().map(|s| s.as_slice()).collect();
    let shape = l.broadcast_shape(&refs, site)?;
    let ptr = l.broadcast_to(ptr, &shape, site)?;
    let val = data(l, &a[1], elem, &shape, site)?;
    let mut operands = vec![ptr, val];
    if let Some(m) = mask {
        operands.push(l.broadcast_to(m, &shape, site)?);
    }
    let kind = OpKind::AtomicRmw {
        op,
        has_mask: mask.is_some(),
        sem,
        scope,
    };
    let ty = Type::tensor(Elem::Scalar(elem), shape);
    Ok(Val::Value(l.emit(kind, operands, ty, site)))
}

pub fn cas(l: &mut Lowerer, args: Args, site: &Site) -> Result<Val> {
    let a = args.bind(
        "atomic_cas",
        &["pointer", "cmp", "val", "sem", "scope"],
        3,
        site,
    )?;
    let (ptr, elem) = pointer_arg(l, &a[0], "atomic_cas", site)?;
    if ![16, 32, 64].contains(&elem.bits()) {
        return Err(site.err(format!(
            "atomic_cas only supports elements with width {{16, 32, 64}}, got {}",
            triton_name(elem)
        )));
    }
    let sem = sem_arg(&a[3], site)?;
    let scope = scope_arg(&a[4], site)?;
    let shapes = [
        l.func.ty(ptr).shape.clone(),
        shape_of(l, &a[1]),
        shape_of(l, &a[2]),
    ];
    let refs: Vec<&[u32]> = shapes.iter().map(|s| s.as_slice()).collect();
    let shape = l.broadcast_shape(&refs, site)?;
    let ptr = l.broadcast_to(ptr, &shape, site)?;
    let cmp = data(l, &a[1], elem, &shape, site)?;
    let val = data(l, &a[2], elem, &shape, site)?;
    let ty = Type::tensor(Elem::Scalar(elem), shape);
    Ok(Val::Value(l.emit(
        OpKind::AtomicCas { sem, scope },
        vec![ptr, cmp, val],
        ty,
        site,
    )))
}
