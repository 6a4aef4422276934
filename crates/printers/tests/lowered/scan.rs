//! Scans: cumsum along either axis of 2-D tensors and of 1-D tensors of several sizes
//! (within a thread, across lanes, across simdgroups and repeats, replicated), reverse,
//! and a two-operand non-commutative combine (a linear recurrence) that checks the order.

use crate::build::{dims, Tile};
use crate::harness::{as_i32, i32s, run_both};

/// Loads `%x` ([shape], row-major), scans along `axis` with `x_acc + x_new` and stores to
/// `%y`.
fn cumsum_kernel(shape: &[u32], axis: u32, reverse: bool) -> String {
    let mut t = Tile::new(
        "cumsum",
        "%x: ptr<i32> {arg=0, div16}, %y: ptr<i32> {arg=1, div16}",
    );
    let (px, py) = if shape.len() == 1 {
        (
            t.ptr1d("%x", shape[0], "i32"),
            t.ptr1d("%y", shape[0], "i32"),
        )
    } else {
        (
            t.ptr2d("%x", shape[0], shape[1], "i32"),
            t.ptr2d("%y", shape[0], shape[1], "i32"),
        )
    };
    let ty = format!("tensor<{}xi32>", dims(shape));
    let x = t.v(&format!("load {px} : {ty}"));
    let (a, b, c) = (t.fresh(), t.fresh(), t.fresh());
    let rev = if reverse { ", reverse" } else { "" };
    let s = t.v(&format!(
        "scan {{axis={axis}{rev}}} {x} : {ty} {{\n    ^bb({a}: i32, {b}: i32):\n    {c} = add {a}, {b} : i32\n    yield {c}\n  }}"
    ));
    t.raw(&format!("store {py}, {s}"));
    t.finish()
}

fn cumsum_ref(x: &[i32], shape: &[usize], axis: usize, reverse: bool) -> Vec<i32> {
    let (rows, cols) = if shape.len() == 1 {
        (1, shape[0])
    } else {
        (shape[0], shape[1])
    };
    let mut out = x.to_vec();
    let at = |i: usize, j: usize| i * cols + j;
    let (outer, inner) = if shape.len() == 1 || axis == 1 {
        (rows, cols)
    } else {
        (cols, rows)
    };
    for o in 0..outer {
        let idx = |k: usize| {
            if shape.len() == 1 || axis == 1 {
                at(o, k)
            } else {
                at(k, o)
            }
        };
        let order: Vec<usize> = if reverse {
            (0..inner).rev().collect()
        } else {
            (0..inner).collect()
        };
        let mut acc = 0i32;
        for k in order {
            acc = acc.wrapping_add(x[idx(k)]);
            out[idx(k)] = acc;
        }
    }
    out
}

fn check_cumsum(shape: &[u32], axis: u32, reverse: bool, warps: u32) {
    let n: usize = shape.iter().map(|&d| d as usize).product();
    let x: Vec<i32> = (0..n).map(|i| ((i * 7919) % 201) as i32 - 100).collect();
    let sh: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    let want = cumsum_ref(&x, &sh, axis as usize, reverse);
    let args = [i32s(&x), i32s(&vec![0; n])];
    run_both(
        &cumsum_kernel(shape, axis, reverse),
        [1, 1, 1],
        warps,
        &args,
        |e, out| {
            assert_eq!(
                as_i32(&out[1]),
                want,
                "{e} {shape:?} axis={axis} reverse={reverse}"
            );
        },
    );
}

#[test]
fn cumsum_1d_sizes() {
    // Replicated (16), one element per thread, several per thread (repeats).
    for n in [16u32, 128, 1024, 4096] {
        check_cumsum(&[n], 0, false, 4);
    }
    check_cumsum(&[256], 0, false, 1);
}

#[test]
fn cumsum_reverse() {
    check_cumsum(&[1024], 0, true, 4);
    check_cumsum(&[16, 64], 1, true, 4);
    check_cumsum(&[64, 16], 0, true, 2);
}

#[test]
fn cumsum_2d_either_axis() {
    for axis in [0, 1] {
        check_cumsum(&[32, 64], axis, false, 4);
        check_cumsum(&[8, 256], axis, false, 4);
    }
}

#[test]
fn two_operand_linear_recurrence_keeps_the_order() {
    // (a1, b1) then (a2, b2) = (a1 * a2, b1 * a2 + b2): h_i = a_i * h_{i-1} + b_i.
    let n = 512u32;
    let mut t = Tile::new(
        "recurrence",
        "%a: ptr<i32> {arg=0, div16}, %b: ptr<i32> {arg=1, div16}, %h: ptr<i32> {arg=2, div16}",
    );
    let pa = t.ptr1d("%a", n, "i32");
    let pb = t.ptr1d("%b", n, "i32");
    let ty = format!("tensor<{n}xi32>");
    let a = t.v(&format!("load {pa} : {ty}"));
    let b = t.v(&format!("load {pb} : {ty}"));
    let (a1, b1, a2, b2) = (t.fresh(), t.fresh(), t.fresh(), t.fresh());
    let (m, p, q) = (t.fresh(), t.fresh(), t.fresh());
    let (sa, sb) = t.v2(&format!(
        "scan {{axis=0}} {a}, {b} : {ty}, {ty} {{\n    ^bb({a1}: i32, {b1}: i32, {a2}: i32, {b2}: i32):\n    {m} = mul {a1}, {a2} : i32\n    {p} = mul {b1}, {a2} : i32\n    {q} = add {p}, {b2} : i32\n    yield {m}, {q}\n  }}"
    ));
    let _ = sa;
    let ph = t.ptr1d("%h", n, "i32");
    t.raw(&format!("store {ph}, {sb}"));
    let av: Vec<i32> = (0..n as i32)
        .map(|i| [1, -1, 2, 3][(i % 4) as usize])
        .collect();
    let bv: Vec<i32> = (0..n as i32).map(|i| (i * 13) % 7 - 3).collect();
    let mut want = Vec::new();
    let mut h = 0i32;
    for i in 0..n as usize {
        h = av[i].wrapping_mul(h).wrapping_add(bv[i]);
        want.push(h);
    }
    let args = [i32s(&av), i32s(&bv), i32s(&vec![0; n as usize])];
    run_both(&t.finish(), [1, 1, 1], 4, &args, |e, out| {
        assert_eq!(as_i32(&out[2]), want, "{e}");
    });
}
