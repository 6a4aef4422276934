//! Reductions and scans: `tl.sum`/`max`/`min`/`xor_sum`, `tl.reduce` and
//! `tl.associative_scan` with a `@jit` combine function inlined into the op's region,
//! `tl.cumsum`/`tl.cumprod`, with Triton's dtype rules for each.

use std::sync::Arc;

use tm_tile::{BinaryOp, BlockId, CmpPred, Elem, OpKind, ScalarType, Type, ValueId};

use super::builtins::{const_bool, is_none, none, Args};
use super::{triton_name, type_name, Lowerer, Result, Site};
use crate::api::{ConstValue, FunctionSource};
use crate::values::Val;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceFn {
    Sum,
    Max,
    Min,
    XorSum,
    /// `tl.reduce` with a combine function.
    Generic,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanFn {
    /// `tl.associative_scan` with a combine function.
    Generic,
    Cumsum,
    Cumprod,
}

/// How a combine region combines two elements.
enum Combine {
    Binary(BinaryOp),
    /// The running (value, index) pair of `max/min(..., return_indices=True)`; ties keep
    /// the smaller index.
    ArgMinMax {
        is_max: bool,
    },
    Jit(Arc<FunctionSource>),
}

/// `axis` as given (an int, possibly negative, or None), checked against `rank`.
fn axis_arg(v: &Option<Val>, rank: usize, site: &Site) -> Result<Option<u32>> {
    let a = match v {
        None | Some(Val::Const(ConstValue::None)) => return Ok(None),
        Some(Val::Const(ConstValue::Int(a))) => *a,
        Some(other) => {
            return Err(site.err(format!(
                "axis must be a constexpr integer or None, got '{}'",
                other.kind_name()
            )))
        }
    };
    let n = rank as i64;
    if !(-n <= a && a < n) {
        return Err(site.err(format!("invalid axis {a}. Expected {} <= axis < {n}", -n)));
    }
    Ok(Some(if a < 0 { a + n } else { a } as u32))
}

/// Tensor inputs of a reduction or scan: one value or a tuple of values of one shape.
fn inputs(l: &Lowerer, v: &Val, what: &str, site: &Site) -> Result<(Vec<ValueId>, bool)> {
    let (items, is_tuple) = match v {
        Val::Tuple(t) => (t.clone(), true),
        other => (vec![other.clone()], false),
    };
    if items.is_empty() {
        return Err(site.err(format!("{what} needs at least one input tensor")));
    }
    let mut out = Vec::new();
    for it in &items {
        let Val::Value(x) = it else {
            return Err(site.err(format!("{what} expects tensors, got '{}'", it.kind_name())));
        };
        let ty = l.func.ty(*x);
        if !ty.is_tensor() {
            return Err(site.err(format!("{what} of a scalar: its input must be a tensor")));
        }
        if ty.elem.is_ptr() {
            return Err(site.err(format!("unsupported: {what} of pointers")));
        }
        out.push(*x);
    }
    let shape = l.func.ty(out[0]).shape.clone();
    for &x in &out[1..] {
        if l.func.ty(x).shape != shape {
            return Err(site.err(format!(
                "{what}: all inputs must have the same shape, got {} and {}",
                l.type_name_of(out[0]),
                l.type_name_of(x)
            )));
        }
    }
    Ok((out, is_tuple))
}

/// Triton's `_promote_bfloat16_to_float32`, then `_pick_sum_dtype` (integers narrower than
/// 32 bits accumulate in 32 bits of their signedness; bools as int32) unless `dtype` is
/// given.
fn sum_dtype(s: ScalarType, dtype: Option<ScalarType>) -> ScalarType {
    if let Some(d) = dtype {
        return d;
    }
    match s {
        ScalarType::BF16 => ScalarType::F32,
        ScalarType::I1 | ScalarType::I8 | ScalarType::I16 => ScalarType::I32,
        ScalarType::U8 | ScalarType::U16 => ScalarType::U32,
        other => other,
    }
}

/// `tl.max`/`tl.min`: bf16 and narrow floats go to f32, narrow integers to int32.
fn minmax_dtype(s: ScalarType) -> ScalarType {
    if s.bits() < 32 {
        if s.is_float() {
            ScalarType::F32
        } else {
            ScalarType::I32
        }
    } else {
        s
    }
}

fn opt_dtype(v: &Option<Val>, site: &Site) -> Result<Option<ScalarType>> {
    match v {
        None | Some(Val::Const(ConstValue::None)) => Ok(None),
        Some(Val::Const(ConstValue::Dtype(t))) => Ok(Some(*t)),
        Some(Val::Const(ConstValue::Fp8Dtype(f))) => {
            Err(super::builtins::fp8_unsupported(*f, site))
        }
        Some(other) => Err(site.err(format!(
            "dtype must be a tl dtype or None, got '{}'",
            other.kind_name()
        ))),
    }
}

fn combine_fn(v: &Option<Val>, what: &str, site: &Site) -> Result<Arc<FunctionSource>> {
    match v {
        Some(Val::JitFn(f)) => Ok(f.clone()),
        Some(other) => Err(site.err(format!(
            "{what}: combine_fn must be a @triton.jit function, got '{}'",
            other.kind_name()
        ))),
        None => Err(site.err(format!(
            "{what}() missing 1 required positional argument: 'combine_fn'"
        ))),
    }
}

pub fn reduce(l: &mut Lowerer, f: ReduceFn, args: Args, site: &Site) -> Result<Val> {
    match f {
        ReduceFn::Generic => {
            let a = args.bind(
                "reduce",
                &["input", "axis", "combine_fn", "keep_dims"],
                3,
                site,
            )?;
            let input = a[0].clone().unwrap_or_else(none);
            let (xs, is_tuple) = inputs(l, &input, "reduce", site)?;
            let rank = l.func.ty(xs[0]).rank();
            let axis = axis_arg(&a[1], rank, site)?;
            let keep = const_bool(&a[3], "keep_dims", site)?;
            let cf = combine_fn(&a[2], "reduce", site)?;
            let rs = l.reduce_values(xs, axis, keep, &Combine::Jit(cf), site)?;
            Ok(pack(rs, is_tuple))
        }
        ReduceFn::Sum | ReduceFn::XorSum => {
            let name = if f == ReduceFn::Sum { "sum" } else { "xor_sum" };
            let params: &[&str] = if f == ReduceFn::Sum {
                &["input", "axis", "keep_dims", "dtype"]
            } else {
                &["input", "axis", "keep_dims"]
            };
            let a = args.bind(name, params, 1, site)?;
            let x = single_input(l, &a[0], name, site)?;
            let s = scalar_of(l, x, name, site)?;
            let dtype = opt_dtype(a.get(3).unwrap_or(&None), site)?;
            let (t, op) = if f == ReduceFn::Sum {
                (sum_dtype(s, dtype), BinaryOp::Add)
            } else {
                if !s.is_int() {
                    return Err(site.err("xor_sum only supported for integers"));
                }
                (s, BinaryOp::Xor)
            };
            let x = l.cast_to(x, Elem::Scalar(t), site);
            let rank = l.func.ty(x).rank();
            let axis = axis_arg(&a[1], rank, site)?;
            let keep = const_bool(&a[2], "keep_dims", site)?;
            let rs = l.reduce_values(vec![x], axis, keep, &Combine::Binary(op), site)?;
            Ok(pack(rs, false))
        }
        ReduceFn::Max | ReduceFn::Min => {
            let is_max = f == ReduceFn::Max;
            let name = if is_max { "max" } else { "min" };
            let a = args.bind(
                name,
                &[
                    "input",
                    "axis",
                    "return_indices",
                    "return_indices_tie_break_left",
                    "keep_dims",
                ],
                1,
                site,
            )?;
            let x = single_input(l, &a[0], name, site)?;
            let s = scalar_of(l, x, name, site)?;
            let rank = l.func.ty(x).rank();
            let axis = axis_arg(&a[1], rank, site)?;
            let keep = const_bool(&a[4], "keep_dims", site)?;
            let with_indices = const_bool(&a[2], "return_indices", site)?;
            if !is_none(&a[3]) && !const_bool(&a[3], "return_indices_tie_break_left", site)? {
                return Err(site.err(
                    "unsupported: return_indices_tie_break_left=False (ties go to the smallest index)",
                ));
            }
            if with_indices {
                // The value keeps its type (bf16 aside), as in Triton's argmax path.
                let t = if s == ScalarType::BF16 {
                    ScalarType::F32
                } else {
                    s
                };
                let x = l.cast_to(x, Elem::Scalar(t), site);
                let (x, axis) = l.flatten_if_all(x, axis, site)?;
                let idx = l.axis_indices(x, axis, site)?;
                let rs = l.reduce_values(
                    vec![x, idx],
                    Some(axis),
                    keep,
                    &Combine::ArgMinMax { is_max },
                    site,
                )?;
                return Ok(pack(rs, true));
            }
            let x = l.cast_to(x, Elem::Scalar(minmax_dtype(s)), site);
            let op = if is_max { BinaryOp::Max } else { BinaryOp::Min };
            let rs = l.reduce_values(vec![x], axis, keep, &Combine::Binary(op), site)?;
            Ok(pack(rs, false))
        }
    }
}

pub fn scan(l: &mut Lowerer, f: ScanFn, args: Args, site: &Site) -> Result<Val> {
    match f {
        ScanFn::Generic => {
            let a = args.bind(
                "associative_scan",
                &["input", "axis", "combine_fn", "reverse"],
                3,
                site,
            )?;
            let input = a[0].clone().unwrap_or_else(none);
            let (xs, is_tuple) = inputs(l, &input, "associative_scan", site)?;
            let rank = l.func.ty(xs[0]).rank();
            let Some(axis) = axis_arg(&a[1], rank, site)? else {
                return Err(site.err("associative_scan needs an axis (None is not supported)"));
            };
            let reverse = const_bool(&a[3], "reverse", site)?;
            let cf = combine_fn(&a[2], "associative_scan", site)?;
            let rs = l.scan_values(xs, axis, reverse, &Combine::Jit(cf), site)?;
            Ok(pack(rs, is_tuple))
        }
        ScanFn::Cumsum | ScanFn::Cumprod => {
            let is_sum = f == ScanFn::Cumsum;
            let name = if is_sum { "cumsum" } else { "cumprod" };
            let params: &[&str] = if is_sum {
                &["input", "axis", "reverse", "dtype"]
            } else {
                &["input", "axis", "reverse"]
            };
            let a = args.bind(name, params, 1, site)?;
            let x = single_input(l, &a[0], name, site)?;
            let s = scalar_of(l, x, name, site)?;
            let t = if is_sum {
                sum_dtype(s, opt_dtype(a.get(3).unwrap_or(&None), site)?)
            } else if s == ScalarType::BF16 {
                ScalarType::F32
            } else {
                s
            };
            let x = l.cast_to(x, Elem::Scalar(t), site);
            let rank = l.func.ty(x).rank();
            let axis = match &a[1] {
                None => 0,
                v => axis_arg(v, rank, site)?.ok_or_else(|| {
                    site.err(format!("{name} needs an axis (None is not supported)"))
                })?,
            };
            let reverse = const_bool(&a[2], "reverse", site)?;
            let op = if is_sum { BinaryOp::Add } else { BinaryOp::Mul };
            let rs = l.scan_values(vec![x], axis, reverse, &Combine::Binary(op), site)?;
            Ok(pack(rs, false))
        }
    }
}

fn single_input(l: &Lowerer, v: &Option<Val>, what: &str, site: &Site) -> Result<ValueId> {
    let (xs, is_tuple) = inputs(l, v.as_ref().unwrap_or(&none()), what, site)?;
    if is_tuple {
        return Err(site.err(format!("{what} takes one tensor; use tl.reduce for tuples")));
    }
    Ok(xs[0])
}

fn scalar_of(l: &Lowerer, x: ValueId, what: &str, site: &Site) -> Result<ScalarType> {
    l.func.ty(x).scalar_type().ok_or_else(|| {
        site.err(format!(
            "unsupported: {what} of {}",
            type_name(l.func.ty(x))
        ))
    })
}

fn pack(mut rs: Vec<ValueId>, is_tuple: bool) -> Val {
    if !is_tuple && rs.len() == 1 {
        return Val::Value(rs.remove(0));
    }
    Val::Tuple(rs.into_iter().map(Val::Value).collect())
}

impl Lowerer {
    /// With no axis, reshape to 1-D and reduce along 0 (Triton ravels the input).
    fn flatten_if_all(
        &mut self,
        x: ValueId,
        axis: Option<u32>,
        site: &Site,
    ) -> Result<(ValueId, u32)> {
        match axis {
            Some(a) => Ok((x, a)),
            None => {
                let ty = self.ty(x);
                if ty.rank() == 1 {
                    return Ok((x, 0));
                }
                let n = ty.numel() as u32;
                let r = self.emit(
                    OpKind::Reshape { can_reorder: false },
                    vec![x],
                    ty.with_shape(vec![n]),
                    site,
                );
                Ok((r, 0))
            }
        }
    }

    /// The index along `axis` of each element of `x`, as int32 in `x`'s shape.
    fn axis_indices(&mut self, x: ValueId, axis: u32, site: &Site) -> Result<ValueId> {
        let shape = self.ty(x).shape;
        let n = shape[axis as usize];
        let mut r = self.emit(
            OpKind::MakeRange {
                start: 0,
                end: n as i32,
            },
            vec![],
            Type::tensor(Elem::Scalar(ScalarType::I32), vec![n]),
            site,
        );
        for d in 0..shape.len() {
            if d != axis as usize {
                let ty = self.ty(r);
                let mut s = ty.shape.clone();
                s.insert(d, 1);
                r = self.emit(
                    OpKind::ExpandDims(d as u32),
                    vec![r],
                    ty.with_shape(s),
                    site,
                );
            }
        }
        self.broadcast_to(r, &shape, site)
    }

    /// Reduce `xs` (one shape) along `axis` (None: all elements); results as Triton gives
    /// them, with `keep_dims` applied.
    fn reduce_values(
        &mut self,
        xs: Vec<ValueId>,
        axis: Option<u32>,
        keep_dims: bool,
        combine: &Combine,
        site: &Site,
    ) -> Result<Vec<ValueId>> {
        let orig_rank = self.ty(xs[0]).rank();
        let mut flat = Vec::with_capacity(xs.len());
        let mut ax = 0;
        for &x in &xs {
            let (f, a) = self.flatten_if_all(x, axis, site)?;
            flat.push(f);
            ax = a;
        }
        let elems: Vec<ScalarType> = flat
            .iter()
            .map(|&x| self.ty(x).scalar_type().unwrap_or(ScalarType::I32))
            .collect();
        let region = self.combine_region(&elems, combine, site)?;
        let result_types: Vec<Type> = flat
            .iter()
            .map(|&x| {
                let ty = self.ty(x);
                let mut s = ty.shape.clone();
                s.remove(ax as usize);
                ty.with_shape(s)
            })
            .collect();
        let op = self.func.push_op(
            self.block,
            OpKind::Reduce { axis: ax },
            flat,
            result_types,
            vec![region],
            site.loc,
        );
        let mut rs = self.func.ops[op].results.clone();
        if keep_dims {
            for r in rs.iter_mut() {
                *r = match axis {
                    Some(a) => self.expand_dims(*r, a as usize, site)?,
                    None => {
                        let ty = self.ty(*r);
                        self.emit(
                            OpKind::Splat,
                            vec![*r],
                            ty.with_shape(vec![1; orig_rank]),
                            site,
                        )
                    }
                };
            }
        }
        Ok(rs)
    }

    fn scan_values(
        &mut self,
        xs: Vec<ValueId>,
        axis: u32,
        reverse: bool,
        combine: &Combine,
        site: &Site,
    ) -> Result<Vec<ValueId>> {
        let elems: Vec<ScalarType> = xs
            .iter()
            .map(|&x| self.ty(x).scalar_type().unwrap_or(ScalarType::I32))
            .collect();
        let region = self.combine_region(&elems, combine, site)?;
        let types: Vec<Type> = xs.iter().map(|&x| self.ty(x)).collect();
        let op = self.func.push_op(
            self.block,
            OpKind::Scan { axis, reverse },
            xs,
            types,
            vec![region],
            site.loc,
        );
        Ok(self.func.ops[op].results.clone())
    }

    /// A region taking accumulators then new elements (scalars of `elems`) and yielding the
    /// combined accumulators.
    fn combine_region(
        &mut self,
        elems: &[ScalarType],
        combine: &Combine,
        site: &Site,
    ) -> Result<BlockId> {
        let n = elems.len();
        let mut arg_types: Vec<Type> = elems.iter().map(|&s| Type::scalar(s)).collect();
        arg_types.extend(elems.iter().map(|&s| Type::scalar(s)));
        let block = self.func.new_block(&arg_types);
        let args = self.func.blocks[block].args.clone();
        let parent = std::mem::replace(&mut self.block, block);
        let r = self.combine_body(&args, elems, combine, site);
        self.block = parent;
        let ys = r?;
        if ys.len() != n {
            return Err(site.err(format!(
                "combine_fn must return {n} value(s), got {}",
                ys.len()
            )));
        }
        self.func
            .push_op(block, OpKind::Yield, ys, vec![], vec![], site.loc);
        Ok(block)
    }

    fn combine_body(
        &mut self,
        args: &[ValueId],
        elems: &[ScalarType],
        combine: &Combine,
        site: &Site,
    ) -> Result<Vec<ValueId>> {
        let n = elems.len();
        match combine {
            Combine::Binary(op) => {
                let ty = self.ty(args[0]);
                Ok(vec![self.emit(
                    OpKind::Binary(*op),
                    vec![args[0], args[1]],
                    ty,
                    site,
                )])
            }
            Combine::ArgMinMax { is_max } => {
                let (v1, i1, v2, i2) = (args[0], args[1], args[2], args[3]);
                let b = Type::scalar(ScalarType::I1);
                let pred = if *is_max { CmpPred::Gt } else { CmpPred::Lt };
                let better = self.emit(OpKind::Cmp(pred), vec![v1, v2], b.clone(), site);
                let eq = self.emit(OpKind::Cmp(CmpPred::Eq), vec![v1, v2], b.clone(), site);
                let lower = self.emit(OpKind::Cmp(CmpPred::Lt), vec![i1, i2], b.clone(), site);
                let tie = self.emit(
                    OpKind::Binary(BinaryOp::And),
                    vec![eq, lower],
                    b.clone(),
                    site,
                );
                let keep = self.emit(OpKind::Binary(BinaryOp::Or), vec![better, tie], b, site);
                let vt = self.ty(v1);
                let it = self.ty(i1);
                let v = self.emit(OpKind::Select, vec![keep, v1, v2], vt, site);
                let i = self.emit(OpKind::Select, vec![keep, i1, i2], it, site);
                Ok(vec![v, i])
            }
            Combine::Jit(f) => {
                let call_args = Args {
                    pos: args.iter().map(|&a| Val::Value(a)).collect(),
                    kw: Vec::new(),
                };
                let r = self.call_jit(f, call_args, site)?;
                let items = match r {
                    Val::Tuple(t) => t,
                    other => vec![other],
                };
                if items.len() != n {
                    return Err(site.err(format!(
                        "combine_fn {}() must return {n} value(s), got {}",
                        f.name,
                        items.len()
                    )));
                }
                let mut out = Vec::with_capacity(n);
                for (v, &s) in items.iter().zip(elems) {
                    let id = match v {
                        Val::Const(c) if v.is_numeric_const() => {
                            self.number(c, s, Vec::new(), site)?
                        }
                        Val::Value(x) => *x,
                        other => {
                            return Err(site.err(format!(
                                "combine_fn {}() returned a '{}', expected a scalar",
                                f.name,
                                other.kind_name()
                            )))
                        }
                    };
                    let ty = self.ty(id);
                    if ty.is_tensor() || ty.elem.is_ptr() {
                        return Err(site.err(format!(
                            "combine_fn {}() must return scalars of {}, got {}",
                            f.name,
                            triton_name(s),
                            type_name(&ty)
                        )));
                    }
                    out.push(self.cast_to(id, Elem::Scalar(s), site));
                }
                Ok(out)
            }
        }
    }
}
