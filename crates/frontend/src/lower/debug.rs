//! Debugging and compiler hints: `device_print`/`print`, `device_assert`, `multiple_of`,
//! `max_contiguous`, `max_constancy`, `assume`, `debug_barrier`.

use tm_tile::{BinaryOp, Elem, OpKind, ScalarType, UnaryOp};

use super::builtins::{const_bool, const_str, none, Args};
use super::{Lowerer, Result, Site};
use crate::api::ConstValue;
use crate::values::Val;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugFn {
    DevicePrint,
    /// Python's `print` in a kernel, which Triton maps to `device_print`.
    PyPrint,
    DeviceAssert,
    MultipleOf,
    MaxContiguous,
    MaxConstancy,
    Assume,
    DebugBarrier,
}

pub fn call(l: &mut Lowerer, f: DebugFn, args: Args, site: &Site) -> Result<Val> {
    match f {
        DebugFn::DevicePrint | DebugFn::PyPrint => {
            let mut hex = false;
            for (k, v) in &args.kw {
                match k.as_str() {
                    "hex" => hex = const_bool(&Some(v.clone()), "hex", site)?,
                    "sep" | "end" if f == DebugFn::PyPrint => {}
                    _ => {
                        return Err(site.err(format!(
                            "device_print() got an unexpected keyword argument '{k}'"
                        )))
                    }
                }
            }
            let mut pos = args.pos.into_iter();
            let prefix = match pos.next() {
                Some(Val::Const(ConstValue::Str(s))) => s,
                Some(other) if f == DebugFn::PyPrint => {
                    // `print(x)`: no prefix, `x` is the first value.
                    let mut rest = vec![other];
                    rest.extend(pos);
                    return print_values(l, String::new(), rest, hex, site);
                }
                Some(other) => {
                    return Err(site.err(format!(
                        "device_print's prefix must be a constexpr string, got '{}'",
                        other.kind_name()
                    )))
                }
                None if f == DebugFn::PyPrint => String::new(),
                None => return Err(site.err("device_print() missing its prefix")),
            };
            if !prefix.is_ascii() {
                return Err(site.err(format!("{prefix} is not an ascii string")));
            }
            print_values(l, prefix, pos.collect(), hex, site)
        }
        DebugFn::DeviceAssert => {
            let a = args.bind("device_assert", &["cond", "msg", "mask"], 1, site)?;
            let msg = const_str(&a[1], "msg", site)?;
            let cond = a[0].clone().unwrap_or_else(none);
            if let Some(c) = cond.to_const() {
                if super::constfold::truthy(&c) {
                    return Ok(none());
                }
            }
            let c = l.materialize(&cond, site)?;
            if l.ty(c).elem.is_ptr() {
                return Err(site.err("device_assert's condition cannot be a pointer"));
            }
            let mut c = l.as_i1(c, site);
            if let Some(m) = a[2].as_ref().filter(|m| **m != none()) {
                // Masked-off elements pass: cond | !mask.
                let m = l.materialize(m, site)?;
                let m = l.as_i1(m, site);
                let mt = l.ty(m);
                let not_m = l.emit(OpKind::Unary(UnaryOp::Not), vec![m], mt, site);
                let (sc, sm) = (l.ty(c).shape, l.ty(not_m).shape);
                let shape = l.broadcast_shape(&[&sc, &sm], site)?;
                let c2 = l.broadcast_to(c, &shape, site)?;
                let m2 = l.broadcast_to(not_m, &shape, site)?;
                let ty = l.ty(c2);
                c = l.emit(OpKind::Binary(BinaryOp::Or), vec![c2, m2], ty, site);
            }
            l.emit_void(OpKind::Assert { message: msg }, vec![c], site);
            Ok(none())
        }
        DebugFn::MultipleOf | DebugFn::MaxContiguous | DebugFn::MaxConstancy => {
            let name = match f {
                DebugFn::MultipleOf => "multiple_of",
                DebugFn::MaxContiguous => "max_contiguous",
                _ => "max_constancy",
            };
            let a = args.bind(name, &["input", "values"], 2, site)?;
            let x = match a[0].as_ref().unwrap_or(&none()) {
                Val::Value(x) => *x,
                other => {
                    return Err(site.err(format!(
                        "{name} expects a tensor, got '{}'",
                        other.kind_name()
                    )))
                }
            };
            let items = match a[1].clone().unwrap_or_else(none) {
                Val::Tuple(t) => t,
                other => vec![other],
            };
            let mut values = Vec::with_capacity(items.len());
            for it in items {
                match it {
                    Val::Const(ConstValue::Int(v)) if v >= 1 && v <= u32::MAX as i64 => {
                        values.push(v as u32)
                    }
                    other => {
                        return Err(site.err(format!(
                            "{name}: values must be positive constexpr ints, got '{}'",
                            other.kind_name()
                        )))
                    }
                }
            }
            let ty = l.ty(x);
            if values.len() != ty.rank().max(1) {
                return Err(site.err(format!(
                    "Shape of input to {name} does not match the length of values: {:?} vs {values:?}",
                    ty.shape
                )));
            }
            let (mut m, mut c, mut k) = (Vec::new(), Vec::new(), Vec::new());
            match f {
                DebugFn::MultipleOf => m = values,
                DebugFn::MaxContiguous => c = values,
                _ => k = values,
            }
            let kind = OpKind::Hint {
                multiple_of: m,
                max_contiguous: c,
                max_constancy: k,
            };
            Ok(Val::Value(l.emit(kind, vec![x], ty, site)))
        }
        DebugFn::Assume => {
            let a = args.bind("assume", &["cond"], 1, site)?;
            match a[0].as_ref().unwrap_or(&none()) {
                Val::Value(x) if l.ty(*x).elem == Elem::Scalar(ScalarType::I1) => Ok(none()),
                Val::Const(ConstValue::Bool(_)) => Ok(none()),
                other => Err(site.err(format!(
                    "assume's condition must be a boolean, got '{}'",
                    match other {
                        Val::Value(x) => l.type_name_of(*x),
                        o => o.kind_name().to_string(),
                    }
                ))),
            }
        }
        DebugFn::DebugBarrier => {
            args.bind("debug_barrier", &[], 0, site)?;
            l.emit_void(OpKind::Barrier, vec![], site);
            Ok(none())
        }
    }
}

fn print_values(
    l: &mut Lowerer,
    prefix: String,
    items: Vec<Val>,
    hex: bool,
    site: &Site,
) -> Result<Val> {
    let mut operands = Vec::with_capacity(items.len());
    for v in &items {
        match v {
            Val::Value(x) => operands.push(*x),
            c if c.is_numeric_const() => operands.push(l.materialize(c, site)?),
            other => {
                return Err(site.err(format!(
                    "device_print cannot print a '{}'",
                    other.kind_name()
                )))
            }
        }
    }
    l.emit_void(OpKind::Print { prefix, hex }, operands, site);
    Ok(none())
}
