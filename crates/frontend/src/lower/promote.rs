//! Triton's typing of mixed operands: the dtype of Python scalars, the promotion of two
//! element types (`computation_type_impl`), implicit broadcasting, and casts.

use tm_tile::{Elem, Literal, OpKind, ScalarType, Type, ValueId};

use super::{elem_name, triton_name, type_name, Lowerer, Result, Site};
use crate::api::ConstValue;
use crate::values::Val;

/// The dtype Triton gives a Python scalar (`to_tensor`): bool → i1; ints → i32, u32, i64
/// by range; floats → f32.
pub fn default_type(c: &ConstValue) -> Option<ScalarType> {
    Some(match c {
        ConstValue::Bool(_) => ScalarType::I1,
        ConstValue::Int(v) => {
            if i32::try_from(*v).is_ok() {
                ScalarType::I32
            } else if u32::try_from(*v).is_ok() {
                ScalarType::U32
            } else {
                ScalarType::I64
            }
        }
        ConstValue::Float(_) => ScalarType::F32,
        _ => return None,
    })
}

/// The literal of constant `c` in type `t`, converted as a cast would (float → int
/// truncates). Integers must fit the type's width, read as signed or unsigned.
pub fn literal_for(c: &ConstValue, t: ScalarType) -> std::result::Result<Literal, String> {
    let as_int = |v: i64| -> std::result::Result<Literal, String> {
        if t.is_bool() {
            return Ok(Literal::Int((v != 0) as i64));
        }
        let bits = t.bits();
        if bits >= 64 {
            return Ok(Literal::Int(v));
        }
        let min = -(1i64 << (bits - 1));
        let max = (1i64 << bits) - 1;
        if v < min || v > max {
            return Err(format!(
                "value {v} out of range for type {}",
                triton_name(t)
            ));
        }
        let mask = (1i64 << bits) - 1;
        let low = v & mask;
        Ok(Literal::Int(
            if t.is_signed_int() && low >> (bits - 1) != 0 {
                low - (1i64 << bits)
            } else {
                low
            },
        ))
    };
    match c {
        ConstValue::Bool(b) => {
            if t.is_float() {
                Ok(Literal::Float(*b as i64 as f64))
            } else {
                Ok(Literal::Int(*b as i64))
            }
        }
        ConstValue::Int(v) => {
            if t.is_float() {
                Ok(Literal::Float(*v as f64))
            } else {
                as_int(*v)
            }
        }
        ConstValue::Float(f) => {
            if t.is_float() {
                Ok(Literal::Float(*f))
            } else if t.is_bool() {
                Ok(Literal::Int((*f != 0.0) as i64))
            } else if !f.is_finite() || f.abs() >= 9.2e18 {
                Err(format!(
                    "value {f} out of range for type {}",
                    triton_name(t)
                ))
            } else {
                as_int(f.trunc() as i64)
            }
        }
        other => Err(format!("cannot convert {other:?} to {}", triton_name(t))),
    }
}

/// bool < uint < int < float, Triton's `dtype.kind()`.
fn kind(t: ScalarType) -> u8 {
    if t.is_bool() {
        0
    } else if t.is_unsigned_int() {
        1
    } else if t.is_signed_int() {
        2
    } else {
        3
    }
}

/// Triton's `integer_promote_impl`.
pub fn integer_promote(a: ScalarType, b: ScalarType) -> ScalarType {
    let (ua, ub) = (a.is_unsigned_int(), b.is_unsigned_int());
    if ua == ub {
        if a.bits() > b.bits() {
            a
        } else {
            b
        }
    } else if ua {
        if a.bits() >= b.bits() {
            a
        } else {
            b
        }
    } else if b.bits() >= a.bits() {
        b
    } else {
        a
    }
}

/// Triton's `computation_type_impl`: the type both operands of an arithmetic op are
/// converted to. `*_scalar` marks Python numbers, which do not widen a tensor's type of
/// the same or a higher kind.
pub fn computation_type(
    a: ScalarType,
    a_scalar: bool,
    b: ScalarType,
    b_scalar: bool,
    div_or_mod: bool,
) -> std::result::Result<ScalarType, String> {
    use ScalarType::*;
    if a_scalar != b_scalar {
        let (s, t) = if a_scalar { (a, b) } else { (b, a) };
        if kind(s) <= kind(t) {
            if div_or_mod && matches!(t, F16 | BF16) {
                return Ok(F32);
            }
            return Ok(t);
        }
    }
    if a == F64 || b == F64 {
        return Ok(F64);
    }
    if a == F32 || b == F32 {
        return Ok(F32);
    }
    if a == F16 || b == F16 {
        return Ok(if div_or_mod { F32 } else { F16 });
    }
    if a == BF16 || b == BF16 {
        if div_or_mod || a != b {
            return Ok(F32);
        }
        return Ok(BF16);
    }
    if div_or_mod && a.is_unsigned_int() != b.is_unsigned_int() && !a.is_bool() && !b.is_bool() {
        return Err(format!(
            "Cannot use /, //, or % with {} and {} because they have different signedness; \
             this is unlikely to result in a useful answer. Cast them to the same signedness.",
            triton_name(a),
            triton_name(b)
        ));
    }
    Ok(integer_promote(a, b))
}

/// Triton's checks of a Python integer against the computation type of the op it takes
/// part in (`binary_op_type_checking_impl`): made before the operands are converted, so
/// `int_tensor / 2**31` is refused even though the division itself is done in floats.
pub fn check_scalar_fits(c: &ConstValue, t: ScalarType) -> std::result::Result<(), String> {
    if !t.is_int() {
        return Ok(());
    }
    let v = match c {
        ConstValue::Int(v) => i128::from(*v),
        ConstValue::Bool(b) => i128::from(*b),
        _ => return Ok(()),
    };
    // int1 counts as unsigned in Triton (its range is [0, 1]).
    let unsigned = !t.is_signed_int();
    if v < 0 && unsigned {
        return Err(
            "Cannot perform a binary operation between an unsigned tensor and a negative \
                    scalar. Perform a explicit cast on one of them."
                .into(),
        );
    }
    let bits = t.bits();
    let (min, max) = if unsigned {
        (0i128, (1i128 << bits) - 1)
    } else {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    };
    if v < min || v > max {
        return Err(format!(
            "Scalar {v} is out of range for type {}",
            triton_name(t)
        ));
    }
    Ok(())
}

/// One operand of a typed op: an IR value or a Python number not yet materialized (it
/// takes the op's type and shape directly).
#[derive(Clone, Debug)]
pub enum Operand {
    Value(ValueId),
    Number(ConstValue),
}

impl Lowerer {
    pub fn operand(&self, v: &Val, site: &Site, what: &str) -> Result<Operand> {
        match v {
            Val::Value(id) => Ok(Operand::Value(*id)),
            c if c.is_numeric_const() => match c {
                Val::Const(c) => Ok(Operand::Number(c.clone())),
                _ => unreachable_operand(site),
            },
            other => Err(site.err(format!(
                "unsupported operand type for {what}: '{}'",
                other.kind_name()
            ))),
        }
    }

    /// The element type of an operand (Python numbers: their default dtype).
    pub fn operand_elem(&self, o: &Operand) -> Elem {
        match o {
            Operand::Value(v) => self.func.ty(*v).elem,
            Operand::Number(c) => Elem::Scalar(default_type(c).unwrap_or(ScalarType::I32)),
        }
    }

    /// A Python number as an IR constant of element `t` and shape `shape`.
    pub fn number(
        &mut self,
        c: &ConstValue,
        t: ScalarType,
        shape: Vec<u32>,
        site: &Site,
    ) -> Result<ValueId> {
        let lit = literal_for(c, t).map_err(|e| site.err(e))?;
        Ok(self.constant(lit, Type::tensor(Elem::Scalar(t), shape), site))
    }

    /// Materialize a value that must live in IR (loop-carried, yielded): Python numbers
    /// take their default dtype.
    pub fn materialize(&mut self, v: &Val, site: &Site) -> Result<ValueId> {
        match self.operand(v, site, "a runtime value")? {
            Operand::Value(id) => Ok(id),
            Operand::Number(c) => {
                let t = default_type(&c).unwrap_or(ScalarType::I32);
                self.number(&c, t, Vec::new(), site)
            }
        }
    }

    /// Convert to element type `t` (no-op when it already is).
    pub fn cast_to(&mut self, v: ValueId, t: Elem, site: &Site) -> ValueId {
        let ty = self.ty(v);
        if ty.elem == t {
            return v;
        }
        self.emit(OpKind::Cast, vec![v], ty.with_elem(t), site)
    }

    /// Broadcast `v` to `shape` (splat scalars, grow size-1 dims, add leading dims).
    pub fn broadcast_to(&mut self, v: ValueId, shape: &[u32], site: &Site) -> Result<ValueId> {
        let ty = self.ty(v);
        if ty.shape == shape {
            return Ok(v);
        }
        if ty.shape.is_empty() {
            return Ok(self.emit(OpKind::Splat, vec![v], ty.with_shape(shape.to_vec()), site));
        }
        if ty.rank() > shape.len() {
            return Err(site.err(format!(
                "Cannot broadcast, rank mismatch: {:?}, {:?}",
                ty.shape, shape
            )));
        }
        let mut v = v;
        let mut cur = ty.shape.clone();
        while cur.len() < shape.len() {
            cur.insert(0, 1);
            v = self.emit(
                OpKind::ExpandDims(0),
                vec![v],
                ty.with_shape(cur.clone()),
                site,
            );
        }
        for (i, (&c, &s)) in cur.iter().zip(shape).enumerate() {
            if c != s && c != 1 {
                return Err(site.err(format!(
                    "Cannot broadcast, the expanded size of the tensor ({s}) must match the existing size ({c}) at non-singleton dimension {i}: {:?}, {:?}",
                    ty.shape, shape
                )));
            }
        }
        if cur == shape {
            return Ok(v);
        }
        Ok(self.emit(
            OpKind::Broadcast,
            vec![v],
            ty.with_shape(shape.to_vec()),
            site,
        ))
    }

    /// The broadcast shape of several shapes (Triton's rules), or an error.
    pub fn broadcast_shape(&self, shapes: &[&[u32]], site: &Site) -> Result<Vec<u32>> {
        let rank = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
        let mut out = vec![1u32; rank];
        for s in shapes {
            let pad = rank - s.len();
            for (i, &d) in s.iter().enumerate() {
                let o = &mut out[pad + i];
                if *o == 1 {
                    *o = d;
                } else if d != 1 && d != *o {
                    return Err(site.err(format!(
                        "Cannot make_shape_compatible: incompatible dimensions at index {}: {} and {}",
                        pad + i,
                        *o,
                        d
                    )));
                }
            }
        }
        Ok(out)
    }

    /// Bring operands to one element type `t` and one shape; Python numbers become
    /// constants of that type and shape.
    pub fn unify_to(&mut self, ops: &[Operand], t: Elem, site: &Site) -> Result<Vec<ValueId>> {
        let shapes: Vec<Vec<u32>> = ops
            .iter()
            .filter_map(|o| match o {
                Operand::Value(v) => Some(self.func.ty(*v).shape.clone()),
                Operand::Number(_) => None,
            })
            .collect();
        let refs: Vec<&[u32]> = shapes.iter().map(|s| s.as_slice()).collect();
        let shape = self.broadcast_shape(&refs, site)?;
        let mut out = Vec::with_capacity(ops.len());
        for o in ops {
            out.push(match o {
                Operand::Value(v) => {
                    let v = self.cast_to(*v, t, site);
                    self.broadcast_to(v, &shape, site)?
                }
                Operand::Number(c) => match t {
                    Elem::Scalar(s) => self.number(c, s, shape.clone(), site)?,
                    Elem::Ptr(_) => {
                        return Err(site.err("cannot use a number where a pointer is expected"))
                    }
                },
            });
        }
        Ok(out)
    }

    /// Triton's `binary_op_type_checking_impl` for two non-pointer operands: the common
    /// element type.
    pub fn common_type(
        &self,
        a: &Operand,
        b: &Operand,
        div_or_mod: bool,
        site: &Site,
    ) -> Result<Elem> {
        let (ea, eb) = (self.operand_elem(a), self.operand_elem(b));
        match (ea, eb) {
            (Elem::Scalar(x), Elem::Scalar(y)) => {
                let t = computation_type(
                    x,
                    matches!(a, Operand::Number(_)),
                    y,
                    matches!(b, Operand::Number(_)),
                    div_or_mod,
                )
                .map_err(|e| site.err(e))?;
                for o in [a, b] {
                    if let Operand::Number(c) = o {
                        check_scalar_fits(c, t).map_err(|e| site.err(e))?;
                    }
                }
                Ok(Elem::Scalar(t))
            }
            (x, y) if x == y => Ok(x),
            (x, y) => Err(site.err(format!(
                "invalid operands of type {} and {}",
                elem_name(x),
                elem_name(y)
            ))),
        }
    }

    pub fn type_name_of(&self, v: ValueId) -> String {
        type_name(self.func.ty(v))
    }
}

fn unreachable_operand<T>(site: &Site) -> Result<T> {
    Err(site.err("internal error: malformed constant operand"))
}
