//! Reductions with general combine regions over any axis, and argmax with ties broken to
//! the smallest index (a two-operand combine).

use crate::build::Tile;
use crate::harness::{as_i32, i32s, run_both};

#[test]
fn sum_over_either_axis_of_2d() {
    let (r, c) = (32u32, 64u32);
    for axis in [0u32, 1] {
        let keep = if axis == 0 { c } else { r };
        let mut t = Tile::new(
            "rsum",
            "%x: ptr<i32> {arg=0, div16}, %y: ptr<i32> {arg=1, div16}",
        );
        let p = t.ptr2d("%x", r, c, "i32");
        let x = t.v(&format!("load {p} : tensor<{r}x{c}xi32>"));
        let (a, b, s) = (t.fresh(), t.fresh(), t.fresh());
        let red = t.v(&format!(
            "reduce {{axis={axis}}} {x} : tensor<{keep}xi32> {{\n    ^bb({a}: i32, {b}: i32):\n    {s} = xor {a}, {b} : i32\n    yield {s}\n  }}"
        ));
        let q = t.ptr1d("%y", keep, "i32");
        t.raw(&format!("store {q}, {red}"));
        let x: Vec<i32> = (0..(r * c) as i32)
            .map(|i| i.wrapping_mul(2654435761u32 as i32))
            .collect();
        let want: Vec<i32> = (0..keep as usize)
            .map(|k| {
                (0..if axis == 0 { r } else { c } as usize)
                    .map(|j| {
                        if axis == 0 {
                            x[j * c as usize + k]
                        } else {
                            x[k * c as usize + j]
                        }
                    })
                    .fold(0, |acc, v| acc ^ v)
            })
            .collect();
        let args = [i32s(&x), i32s(&vec![0; keep as usize])];
        run_both(&t.finish(), [1, 1, 1], 4, &args, |e, out| {
            assert_eq!(as_i32(&out[1]), want, "{e} axis={axis}");
        });
    }
}

#[test]
fn argmax_ties_go_to_the_smallest_index() {
    let n = 512u32;
    let mut t = Tile::new(
        "argmax",
        "%x: ptr<i32> {arg=0, div16}, %y: ptr<i32> {arg=1}",
    );
    let r = t.v(&format!(
        "make_range {{start=0, end={n}}} : tensor<{n}xi32>"
    ));
    let p = t.ptr1d("%x", n, "i32");
    let x = t.v(&format!("load {p} : tensor<{n}xi32>"));
    let (v1, i1, v2, i2) = (t.fresh(), t.fresh(), t.fresh(), t.fresh());
    let (gt, eq, lt, tie, take, v, i) = (
        t.fresh(),
        t.fresh(),
        t.fresh(),
        t.fresh(),
        t.fresh(),
        t.fresh(),
        t.fresh(),
    );
    let (_mv, mi) = t.v2(&format!(
        "reduce {{axis=0}} {x}, {r} : i32, i32 {{\n    ^bb({v1}: i32, {i1}: i32, {v2}: i32, {i2}: i32):\n    {gt} = cmp {{pred=gt}} {v2}, {v1} : i1\n    {eq} = cmp {{pred=eq}} {v2}, {v1} : i1\n    {lt} = cmp {{pred=lt}} {i2}, {i1} : i1\n    {tie} = and {eq}, {lt} : i1\n    {take} = or {gt}, {tie} : i1\n    {v} = select {take}, {v2}, {v1} : i32\n    {i} = select {take}, {i2}, {i1} : i32\n    yield {v}, {i}\n  }}"
    ));
    t.raw(&format!("store %y, {mi}"));
    // The maximum (7) appears at 100, 300 and 511.
    let mut x: Vec<i32> = (0..n as i32).map(|i| i % 7 - 3).collect();
    for k in [511usize, 300, 100] {
        x[k] = 7;
    }
    let args = [i32s(&x), i32s(&[-1])];
    run_both(&t.finish(), [1, 1, 1], 4, &args, |e, out| {
        assert_eq!(as_i32(&out[1]), vec![100], "{e}");
    });
}
