//! Elementwise ops over whole tiles: one dispatch on the element type, then a tight loop.
//! Operands have equal lengths (the executor broadcasts one-element operands first).

use half::{bf16, f16};
use tm_core::ScalarType;
use tm_tile::{BinaryOp, CmpPred, Elem, UnaryOp};

use crate::arith::{FloatEl, IntEl};
use crate::value::{Data, El, Ptr, Tile};
use crate::{with_data, with_type};

pub type OpResult<T> = Result<T, String>;

fn unsupported(what: &str, d: &Data) -> String {
    match d.scalar_type() {
        Some(st) => format!("{what} is not defined on {st}"),
        None => format!("{what} is not defined on pointers"),
    }
}

#[inline]
fn map<A: Copy, B>(a: &[A], f: impl Fn(A) -> B) -> Vec<B> {
    a.iter().map(|&x| f(x)).collect()
}

#[inline]
fn zip<A: Copy, B>(a: &[A], b: &[A], f: impl Fn(A, A) -> B) -> Vec<B> {
    a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
}

fn to_f32<T: El>(v: &[T]) -> Vec<f32> {
    map(v, |x| x.to_f64() as f32)
}

/// f32 results rounded (to nearest even) to the narrow float type `T` they were computed for.
fn from_f32<T: El>(v: &[f32]) -> Data {
    T::into_data(map(v, |x| T::from_f64(x as f64)))
}

// ---- unary -------------------------------------------------------------------------------

fn int_unary<T: IntEl>(op: UnaryOp, a: &[T]) -> OpResult<Data> {
    Ok(match op {
        UnaryOp::Neg => T::into_data(map(a, T::wneg)),
        UnaryOp::Not => T::into_data(map(a, T::bnot)),
        UnaryOp::Abs => T::into_data(map(a, T::wabs)),
        UnaryOp::IsNan | UnaryOp::IsInf => Data::I1(vec![false; a.len()]),
        _ => return Err(format!("{op} is not defined on {}", T::ST)),
    })
}

fn float_unary<T: FloatEl>(op: UnaryOp, a: &[T]) -> Data {
    let f: fn(T) -> T = match op {
        UnaryOp::IsNan => return Data::I1(map(a, T::is_nan)),
        UnaryOp::IsInf => return Data::I1(map(a, T::is_inf)),
        UnaryOp::Neg => |x: T| -x,
        UnaryOp::Not => |x: T| T::of_bits(!x.bits()),
        UnaryOp::Abs => T::abs,
        UnaryOp::Exp => T::exp,
        UnaryOp::Exp2 => T::exp2,
        UnaryOp::Log => T::ln,
        UnaryOp::Log2 => T::log2,
        UnaryOp::Sqrt | UnaryOp::SqrtRn => T::sqrt,
        UnaryOp::Rsqrt => |x: T| T::one() / x.sqrt(),
        UnaryOp::Sin => T::sin,
        UnaryOp::Cos => T::cos,
        UnaryOp::Tan => T::tan,
        UnaryOp::Asin => T::asin,
        UnaryOp::Acos => T::acos,
        UnaryOp::Atan => T::atan,
        UnaryOp::Sinh => T::sinh,
        UnaryOp::Cosh => T::cosh,
        UnaryOp::Tanh => T::tanh,
        UnaryOp::Erf => T::erf,
        UnaryOp::Floor => T::floor,
        UnaryOp::Ceil => T::ceil,
        UnaryOp::Rint => T::rint,
        UnaryOp::Trunc => T::trunc,
    };
    T::into_data(map(a, f))
}

/// f16/bf16: computed in f32, rounded back to nearest even.
fn half_unary<T: El>(op: UnaryOp, a: &[T]) -> Data {
    match op {
        // Bit-exact ops must not round-trip through f32 (NaN payloads).
        UnaryOp::Neg => T::into_data(map(a, |x| T::of_bits(x.bits() ^ 0x8000))),
        UnaryOp::Abs => T::into_data(map(a, |x| T::of_bits(x.bits() & 0x7fff))),
        UnaryOp::Not => T::into_data(map(a, |x| T::of_bits(!x.bits() & 0xffff))),
        _ => round_back::<T>(float_unary(op, &to_f32(a))),
    }
}

fn round_back<T: El>(d: Data) -> Data {
    match d {
        Data::F32(v) => from_f32::<T>(&v),
        other => other,
    }
}

pub fn unary(op: UnaryOp, a: &Data) -> OpResult<Data> {
    match a {
        Data::I1(v) => match op {
            UnaryOp::Not => Ok(Data::I1(map(v, |x| !x))),
            // i1 is one bit: -x == x and |x| == x in two's complement of width 1.
            UnaryOp::Neg | UnaryOp::Abs => Ok(Data::I1(v.clone())),
            _ => Err(unsupported(op.name(), a)),
        },
        Data::I8(v) => int_unary(op, v),
        Data::I16(v) => int_unary(op, v),
        Data::I32(v) => int_unary(op, v),
        Data::I64(v) => int_unary(op, v),
        Data::U8(v) => int_unary(op, v),
        Data::U16(v) => int_unary(op, v),
        Data::U32(v) => int_unary(op, v),
        Data::U64(v) => int_unary(op, v),
        Data::F16(v) => Ok(half_unary(op, v)),
        Data::BF16(v) => Ok(half_unary(op, v)),
        Data::F32(v) => Ok(float_unary(op, v)),
        Data::F64(v) => Ok(float_unary(op, v)),
        Data::Ptr(_) => Err(unsupported(op.name(), a)),
    }
}

// ---- binary ------------------------------------------------------------------------------

fn int_binary<T: IntEl>(op: BinaryOp, a: &[T], b: &[T]) -> OpResult<Vec<T>> {
    let f: fn(T, T) -> T = match op {
        BinaryOp::Add => T::wadd,
        BinaryOp::Sub => T::wsub,
        BinaryOp::Mul => T::wmul,
        BinaryOp::Div | BinaryOp::DivRn => T::cdiv,
        BinaryOp::Rem => T::crem,
        BinaryOp::And => T::band,
        BinaryOp::Or => T::bor,
        BinaryOp::Xor => T::bxor,
        BinaryOp::Shl => T::shl,
        BinaryOp::Shr => T::shr,
        BinaryOp::Min | BinaryOp::MinNan => |x: T, y: T| x.min(y),
        BinaryOp::Max | BinaryOp::MaxNan => |x: T, y: T| x.max(y),
        BinaryOp::MulHi => T::mulhi,
        BinaryOp::Pow | BinaryOp::Atan2 => return Err(format!("{op} is not defined on {}", T::ST)),
    };
    Ok(zip(a, b, f))
}

fn float_binary<T: FloatEl>(op: BinaryOp, a: &[T], b: &[T]) -> OpResult<Vec<T>> {
    let f: fn(T, T) -> T = match op {
        BinaryOp::Add => |x, y| x + y,
        BinaryOp::Sub => |x, y| x - y,
        BinaryOp::Mul => |x, y| x * y,
        BinaryOp::Div | BinaryOp::DivRn => |x, y| x / y,
        BinaryOp::Rem => |x, y| x % y,
        BinaryOp::Min => T::min_num,
        BinaryOp::Max => T::max_num,
        BinaryOp::MinNan => |x: T, y: T| {
            if x.is_nan() || y.is_nan() {
                T::nan()
            } else {
                x.min_num(y)
            }
        },
        BinaryOp::MaxNan => |x: T, y: T| {
            if x.is_nan() || y.is_nan() {
                T::nan()
            } else {
                x.max_num(y)
            }
        },
        BinaryOp::Pow => T::pow,
        BinaryOp::Atan2 => T::atan2,
        BinaryOp::And
        | BinaryOp::Or
        | BinaryOp::Xor
        | BinaryOp::Shl
        | BinaryOp::Shr
        | BinaryOp::MulHi => return Err(format!("{op} is not defined on {}", T::ST)),
    };
    Ok(zip(a, b, f))
}

fn half_binary<T: El>(op: BinaryOp, a: &[T], b: &[T]) -> OpResult<Data> {
    Ok(from_f32::<T>(&float_binary(op, &to_f32(a), &to_f32(b))?))
}

fn bool_binary(op: BinaryOp, a: &[bool], b: &[bool]) -> OpResult<Vec<bool>> {
    // i1 arithmetic is arithmetic modulo 2 (as LLVM's i1); unsigned order for min/max.
    let f: fn(bool, bool) -> bool = match op {
        BinaryOp::And | BinaryOp::Min | BinaryOp::MinNan | BinaryOp::Mul => |x, y| x & y,
        BinaryOp::Or | BinaryOp::Max | BinaryOp::MaxNan => |x, y| x | y,
        BinaryOp::Xor | BinaryOp::Add | BinaryOp::Sub => |x, y| x ^ y,
        _ => return Err(format!("{op} is not defined on i1")),
    };
    Ok(zip(a, b, f))
}

pub fn binary(op: BinaryOp, a: &Data, b: &Data) -> OpResult<Data> {
    Ok(match (a, b) {
        (Data::I1(x), Data::I1(y)) => Data::I1(bool_binary(op, x, y)?),
        (Data::I8(x), Data::I8(y)) => Data::I8(int_binary(op, x, y)?),
        (Data::I16(x), Data::I16(y)) => Data::I16(int_binary(op, x, y)?),
        (Data::I32(x), Data::I32(y)) => Data::I32(int_binary(op, x, y)?),
        (Data::I64(x), Data::I64(y)) => Data::I64(int_binary(op, x, y)?),
        (Data::U8(x), Data::U8(y)) => Data::U8(int_binary(op, x, y)?),
        (Data::U16(x), Data::U16(y)) => Data::U16(int_binary(op, x, y)?),
        (Data::U32(x), Data::U32(y)) => Data::U32(int_binary(op, x, y)?),
        (Data::U64(x), Data::U64(y)) => Data::U64(int_binary(op, x, y)?),
        (Data::F16(x), Data::F16(y)) => half_binary(op, x, y)?,
        (Data::BF16(x), Data::BF16(y)) => half_binary(op, x, y)?,
        (Data::F32(x), Data::F32(y)) => Data::F32(float_binary(op, x, y)?),
        (Data::F64(x), Data::F64(y)) => Data::F64(float_binary(op, x, y)?),
        _ => {
            return Err(format!(
                "{op} needs operands of one element type, got {:?} and {:?}",
                a.scalar_type(),
                b.scalar_type()
            ))
        }
    })
}

// ---- comparisons, select, fma ----------------------------------------------------------------

/// Rust's comparisons are exactly the required ones: ints by their signedness, floats
/// ordered (false on NaN) except `!=`, which is true on NaN.
fn cmp_vec<T: PartialOrd + Copy>(p: CmpPred, a: &[T], b: &[T]) -> Vec<bool> {
    match p {
        CmpPred::Eq => zip(a, b, |x, y| x == y),
        CmpPred::Ne => zip(a, b, |x, y| x != y),
        CmpPred::Lt => zip(a, b, |x, y| x < y),
        CmpPred::Le => zip(a, b, |x, y| x <= y),
        CmpPred::Gt => zip(a, b, |x, y| x > y),
        CmpPred::Ge => zip(a, b, |x, y| x >= y),
    }
}

pub fn cmp(p: CmpPred, a: &Data, b: &Data) -> OpResult<Data> {
    Ok(Data::I1(match (a, b) {
        (Data::I1(x), Data::I1(y)) => cmp_vec(p, x, y),
        (Data::I8(x), Data::I8(y)) => cmp_vec(p, x, y),
        (Data::I16(x), Data::I16(y)) => cmp_vec(p, x, y),
        (Data::I32(x), Data::I32(y)) => cmp_vec(p, x, y),
        (Data::I64(x), Data::I64(y)) => cmp_vec(p, x, y),
        (Data::U8(x), Data::U8(y)) => cmp_vec(p, x, y),
        (Data::U16(x), Data::U16(y)) => cmp_vec(p, x, y),
        (Data::U32(x), Data::U32(y)) => cmp_vec(p, x, y),
        (Data::U64(x), Data::U64(y)) => cmp_vec(p, x, y),
        (Data::F16(x), Data::F16(y)) => cmp_vec(p, x, y),
        (Data::BF16(x), Data::BF16(y)) => cmp_vec(p, x, y),
        (Data::F32(x), Data::F32(y)) => cmp_vec(p, x, y),
        (Data::F64(x), Data::F64(y)) => cmp_vec(p, x, y),
        (Data::Ptr(x), Data::Ptr(y)) => {
            // Pointers into different buffers are ordered by buffer: any consistent order.
            let kx: Vec<(u32, i64)> = map(x, |p: Ptr| (p.buf, p.off));
            let ky: Vec<(u32, i64)> = map(y, |p: Ptr| (p.buf, p.off));
            cmp_vec(p, &kx, &ky)
        }
        _ => return Err("cmp needs operands of one element type".into()),
    }))
}

pub fn select(c: &Data, a: &Data, b: &Data) -> OpResult<Data> {
    let c = c.as_bools().ok_or("select needs an i1 condition")?;
    fn pick<T: Copy>(c: &[bool], a: &[T], b: &[T]) -> Vec<T> {
        c.iter()
            .zip(a.iter().zip(b))
            .map(|(&c, (&x, &y))| if c { x } else { y })
            .collect()
    }
    Ok(match (a, b) {
        (Data::Ptr(x), Data::Ptr(y)) => Data::Ptr(pick(c, x, y)),
        _ => {
            let err = || "select needs operands of one element type".to_string();
            with_data!(a, x => {
                let y = typed(b).ok_or_else(err)?;
                El::into_data(pick(c, x, y))
            }, _p => return Err(err()))
        }
    })
}

/// `b`'s elements if they are of type `T`.
pub fn typed<T: El>(b: &Data) -> Option<&[T]> {
    with_data!(b, v => {
        let any: &dyn std::any::Any = v;
        any.downcast_ref::<Vec<T>>().map(|v| v.as_slice())
    }, _p => None)
}

pub fn fma(a: &Data, b: &Data, c: &Data) -> OpResult<Data> {
    fn f<T: FloatEl>(a: &[T], b: &[T], c: &[T]) -> Vec<T> {
        a.iter()
            .zip(b)
            .zip(c)
            .map(|((&x, &y), &z)| x.fma(y, z))
            .collect()
    }
    fn i<T: IntEl>(a: &[T], b: &[T], c: &[T]) -> Vec<T> {
        a.iter()
            .zip(b)
            .zip(c)
            .map(|((&x, &y), &z)| x.wmul(y).wadd(z))
            .collect()
    }
    fn h<T: El>(a: &[T], b: &[T], c: &[T]) -> Data {
        from_f32::<T>(&f(&to_f32(a), &to_f32(b), &to_f32(c)))
    }
    Ok(match (a, b, c) {
        (Data::F32(x), Data::F32(y), Data::F32(z)) => Data::F32(f(x, y, z)),
        (Data::F64(x), Data::F64(y), Data::F64(z)) => Data::F64(f(x, y, z)),
        (Data::F16(x), Data::F16(y), Data::F16(z)) => h(x, y, z),
        (Data::BF16(x), Data::BF16(y), Data::BF16(z)) => h(x, y, z),
        (Data::I32(x), Data::I32(y), Data::I32(z)) => Data::I32(i(x, y, z)),
        (Data::I64(x), Data::I64(y), Data::I64(z)) => Data::I64(i(x, y, z)),
        (Data::U32(x), Data::U32(y), Data::U32(z)) => Data::U32(i(x, y, z)),
        (Data::U64(x), Data::U64(y), Data::U64(z)) => Data::U64(i(x, y, z)),
        _ => return Err("fma needs three operands of one float or 32/64-bit int type".into()),
    })
}

// ---- casts ---------------------------------------------------------------------------------

fn cast_vec<S: El, D: El>(v: &[S]) -> Vec<D> {
    if D::ST == ScalarType::I1 {
        return map(v, |x| D::from_i64(x.nonzero() as i64));
    }
    if S::ST.is_float() || D::ST.is_float() {
        // Through f64: exact for every source but i64/u64 beyond 2^53, and a single rounding
        // to the destination otherwise.
        map(v, |x| D::from_f64(x.to_f64()))
    } else {
        map(v, |x| D::from_i64(x.to_i64()))
    }
}

/// Value conversion to `to` (see `El` for the rules).
pub fn cast(a: &Data, to: ScalarType) -> OpResult<Data> {
    if a.scalar_type() == Some(to) {
        return Ok(a.clone());
    }
    // f32 → f16/bf16 directly: the half crate rounds to nearest even in one step.
    match (a, to) {
        (Data::F32(v), ScalarType::F16) => return Ok(Data::F16(map(v, f16::from_f32))),
        (Data::F32(v), ScalarType::BF16) => return Ok(Data::BF16(map(v, bf16::from_f32))),
        _ => {}
    }
    with_data!(a, v => Ok(with_type!(to, D => D::into_data(cast_vec::<_, D>(v)))),
        _p => Err("cast of a pointer (use a bitcast or an int cast of its address)".into()))
}

pub fn bitcast(a: &Data, to: ScalarType) -> OpResult<Data> {
    let from = a.scalar_type().ok_or("bitcast of a pointer")?;
    if from.bits() != to.bits() {
        return Err(format!("bitcast from {from} to {to} changes the width"));
    }
    with_data!(a, v => Ok(with_type!(to, D => D::into_data(map(v, |x| D::of_bits(x.bits()))))),
        _p => Err("bitcast of a pointer".into()))
}

/// The element type of an elementwise result, for tiles whose data is built directly.
pub fn result_elem(d: &Data, ptr_elem: Elem) -> Elem {
    d.scalar_type().map(Elem::Scalar).unwrap_or(ptr_elem)
}

pub fn unary_tile(op: UnaryOp, a: &Tile) -> OpResult<Tile> {
    let d = unary(op, &a.data)?;
    Ok(Tile::new(a.shape.clone(), result_elem(&d, a.elem), d))
}
