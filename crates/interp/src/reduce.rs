//! Index plans for reductions and scans, the recognition of common combine functions, and
//! the matrix product.

use tm_core::ScalarType;
use tm_tile::{BinaryOp, BlockId, Function, OpKind};

use crate::elementwise::{self as ew, OpResult};
use crate::value::{Data, Tile};

/// If a combine region is `yield(arg0 OP arg1)` (or `arg1 OP arg0` for a commutative OP),
/// the op: it can then run directly on the lanes without walking the region.
pub fn match_binary_combine(f: &Function, region: BlockId) -> Option<BinaryOp> {
    let b = &f.blocks[region];
    if b.args.len() != 2 || b.ops.len() != 2 {
        return None;
    }
    let (op, y) = (&f.ops[b.ops[0]], &f.ops[b.ops[1]]);
    let OpKind::Binary(bop) = op.kind else {
        return None;
    };
    let &result = op.results.first()?;
    if y.kind != OpKind::Yield || y.operands != [result] {
        return None;
    }
    let (a0, a1) = (b.args[0], b.args[1]);
    let ok = op.operands == [a0, a1] || (bop.is_commutative() && op.operands == [a1, a0]);
    // The fast path computes in the operand's type, as the region would.
    let same_types = f.ty(a0) == f.ty(a1) && f.ty(result) == f.ty(a0);
    (ok && same_types).then_some(bop)
}

/// For lanes laid out as [outer, len, inner]: the indices of the first and second halves
/// along the middle axis, each in [outer, len/2, inner] order.
pub fn halves(outer: usize, len: usize, inner: usize) -> (Vec<usize>, Vec<usize>) {
    let half = len / 2;
    let mut l = Vec::with_capacity(outer * half * inner);
    let mut r = Vec::with_capacity(outer * half * inner);
    for o in 0..outer {
        for j in 0..half {
            let base = (o * len + j) * inner;
            l.extend(base..base + inner);
            let base = (o * len + j + half) * inner;
            r.extend(base..base + inner);
        }
    }
    (l, r)
}

/// For one Hillis–Steele step of distance `d`: (earlier, updated) element pairs.
pub fn scan_pairs(
    outer: usize,
    len: usize,
    inner: usize,
    d: usize,
    reverse: bool,
) -> (Vec<usize>, Vec<usize>) {
    let mut src = Vec::new();
    let mut dst = Vec::new();
    for o in 0..outer {
        for j in d..len {
            let (s, t) = if reverse {
                (len - 1 - j + d, len - 1 - j)
            } else {
                (j - d, j)
            };
            for i in 0..inner {
                src.push((o * len + s) * inner + i);
                dst.push((o * len + t) * inner + i);
            }
        }
    }
    (src, dst)
}

/// Elements `idx` of a tile, as a 1-D tile of lanes.
pub fn take(t: &Tile, idx: &[usize]) -> Tile {
    Tile::new(vec![idx.len() as u32], t.elem, t.data.gather(idx))
}

/// `a @ b + acc` over the two minor dimensions (leading dimensions are a batch). Float
/// inputs are multiplied and accumulated in f32 at full f32 precision (no tf32 rounding of
/// the inputs), integer inputs in wrapping i64 arithmetic; the result is converted to acc's
/// type.
pub fn dot(a: &Tile, b: &Tile, acc: &Tile) -> OpResult<Tile> {
    let r = a.shape.len();
    if r < 2 || b.shape.len() != r || acc.shape.len() != r {
        return Err("dot operands must have one rank of at least 2".into());
    }
    let (m, k) = (a.shape[r - 2] as usize, a.shape[r - 1] as usize);
    let (k2, n) = (b.shape[r - 2] as usize, b.shape[r - 1] as usize);
    if k != k2 || acc.shape[r - 2] as usize != m || acc.shape[r - 1] as usize != n {
        return Err(format!(
            "dot shapes do not fit: {:?} @ {:?} + {:?}",
            a.shape, b.shape, acc.shape
        ));
    }
    let batch: usize = a.shape[..r - 2].iter().map(|&d| d as usize).product();
    let acc_ty = acc
        .data
        .scalar_type()
        .ok_or("dot accumulator is a pointer")?;
    let float = a.data.scalar_type().is_some_and(|t| t.is_float()) || acc_ty.is_float();
    let out = if float {
        let (Data::F32(x), Data::F32(y), Data::F32(mut c)) = (
            ew::cast(&a.data, ScalarType::F32)?,
            ew::cast(&b.data, ScalarType::F32)?,
            ew::cast(&acc.data, ScalarType::F32)?,
        ) else {
            return Err("dot: conversion to f32 failed".into());
        };
        matmul_acc(&x, &y, &mut c, [batch, m, k, n], |c, a, b| c + a * b);
        ew::cast(&Data::F32(c), acc_ty)?
    } else {
        let (Data::I64(x), Data::I64(y), Data::I64(mut c)) = (
            ew::cast(&a.data, ScalarType::I64)?,
            ew::cast(&b.data, ScalarType::I64)?,
            ew::cast(&acc.data, ScalarType::I64)?,
        ) else {
            return Err("dot: conversion to i64 failed".into());
        };
        matmul_acc(&x, &y, &mut c, [batch, m, k, n], |c, a, b| {
            c.wrapping_add(a.wrapping_mul(b))
        });
        ew::cast(&Data::I64(c), acc_ty)?
    };
    Ok(Tile::new(acc.shape.clone(), acc.elem, out))
}

/// `c += x @ y` for each of `batch` row-major [m, k] @ [k, n] products, every term added
/// by `mac(c, a, b)` in increasing k: the order the result's rounding depends on.
#[inline]
fn matmul_acc<T: Copy>(
    x: &[T],
    y: &[T],
    c: &mut [T],
    [batch, m, k, n]: [usize; 4],
    mac: impl Fn(T, T, T) -> T,
) {
    for bi in 0..batch {
        let (x, y) = (&x[bi * m * k..], &y[bi * k * n..]);
        let c = &mut c[bi * m * n..(bi + 1) * m * n];
        for i in 0..m {
            let row = &mut c[i * n..(i + 1) * n];
            for kk in 0..k {
                let av = x[i * k + kk];
                let brow = &y[kk * n..(kk + 1) * n];
                for (cv, &bv) in row.iter_mut().zip(brow) {
                    *cv = mac(*cv, av, bv);
                }
            }
        }
    }
}
