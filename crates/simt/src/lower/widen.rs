//! 8- and 16-bit integer registers on targets without them (WGSL): every such local becomes
//! a 32-bit local of the same signedness (i32 for i8/i16, u32 for u8/u16) that always holds
//! the exact narrow value, sign-extended or zero-extended.
//!
//! The invariant is restored after each assignment whose result can leave the narrow range
//! (add, sub, mul, shl, neg, not, abs, division's MIN / -1, casts and bitcasts into the
//! narrow type, simd sums): signed values are sign-extended from their width
//! (`x << (32 - w) >> (32 - w)`), unsigned ones masked. Everything else (comparisons,
//! and/or/xor, shifts right, remainders, min/max, select, shuffles, casts out of the narrow
//! type) computes the narrow result directly on the widened values, because their operands
//! already obey the invariant. Float → narrow int conversions saturate to the narrow range,
//! as they do on targets with narrow registers.
//!
//! This runs over the finished SIMT kernel, so loads, stores, reductions, shuffles and
//! atomics built by any part of lowering get the same treatment.

use tm_core::{Arena, Loc, ScalarType};
use tm_tile::{BinaryOp, Literal, UnaryOp};

use super::LowerError;
use crate::ir::{Expr, Kernel, Local, LocalId, Operand, SType, SimdOp, Stmt};

/// The 32-bit register type holding values of `t` (None: `t` is not a narrow integer).
fn wide(t: ScalarType) -> Option<ScalarType> {
    match t {
        ScalarType::I8 | ScalarType::I16 => Some(ScalarType::I32),
        ScalarType::U8 | ScalarType::U16 => Some(ScalarType::U32),
        _ => None,
    }
}

/// `v` wrapped to the width and signedness of `t`.
fn wrap(v: i64, t: ScalarType) -> i64 {
    let bits = t.bits();
    if bits >= 64 {
        v
    } else if t.is_signed_int() {
        (v << (64 - bits)) >> (64 - bits)
    } else {
        v & ((1i64 << bits) - 1)
    }
}

/// Rewrites `k` so that it has no 8/16-bit integer locals, constants or casts.
pub(crate) fn widen_narrow_ints(k: &mut Kernel) -> Result<(), LowerError> {
    let refuse = |what: &str, t: ScalarType| {
        Err(LowerError::new(
            format!("internal: {what} of {t} on a target without narrow integer registers"),
            Loc::UNKNOWN,
        ))
    };
    for b in &k.buffers {
        if wide(b.elem).is_some() {
            return refuse("a buffer", b.elem);
        }
    }
    for s in &k.shared {
        if wide(s.elem).is_some() {
            return refuse("a threadgroup array", s.elem);
        }
    }
    for s in &k.scalars {
        if wide(s.ty).is_some() {
            return refuse("a scalar argument", s.ty);
        }
    }
    // The narrow type each local had, by index; the arena is rebuilt with 32-bit types.
    let mut narrow = Vec::with_capacity(k.locals.len());
    let mut locals = Arena::default();
    for (_, l) in k.locals.iter() {
        let (ty, was) = match wide(l.ty.scalar) {
            Some(w) => (SType::vector(w, l.ty.lanes), Some(l.ty.scalar)),
            None => (l.ty, None),
        };
        narrow.push(was);
        locals.append(Local {
            ty,
            name: l.name.clone(),
        });
    }
    let mut w = Widen {
        narrow,
        locals,
        orig: std::mem::take(&mut k.locals),
    };
    let body = std::mem::take(&mut k.body);
    k.body = w.block(body);
    k.locals = w.locals;
    Ok(())
}

struct Widen {
    /// Narrow type of each original local (None: unchanged).
    narrow: Vec<Option<ScalarType>>,
    /// The new locals: the originals retyped, then temporaries.
    locals: Arena<Local>,
    /// The original locals, for the types of operands before widening.
    orig: Arena<Local>,
}

impl Widen {
    fn block(&mut self, stmts: Vec<Stmt>) -> Vec<Stmt> {
        let mut out = Vec::with_capacity(stmts.len());
        for s in stmts {
            self.stmt(s, &mut out);
        }
        out
    }

    /// The scalar type an operand had before widening.
    fn orig_ty(&self, op: &Operand) -> Option<ScalarType> {
        match op {
            Operand::Local(id) => (id.index() < self.orig.len()).then(|| self.orig[*id].ty.scalar),
            Operand::Const(_, t) => Some(*t),
        }
    }

    fn narrow_of(&self, id: LocalId) -> Option<ScalarType> {
        self.narrow.get(id.index()).copied().flatten()
    }

    fn op(&self, o: Operand) -> Operand {
        match o {
            Operand::Const(lit, t) => match wide(t) {
                Some(w) => {
                    let v = match lit {
                        Literal::Int(v) => v,
                        Literal::Float(f) => f as i64,
                    };
                    Operand::Const(Literal::Int(wrap(v, t)), w)
                }
                None => Operand::Const(lit, t),
            },
            l => l,
        }
    }

    fn stype(t: SType) -> SType {
        match wide(t.scalar) {
            Some(w) => SType::vector(w, t.lanes),
            None => t,
        }
    }

    fn stmt(&mut self, s: Stmt, out: &mut Vec<Stmt>) {
        match s {
            Stmt::Assign { dst, expr } => self.assign(dst, expr, out),
            Stmt::Store { buf, index, value } => out.push(Stmt::Store {
                buf,
                index: self.op(index),
                value: self.op(value),
            }),
            Stmt::SharedStore { arr, index, value } => out.push(Stmt::SharedStore {
                arr,
                index: self.op(index),
                value: self.op(value),
            }),
            Stmt::AtomicRmw {
                dst,
                op,
                space,
                array,
                index,
                value,
            } => out.push(Stmt::AtomicRmw {
                dst,
                op,
                space,
                array,
                index: self.op(index),
                value: self.op(value),
            }),
            Stmt::AtomicCas {
                dst,
                space,
                array,
                index,
                cmp,
                value,
            } => out.push(Stmt::AtomicCas {
                dst,
                space,
                array,
                index: self.op(index),
                cmp: self.op(cmp),
                value: self.op(value),
            }),
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let then_body = self.block(then_body);
                let else_body = self.block(else_body);
                out.push(Stmt::If {
                    cond: self.op(cond),
                    then_body,
                    else_body,
                })
            }
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
            } => {
                let body = self.block(body);
                out.push(Stmt::For {
                    var,
                    start: self.op(start),
                    end: self.op(end),
                    step: self.op(step),
                    body,
                })
            }
            Stmt::Loop { body } => {
                let body = self.block(body);
                out.push(Stmt::Loop { body })
            }
            other => out.push(other),
        }
    }

    fn assign(&mut self, dst: LocalId, expr: Expr, out: &mut Vec<Stmt>) {
        let Some(n) = self.narrow_of(dst) else {
            let expr = self.expr(expr);
            out.push(Stmt::Assign { dst, expr });
            return;
        };
        let w = wide(n).unwrap_or(ScalarType::I32);
        // Float → narrow int saturates to the narrow range (NaN → 0 comes from the 32-bit
        // conversion), instead of wrapping the 32-bit result.
        if let Expr::Cast(a, to) = &expr {
            if self.orig_ty(a).is_some_and(|t| t.is_float()) {
                let to = SType::vector(w, to.lanes);
                out.push(Stmt::Assign {
                    dst,
                    expr: Expr::Cast(self.op(*a), to),
                });
                let (lo, hi) = range(n);
                let d = Operand::Local(dst);
                if n.is_signed_int() {
                    out.push(Stmt::Assign {
                        dst,
                        expr: Expr::Binary(BinaryOp::Max, d, Operand::Const(Literal::Int(lo), w)),
                    });
                }
                out.push(Stmt::Assign {
                    dst,
                    expr: Expr::Binary(BinaryOp::Min, d, Operand::Const(Literal::Int(hi), w)),
                });
                return;
            }
        }
        // High half of the narrow product: the full product fits in 32 bits.
        if let Expr::Binary(BinaryOp::MulHi, a, b) = expr {
            let (a, b) = (self.op(a), self.op(b));
            let d = Operand::Local(dst);
            out.push(Stmt::Assign {
                dst,
                expr: Expr::Binary(BinaryOp::Mul, a, b),
            });
            out.push(Stmt::Assign {
                dst,
                expr: Expr::Binary(
                    BinaryOp::Shr,
                    d,
                    Operand::Const(Literal::Int(n.bits() as i64), ScalarType::U32),
                ),
            });
            self.normalize(dst, n, w, out);
            return;
        }
        let keeps_range = self.keeps_range(&expr, n);
        let expr = self.expr(expr);
        out.push(Stmt::Assign { dst, expr });
        if !keeps_range {
            self.normalize(dst, n, w, out);
        }
    }

    /// Whether `expr`, evaluated on operands that obey the invariant, gives a result of
    /// type `n` that obeys it too.
    fn keeps_range(&self, expr: &Expr, n: ScalarType) -> bool {
        match expr {
            // Constants were wrapped to the narrow range; memory of narrow data is declared
            // in 32-bit words, so a load of it is a word, not yet the value.
            Expr::Operand(_) | Expr::Select(..) | Expr::Extract(..) | Expr::Vector(_) => true,
            Expr::Binary(op, ..) => matches!(
                op,
                BinaryOp::And
                    | BinaryOp::Or
                    | BinaryOp::Xor
                    | BinaryOp::Shr
                    | BinaryOp::Rem
                    | BinaryOp::Min
                    | BinaryOp::Max
                    | BinaryOp::MinNan
                    | BinaryOp::MaxNan
            ),
            Expr::Unary(UnaryOp::Not, _) => n.is_signed_int(),
            Expr::Simd(op, ..) => matches!(
                op,
                SimdOp::ShuffleXor
                    | SimdOp::Shuffle
                    | SimdOp::ShuffleUp
                    | SimdOp::ShuffleDown
                    | SimdOp::Max
                    | SimdOp::Min
                    | SimdOp::And
                    | SimdOp::Or
                    | SimdOp::Xor
            ),
            // From a narrower (or equal) type whose every value `n` holds unchanged.
            Expr::Cast(a, _) => self.orig_ty(a).is_some_and(|t| fits(t, n)),
            _ => false,
        }
    }

    fn normalize(&mut self, dst: LocalId, n: ScalarType, w: ScalarType, out: &mut Vec<Stmt>) {
        let d = Operand::Local(dst);
        if n.is_signed_int() {
            let k = Operand::Const(Literal::Int(32 - n.bits() as i64), ScalarType::U32);
            out.push(Stmt::Assign {
                dst,
                expr: Expr::Binary(BinaryOp::Shl, d, k),
            });
            out.push(Stmt::Assign {
                dst,
                expr: Expr::Binary(BinaryOp::Shr, d, k),
            });
        } else {
            let m = Operand::Const(Literal::Int((1i64 << n.bits()) - 1), w);
            out.push(Stmt::Assign {
                dst,
                expr: Expr::Binary(BinaryOp::And, d, m),
            });
        }
    }

    fn expr(&self, e: Expr) -> Expr {
        match e {
            Expr::Operand(a) => Expr::Operand(self.op(a)),
            Expr::Unary(u, a) => Expr::Unary(u, self.op(a)),
            Expr::Binary(b, x, y) => Expr::Binary(b, self.op(x), self.op(y)),
            Expr::Cmp(p, x, y) => Expr::Cmp(p, self.op(x), self.op(y)),
            Expr::Select(c, x, y) => Expr::Select(self.op(c), self.op(x), self.op(y)),
            Expr::Fma(x, y, z) => Expr::Fma(self.op(x), self.op(y), self.op(z)),
            Expr::MulAdd(x, y, z) => Expr::MulAdd(self.op(x), self.op(y), self.op(z)),
            Expr::Cast(a, t) => Expr::Cast(self.op(a), Self::stype(t)),
            Expr::Bitcast(a, t) => Expr::Bitcast(self.op(a), Self::stype(t)),
            Expr::Load { buf, index, lanes } => Expr::Load {
                buf,
                index: self.op(index),
                lanes,
            },
            Expr::SharedLoad { arr, index, lanes } => Expr::SharedLoad {
                arr,
                index: self.op(index),
                lanes,
            },
            Expr::Vector(ops) => Expr::Vector(ops.into_iter().map(|o| self.op(o)).collect()),
            Expr::Extract(a, l) => Expr::Extract(self.op(a), l),
            Expr::Simd(op, x, arg) => Expr::Simd(op, self.op(x), arg.map(|a| self.op(a))),
            other @ (Expr::Builtin(_) | Expr::ScalarArg(_) | Expr::GridHeader(_)) => other,
        }
    }
}

/// The smallest and largest values of a narrow integer type.
fn range(t: ScalarType) -> (i64, i64) {
    let bits = t.bits();
    if t.is_signed_int() {
        (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
    } else {
        (0, (1i64 << bits) - 1)
    }
}

/// Every value of `from` is a value of `to` (i1 counts as 0 and 1).
fn fits(from: ScalarType, to: ScalarType) -> bool {
    if from.is_bool() {
        return true;
    }
    if !from.is_int() || !to.is_int() {
        return false;
    }
    let (lo, hi) = if from.bits() >= 64 {
        return false;
    } else {
        range(from)
    };
    let (tlo, thi) = range(to);
    lo >= tlo && hi <= thi
}
