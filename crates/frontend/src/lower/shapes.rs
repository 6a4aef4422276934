//! Shape manipulation: `reshape`/`view`, `trans`/`permute`/`.T`, `expand_dims`,
//! `broadcast_to`/`broadcast`, `join`/`split`, `zeros_like`.

use tm_tile::{Elem, Literal, OpKind, ValueId};

use super::builtins::{const_bool, none, shape_arg, Args};
use super::{Lowerer, Result, Site};
use crate::api::ConstValue;
use crate::values::Val;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShapeFn {
    Reshape,
    View,
    Trans,
    Permute,
    ExpandDims,
    BroadcastTo,
    Broadcast,
    Join,
    Split,
    ZerosLike,
}

/// The tensor operand of a shape op.
fn tensor(l: &mut Lowerer, v: &Val, what: &str, site: &Site) -> Result<ValueId> {
    match v {
        Val::Value(x) => Ok(*x),
        c if c.is_numeric_const() => l.materialize(c, site),
        other => Err(site.err(format!(
            "{what} expects a tensor, got '{}'",
            other.kind_name()
        ))),
    }
}

/// Trailing `*dims` arguments: either spread out or one tuple.
fn varargs(mut rest: Vec<Val>) -> Val {
    if rest.len() == 1 {
        if let Val::Tuple(_) = rest[0] {
            return rest.remove(0);
        }
    }
    Val::Tuple(rest)
}

fn int_list(v: &Val, what: &str, site: &Site) -> Result<Vec<i64>> {
    let items: Vec<Val> = match v {
        Val::Tuple(t) => t.clone(),
        other => vec![other.clone()],
    };
    items
        .iter()
        .map(|d| match d {
            Val::Const(ConstValue::Int(i)) => Ok(*i),
            other => Err(site.err(format!(
                "{what} must be constexpr integers, got '{}'",
                other.kind_name()
            ))),
        })
        .collect()
}

/// Split `args` into the receiver, `*rest` and the named keyword arguments.
fn split_args(
    args: Args,
    fname: &str,
    keywords: &[&str],
    site: &Site,
) -> Result<(Val, Vec<Val>, Vec<Option<Val>>)> {
    let mut pos = args.pos.into_iter();
    let Some(first) = pos.next() else {
        return Err(site.err(format!(
            "{fname}() missing 1 required positional argument: 'input'"
        )));
    };
    let mut kws = vec![None; keywords.len()];
    for (k, v) in args.kw {
        match keywords.iter().position(|n| *n == k) {
            Some(i) => kws[i] = Some(v),
            None => {
                return Err(site.err(format!(
                    "{fname}() got an unexpected keyword argument '{k}'"
                )))
            }
        }
    }
    Ok((first, pos.collect(), kws))
}

pub fn call(l: &mut Lowerer, f: ShapeFn, args: Args, site: &Site) -> Result<Val> {
    match f {
        ShapeFn::Reshape | ShapeFn::View => {
            let name = if f == ShapeFn::Reshape {
                "reshape"
            } else {
                "view"
            };
            let (x, rest, kw) = split_args(args, name, &["shape", "can_reorder"], site)?;
            let x = tensor(l, &x, name, site)?;
            let shape_v = match kw[0].clone() {
                Some(s) if rest.is_empty() => s,
                Some(_) => {
                    return Err(site.err(format!("{name}() got multiple values for 'shape'")))
                }
                None => varargs(rest),
            };
            let can_reorder = f == ShapeFn::View || const_bool(&kw[1], "can_reorder", site)?;
            let shape = shape_arg(&shape_v, site)?;
            let ty = l.ty(x);
            if ty.numel() != shape.iter().map(|&d| d as u64).product::<u64>() {
                return Err(site.err(format!(
                    "reshape() cannot change total number of elements in tensor: {:?} to {shape:?}",
                    ty.shape
                )));
            }
            if ty.shape == shape {
                return Ok(Val::Value(x));
            }
            if ty.shape.is_empty() {
                return Ok(Val::Value(l.emit(
                    OpKind::Splat,
                    vec![x],
                    ty.with_shape(shape),
                    site,
                )));
            }
            Ok(Val::Value(l.emit(
                OpKind::Reshape { can_reorder },
                vec![x],
                ty.with_shape(shape),
                site,
            )))
        }
        ShapeFn::Trans | ShapeFn::Permute => {
            let name = if f == ShapeFn::Trans {
                "trans"
            } else {
                "permute"
            };
            let (x, rest, kw) = split_args(args, name, &["dims"], site)?;
            let x = tensor(l, &x, name, site)?;
            let dims_v = match kw[0].clone() {
                Some(d) => d,
                None => varargs(rest),
            };
            let mut dims = int_list(&dims_v, "dims", site)?;
            let rank = l.ty(x).rank();
            if dims.is_empty() {
                if f == ShapeFn::Permute {
                    return Err(site.err("permute() needs dims"));
                }
                dims = (0..rank as i64).rev().collect();
            }
            permute(l, x, &dims, site).map(Val::Value)
        }
        ShapeFn::ExpandDims => {
            let a = args.bind("expand_dims", &["input", "axis"], 2, site)?;
            let x = tensor(l, a[0].as_ref().unwrap_or(&none()), "expand_dims", site)?;
            let axes = int_list(a[1].as_ref().unwrap_or(&none()), "axis", site)?;
            let new_rank = (l.ty(x).rank() + axes.len()) as i64;
            let mut wrapped = Vec::new();
            for a in axes {
                if !(-new_rank <= a && a < new_rank) {
                    return Err(site.err(format!(
                        "invalid axis {a}. Expected {} <= axis < {new_rank}",
                        -new_rank
                    )));
                }
                let a = if a < 0 { a + new_rank } else { a } as usize;
                if wrapped.contains(&a) {
                    return Err(site.err(format!("expand_dims received duplicate axes: {a}")));
                }
                wrapped.push(a);
            }
            wrapped.sort_unstable();
            let mut r = x;
            for a in wrapped {
                r = l.expand_dims(r, a, site)?;
            }
            Ok(Val::Value(r))
        }
        ShapeFn::BroadcastTo => {
            let (x, rest, kw) = split_args(args, "broadcast_to", &["shape"], site)?;
            let x = tensor(l, &x, "broadcast_to", site)?;
            let shape_v = match kw[0].clone() {
                Some(s) => s,
                None => varargs(rest),
            };
            let shape = shape_arg(&shape_v, site)?;
            Ok(Val::Value(l.broadcast_to(x, &shape, site)?))
        }
        ShapeFn::Broadcast => {
            let a = args.bind("broadcast", &["input", "other"], 2, site)?;
            let x = tensor(l, a[0].as_ref().unwrap_or(&none()), "broadcast", site)?;
            let y = tensor(l, a[1].as_ref().unwrap_or(&none()), "broadcast", site)?;
            let (sx, sy) = (l.ty(x).shape, l.ty(y).shape);
            let shape = l.broadcast_shape(&[&sx, &sy], site)?;
            let x = l.broadcast_to(x, &shape, site)?;
            let y = l.broadcast_to(y, &shape, site)?;
            Ok(Val::Tuple(vec![Val::Value(x), Val::Value(y)]))
        }
        ShapeFn::Join => {
            let a = args.bind("join", &["a", "b"], 2, site)?;
            let ox = l.operand(a[0].as_ref().unwrap_or(&none()), site, "join")?;
            let oy = l.operand(a[1].as_ref().unwrap_or(&none()), site, "join")?;
            let t = l.common_type(&ox, &oy, false, site)?;
            let vs = l.unify_to(&[ox, oy], t, site)?;
            let ty = l.ty(vs[0]);
            let mut shape = ty.shape.clone();
            shape.push(2);
            Ok(Val::Value(l.emit(
                OpKind::Join,
                vs,
                ty.with_shape(shape),
                site,
            )))
        }
        ShapeFn::Split => {
            let a = args.bind("split", &["a"], 1, site)?;
            let x = tensor(l, a[0].as_ref().unwrap_or(&none()), "split", site)?;
            let ty = l.ty(x);
            if ty.shape.last() != Some(&2) {
                return Err(site.err(format!(
                    "split: the last dimension must have size 2, got shape {:?}",
                    ty.shape
                )));
            }
            let rt = ty.with_shape(ty.shape[..ty.rank() - 1].to_vec());
            let op = l.func.push_op(
                l.block,
                OpKind::Split,
                vec![x],
                vec![rt.clone(), rt],
                vec![],
                site.loc,
            );
            let rs = l.func.ops[op].results.clone();
            Ok(Val::Tuple(rs.into_iter().map(Val::Value).collect()))
        }
        ShapeFn::ZerosLike => {
            let a = args.bind("zeros_like", &["input"], 1, site)?;
            let x = tensor(l, a[0].as_ref().unwrap_or(&none()), "zeros_like", site)?;
            let ty = l.ty(x);
            let Elem::Scalar(s) = ty.elem else {
                return Err(site.err("zeros_like of pointers"));
            };
            let lit = if s.is_float() {
                Literal::Float(0.0)
            } else {
                Literal::Int(0)
            };
            Ok(Val::Value(l.constant(lit, ty, site)))
        }
    }
}

/// Permute the dimensions of `x`; `dims` may be negative.
pub fn permute(l: &mut Lowerer, x: ValueId, dims: &[i64], site: &Site) -> Result<ValueId> {
    let ty = l.ty(x);
    let rank = ty.rank() as i64;
    let mut perm = Vec::with_capacity(dims.len());
    for &d in dims {
        let d = if d < 0 { d + rank } else { d };
        if !(0..rank).contains(&d) || perm.contains(&(d as u32)) {
            perm.clear();
            break;
        }
        perm.push(d as u32);
    }
    if perm.len() as i64 != rank || rank == 0 {
        return Err(site.err(format!(
            "permute(dims)={dims:?} must be a permutation of 0, 1, ..., n-1 for a tensor of rank {rank}"
        )));
    }
    if perm.iter().enumerate().all(|(i, &p)| i as u32 == p) {
        return Ok(x);
    }
    let shape = perm.iter().map(|&p| ty.shape[p as usize]).collect();
    Ok(l.emit(OpKind::Permute(perm), vec![x], ty.with_shape(shape), site))
}

/// `x.T`: the dimensions reversed.
pub fn transpose(l: &mut Lowerer, x: ValueId, site: &Site) -> Result<ValueId> {
    let rank = l.ty(x).rank() as i64;
    let dims: Vec<i64> = (0..rank).rev().collect();
    permute(l, x, &dims, site)
}
