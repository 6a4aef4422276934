//! Block pointers (`tl.make_block_ptr`, `tl.advance`, and loads/stores through them with
//! `boundary_check` and `padding_option`), lowered at compile time into a tensor of
//! pointers and a bounds mask: no Tile IR op knows about them.

use ruff_python_ast::Operator;
use tm_tile::{Elem, ScalarType, ValueId};

use super::builtins::{check_cache_and_eviction, none, shape_arg, Args};
use super::{Lowerer, Result, Site};
use crate::api::ConstValue;
use crate::values::{BlockPtr, Val};

fn items(v: &Option<Val>, what: &str, site: &Site) -> Result<Vec<Val>> {
    match v {
        Some(Val::Tuple(t)) => Ok(t.clone()),
        Some(other) if other.is_leaf() => Ok(vec![other.clone()]),
        _ => Err(site.err(format!("make_block_ptr: {what} must be a tuple"))),
    }
}

fn int_leaf(l: &Lowerer, v: &Val, what: &str, site: &Site) -> Result<()> {
    let ok = match v {
        Val::Const(ConstValue::Int(_)) => true,
        Val::Value(x) => {
            let t = l.func.ty(*x);
            !t.is_tensor() && t.scalar_type().is_some_and(|s| s.is_int() && !s.is_bool())
        }
        _ => false,
    };
    if !ok {
        return Err(site.err(format!(
            "make_block_ptr: {what} must be integer scalars, got '{}'",
            v.kind_name()
        )));
    }
    Ok(())
}

pub fn make(l: &mut Lowerer, args: Args, site: &Site) -> Result<Val> {
    let a = args.bind(
        "make_block_ptr",
        &[
            "base",
            "shape",
            "strides",
            "offsets",
            "block_shape",
            "order",
        ],
        6,
        site,
    )?;
    let base = match &a[0] {
        Some(Val::Value(p)) if l.func.ty(*p).elem.is_ptr() && !l.func.ty(*p).is_tensor() => {
            Val::Value(*p)
        }
        _ => {
            return Err(site.err(
                "Expected `base` to be a pointer type (but not a block pointer type or others)",
            ))
        }
    };
    let block_shape = shape_arg(a[4].as_ref().unwrap_or(&none()), site)?;
    let rank = block_shape.len();
    let shape = items(&a[1], "shape", site)?;
    let strides = items(&a[2], "strides", site)?;
    let offsets = items(&a[3], "offsets", site)?;
    if shape.len() != rank || strides.len() != rank || offsets.len() != rank {
        return Err(site.err("Expected shape/strides/offsets/block_shape to have the same length"));
    }
    for (vs, what) in [
        (&shape, "shape"),
        (&strides, "strides"),
        (&offsets, "offsets"),
    ] {
        for v in vs {
            int_leaf(l, v, what, site)?;
        }
    }
    let order: Vec<u32> = match a[5].as_ref().unwrap_or(&none()) {
        Val::Tuple(t) => t
            .iter()
            .map(|v| match v {
                Val::Const(ConstValue::Int(i)) if *i >= 0 && (*i as usize) < rank => Ok(*i as u32),
                _ => Err(site.err("Expected a permutation of (0, 1, ..., len(order)-1) in order")),
            })
            .collect::<Result<_>>()?,
        Val::Const(ConstValue::Int(0)) if rank == 1 => vec![0],
        _ => return Err(site.err("order must be a constexpr tuple")),
    };
    let mut sorted = order.clone();
    sorted.sort_unstable();
    if sorted != (0..rank as u32).collect::<Vec<_>>() {
        return Err(site.err("Expected a permutation of (0, 1, ..., len(order)-1) in order"));
    }
    Ok(Val::BlockPtr(Box::new(BlockPtr {
        base,
        shape,
        strides,
        offsets,
        block_shape,
        order,
    })))
}

pub fn advance(l: &mut Lowerer, args: Args, site: &Site) -> Result<Val> {
    let a = args.bind("advance", &["base", "offsets"], 2, site)?;
    let Some(Val::BlockPtr(bp)) = &a[0] else {
        return Err(site.err("advance's first argument must be a block pointer"));
    };
    let deltas = items(&a[1], "offsets", site)?;
    if deltas.len() != bp.offsets.len() {
        return Err(
            site.err("Expected offsets to have the same length as the block pointer's rank")
        );
    }
    let mut out = (**bp).clone();
    for (o, d) in out.offsets.iter_mut().zip(deltas) {
        int_leaf(l, &d, "offsets", site)?;
        *o = l.binop(Operator::Add, o.clone(), d, site)?;
    }
    Ok(Val::BlockPtr(Box::new(out)))
}

/// The index tensor of dimension `d` (offset + arange), shaped to broadcast along it.
fn index(l: &mut Lowerer, bp: &BlockPtr, d: usize, site: &Site) -> Result<Val> {
    let n = bp.block_shape[d];
    let r = l.emit(
        tm_tile::OpKind::MakeRange {
            start: 0,
            end: n as i32,
        },
        vec![],
        tm_tile::Type::tensor(Elem::Scalar(ScalarType::I32), vec![n]),
        site,
    );
    let mut idx = l.binop(Operator::Add, bp.offsets[d].clone(), Val::Value(r), site)?;
    let rank = bp.block_shape.len();
    if let Val::Value(mut x) = idx {
        for e in 0..rank {
            if e != d {
                x = l.expand_dims(x, e, site)?;
            }
        }
        idx = Val::Value(x);
    }
    Ok(idx)
}

/// Pointers of the whole block and the mask of `boundary_check`'s dimensions.
fn addresses(
    l: &mut Lowerer,
    bp: &BlockPtr,
    boundary: &[usize],
    site: &Site,
) -> Result<(ValueId, Option<ValueId>)> {
    let mut offs: Option<Val> = None;
    let mut mask: Option<Val> = None;
    for d in 0..bp.block_shape.len() {
        let idx = index(l, bp, d, site)?;
        let term = l.binop(Operator::Mult, idx.clone(), bp.strides[d].clone(), site)?;
        offs = Some(match offs {
            None => term,
            Some(o) => l.binop(Operator::Add, o, term, site)?,
        });
        if boundary.contains(&d) {
            use ruff_python_ast::CmpOp;
            let lo = l.compare(
                CmpOp::GtE,
                idx.clone(),
                Val::Const(ConstValue::Int(0)),
                site,
            )?;
            let hi = l.compare(CmpOp::Lt, idx, bp.shape[d].clone(), site)?;
            let both = l.binop(Operator::BitAnd, lo, hi, site)?;
            mask = Some(match mask {
                None => both,
                Some(m) => l.binop(Operator::BitAnd, m, both, site)?,
            });
        }
    }
    let offs = offs.unwrap_or(Val::Const(ConstValue::Int(0)));
    let ptrs = l.binop(Operator::Add, bp.base.clone(), offs, site)?;
    let ptrs = l.materialize(&ptrs, site)?;
    let ptrs = l.broadcast_to(ptrs, &bp.block_shape, site)?;
    let mask = match mask {
        Some(m) => {
            let m = l.materialize(&m, site)?;
            Some(l.broadcast_to(m, &bp.block_shape, site)?)
        }
        None => None,
    };
    Ok((ptrs, mask))
}

fn boundary_dims(v: &Option<Val>, rank: usize, site: &Site) -> Result<Vec<usize>> {
    let items = match v {
        None | Some(Val::Const(ConstValue::None)) => return Ok(Vec::new()),
        Some(Val::Tuple(t)) => t.clone(),
        Some(other) => vec![other.clone()],
    };
    items
        .iter()
        .map(|d| match d {
            Val::Const(ConstValue::Int(i)) if *i >= 0 && (*i as usize) < rank => Ok(*i as usize),
            _ => Err(site.err(format!(
                "boundary_check must be constexpr dimensions below {rank}"
            ))),
        })
        .collect()
}

/// `tl.load(block_ptr, boundary_check=..., padding_option=...)`; `a` is load's bound
/// arguments.
pub fn load(l: &mut Lowerer, bp: &BlockPtr, a: &[Option<Val>], site: &Site) -> Result<Val> {
    if !matches!(a[1], None | Some(Val::Const(ConstValue::None)))
        || !matches!(a[2], None | Some(Val::Const(ConstValue::None)))
    {
        return Err(
            site.err("`mask` and `other` arguments cannot be specified for loading block pointers")
        );
    }
    check_cache_and_eviction(&a[5], &a[6], true, site)?;
    let boundary = boundary_dims(&a[3], bp.block_shape.len(), site)?;
    let padding = match &a[4] {
        None | Some(Val::Const(ConstValue::None)) => None,
        Some(Val::Const(ConstValue::Str(s))) if s.is_empty() => None,
        Some(Val::Const(ConstValue::Str(s))) if s == "zero" => Some(0.0),
        Some(Val::Const(ConstValue::Str(s))) if s == "nan" => Some(f64::NAN),
        Some(_) => return Err(site.err("Padding option must be one of 'zero', 'nan', or None")),
    };
    let (ptrs, mask) = addresses(l, bp, &boundary, site)?;
    let elem = l.ty(ptrs).elem.pointee().unwrap_or(ScalarType::F32);
    if padding.is_some_and(f64::is_nan) && !elem.is_float() {
        return Err(site.err("Padding option `nan` is not supported for integer block pointers"));
    }
    let mut args = vec![Val::Value(ptrs)];
    let mut kw = Vec::new();
    if let Some(m) = mask {
        kw.push(("mask".to_string(), Val::Value(m)));
        if let Some(p) = padding {
            kw.push(("other".to_string(), Val::Const(ConstValue::Float(p))));
        }
    }
    if let Some(v) = &a[7] {
        kw.push(("volatile".to_string(), v.clone()));
    }
    args.truncate(1);
    super::builtins::call(
        l,
        super::builtins::Builtin::Load,
        Args { pos: args, kw },
        site,
    )
}

/// `tl.store(block_ptr, value, boundary_check=...)`; `a` is store's bound arguments.
pub fn store(l: &mut Lowerer, bp: &BlockPtr, a: &[Option<Val>], site: &Site) -> Result<Val> {
    if !matches!(a[2], None | Some(Val::Const(ConstValue::None))) {
        return Err(site.err("`mask` argument cannot be specified for storing block pointers"));
    }
    check_cache_and_eviction(&a[4], &a[5], false, site)?;
    let boundary = boundary_dims(&a[3], bp.block_shape.len(), site)?;
    let (ptrs, mask) = addresses(l, bp, &boundary, site)?;
    let value = a[1].clone().unwrap_or_else(none);
    if let Val::Value(v) = &value {
        let vs = l.ty(*v).shape;
        if !vs.is_empty() && vs != bp.block_shape {
            return Err(site.err(format!(
                "Block shape({:?}) and value shape({vs:?}) mismatch",
                bp.block_shape
            )));
        }
    }
    let mut kw = Vec::new();
    if let Some(m) = mask {
        kw.push(("mask".to_string(), Val::Value(m)));
    }
    super::builtins::call(
        l,
        super::builtins::Builtin::Store,
        Args {
            pos: vec![Val::Value(ptrs), value],
            kw,
        },
        site,
    )
}
