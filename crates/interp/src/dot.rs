//! The matrix product of `tl.dot`.

use tm_core::ScalarType;

use crate::elementwise::{self as ew, OpResult};
use crate::value::{Data, Tile};

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
