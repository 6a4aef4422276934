//! Arithmetic on constexprs, with Python's semantics (floor division, modulo with the sign
//! of the divisor, true division to float). Integers are limited to i64: anything larger is
//! an error rather than a silent wrap.

use ruff_python_ast::{CmpOp, Operator};

use crate::api::ConstValue;

#[derive(Clone, Copy, Debug)]
enum Num {
    I(i64),
    F(f64),
}

fn num(c: &ConstValue) -> Option<Num> {
    match c {
        ConstValue::Bool(b) => Some(Num::I(*b as i64)),
        ConstValue::Int(i) => Some(Num::I(*i)),
        ConstValue::Float(f) => Some(Num::F(*f)),
        _ => None,
    }
}

fn as_f(n: Num) -> f64 {
    match n {
        Num::I(i) => i as f64,
        Num::F(f) => f,
    }
}

const OVERFLOW: &str =
    "integer overflow in constant expression (constexprs are limited to 64 bits)";

fn int(v: Option<i64>) -> Result<ConstValue, String> {
    v.map(ConstValue::Int).ok_or_else(|| OVERFLOW.to_string())
}

/// `a op b` on two constexprs; `None` when the operands are not both numbers.
pub fn binary(op: Operator, a: &ConstValue, b: &ConstValue) -> Option<Result<ConstValue, String>> {
    if let (ConstValue::Bool(x), ConstValue::Bool(y)) = (a, b) {
        match op {
            Operator::BitAnd => return Some(Ok(ConstValue::Bool(*x & *y))),
            Operator::BitOr => return Some(Ok(ConstValue::Bool(*x | *y))),
            Operator::BitXor => return Some(Ok(ConstValue::Bool(*x ^ *y))),
            _ => {}
        }
    }
    let (x, y) = (num(a)?, num(b)?);
    Some(fold(op, x, y))
}

fn fold(op: Operator, x: Num, y: Num) -> Result<ConstValue, String> {
    use Num::*;
    let zero_div = || Err("division by zero in constant expression".to_string());
    Ok(match (op, x, y) {
        (Operator::Add, I(a), I(b)) => return int(a.checked_add(b)),
        (Operator::Sub, I(a), I(b)) => return int(a.checked_sub(b)),
        (Operator::Mult, I(a), I(b)) => return int(a.checked_mul(b)),
        (Operator::Add, a, b) => ConstValue::Float(as_f(a) + as_f(b)),
        (Operator::Sub, a, b) => ConstValue::Float(as_f(a) - as_f(b)),
        (Operator::Mult, a, b) => ConstValue::Float(as_f(a) * as_f(b)),
        (Operator::Div, a, b) => {
            if as_f(b) == 0.0 {
                return zero_div();
            }
            ConstValue::Float(as_f(a) / as_f(b))
        }
        (Operator::FloorDiv, I(a), I(b)) => {
            if b == 0 {
                return zero_div();
            }
            let q = a.checked_div(b).ok_or(OVERFLOW)?;
            let r = a.checked_rem(b).ok_or(OVERFLOW)?;
            ConstValue::Int(if r != 0 && ((r < 0) != (b < 0)) {
                q - 1
            } else {
                q
            })
        }
        (Operator::FloorDiv, a, b) => {
            if as_f(b) == 0.0 {
                return zero_div();
            }
            ConstValue::Float((as_f(a) / as_f(b)).floor())
        }
        (Operator::Mod, I(a), I(b)) => {
            if b == 0 {
                return zero_div();
            }
            let r = a.checked_rem(b).ok_or(OVERFLOW)?;
            ConstValue::Int(if r != 0 && ((r < 0) != (b < 0)) {
                r + b
            } else {
                r
            })
        }
        (Operator::Mod, a, b) => {
            let (a, b) = (as_f(a), as_f(b));
            if b == 0.0 {
                return zero_div();
            }
            let r = a % b;
            ConstValue::Float(if r != 0.0 && ((r < 0.0) != (b < 0.0)) {
                r + b
            } else {
                r
            })
        }
        (Operator::Pow, I(a), I(b)) if b >= 0 => {
            let e = u32::try_from(b).map_err(|_| OVERFLOW.to_string())?;
            return int(a.checked_pow(e));
        }
        (Operator::Pow, a, b) => ConstValue::Float(as_f(a).powf(as_f(b))),
        (Operator::LShift, I(a), I(b)) => {
            if b < 0 {
                return Err("negative shift count".into());
            }
            if a == 0 {
                ConstValue::Int(0)
            } else {
                let s = u32::try_from(b).ok().filter(|&s| s < 64).ok_or(OVERFLOW)?;
                let r = a << s;
                if r >> s != a {
                    return Err(OVERFLOW.into());
                }
                ConstValue::Int(r)
            }
        }
        (Operator::RShift, I(a), I(b)) => {
            if b < 0 {
                return Err("negative shift count".into());
            }
            ConstValue::Int(a >> b.min(63))
        }
        (Operator::BitAnd, I(a), I(b)) => ConstValue::Int(a & b),
        (Operator::BitOr, I(a), I(b)) => ConstValue::Int(a | b),
        (Operator::BitXor, I(a), I(b)) => ConstValue::Int(a ^ b),
        (op, _, _) => {
            return Err(format!(
                "unsupported operand types for {}: constexpr values",
                op.as_str()
            ))
        }
    })
}

/// Python truthiness of a constexpr.
pub fn truthy(c: &ConstValue) -> bool {
    match c {
        ConstValue::None => false,
        ConstValue::Bool(b) => *b,
        ConstValue::Int(i) => *i != 0,
        ConstValue::Float(f) => *f != 0.0,
        ConstValue::Str(s) => !s.is_empty(),
        ConstValue::Dtype(_) => true,
        ConstValue::Tuple(t) => !t.is_empty(),
        ConstValue::Function(_) | ConstValue::Fp8Dtype(_) => true,
    }
}

fn equal(a: &ConstValue, b: &ConstValue) -> bool {
    match (num(a), num(b)) {
        (Some(Num::I(x)), Some(Num::I(y))) => x == y,
        (Some(x), Some(y)) => as_f(x) == as_f(y),
        _ => a == b,
    }
}

/// `a op b` for a comparison of constexprs.
pub fn compare(op: CmpOp, a: &ConstValue, b: &ConstValue) -> Result<bool, String> {
    Ok(match op {
        CmpOp::Eq => equal(a, b),
        CmpOp::NotEq => !equal(a, b),
        // Identity is only observable on singletons (None, bools) and interned values.
        CmpOp::Is => a == b,
        CmpOp::IsNot => a != b,
        CmpOp::Lt | CmpOp::LtE | CmpOp::Gt | CmpOp::GtE => {
            let (x, y) = match (num(a), num(b)) {
                (Some(x), Some(y)) => (x, y),
                _ => {
                    return Err(format!(
                        "'{}' not supported between these constexpr values",
                        op.as_str()
                    ))
                }
            };
            let ord = match (x, y) {
                (Num::I(p), Num::I(q)) => p.partial_cmp(&q),
                (p, q) => as_f(p).partial_cmp(&as_f(q)),
            };
            match (op, ord) {
                (_, None) => false,
                (CmpOp::Lt, Some(o)) => o.is_lt(),
                (CmpOp::LtE, Some(o)) => o.is_le(),
                (CmpOp::Gt, Some(o)) => o.is_gt(),
                (_, Some(o)) => o.is_ge(),
            }
        }
        CmpOp::In | CmpOp::NotIn => {
            let items = match b {
                ConstValue::Tuple(t) => t,
                _ => return Err(format!("'{}' needs a tuple on the right", op.as_str())),
            };
            let found = items.iter().any(|x| equal(a, x));
            found == (op == CmpOp::In)
        }
    })
}
