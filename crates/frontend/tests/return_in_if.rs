//! `return` inside a runtime `if` of a `@jit` helper: the `if` yields the returned value,
//! as Triton's code generator makes both branches return through one exit.

mod common;

use common::*;
use tm_core::ScalarType::*;

const SRC: &str = r#"
@triton.jit
def pick(x, t):
    if t > 0:
        return x * 2
    else:
        return x - 1

@triton.jit
def classify(v):
    if v < 0:
        return -1
    elif v == 0:
        return 0
    return 1

@triton.jit
def clamp_low(v):
    if v < 10:
        return 10
    return v

@triton.jit
def kern(x_ptr, out_ptr, t, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    a = pick(x, t)
    s = tl.load(x_ptr)
    tl.store(out_ptr + offs, a + classify(s) * 1000 + clamp_low(s) * 100000)
"#;

fn run(t: i64, x: &[i32]) -> Vec<i32> {
    let k = kernel_with(SRC, "kern", &["pick", "classify", "clamp_low"]);
    let (f, _) = lower_ok(&k, &[ptr(I32), ptr(I32), scalar(I32), cint(4)]);
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(x), I32),
            Arg::Buf(vec![0; 16], I32),
            Arg::Int(t),
        ],
    );
    i32s(&bufs[1])
}

#[test]
fn both_branches_return_a_value() {
    let x = [5, -3, 7, 0];
    let tail = |s: i32| (s.signum()) * 1000 + s.max(10) * 100000;
    let want: Vec<i32> = x.iter().map(|v| v * 2 + tail(5)).collect();
    assert_eq!(run(1, &x), want);
    let want: Vec<i32> = x.iter().map(|v| v - 1 + tail(5)).collect();
    assert_eq!(run(0, &x), want);
    let x = [-4, 1, 2, 3];
    let want: Vec<i32> = x.iter().map(|v| v - 1 + tail(-4)).collect();
    assert_eq!(run(-2, &x), want);
    let x = [0, 1, 2, 3];
    let want: Vec<i32> = x.iter().map(|v| v * 2 + tail(0)).collect();
    assert_eq!(run(9, &x), want);
    let x = [42, 1, 2, 3];
    let want: Vec<i32> = x.iter().map(|v| v * 2 + tail(42)).collect();
    assert_eq!(run(9, &x), want);
}

#[test]
fn the_if_yields_the_return_value() {
    let k = kernel_with(SRC, "kern", &["pick", "classify", "clamp_low"]);
    let (_, text) = lower_ok(&k, &[ptr(I32), ptr(I32), scalar(I32), cint(4)]);
    // pick's if yields a tensor; classify's nested ifs yield scalars.
    assert!(text.contains("= if "), "{text}");
    assert!(text.contains("yield"), "{text}");
}

const MISMATCH: &str = r#"
@triton.jit
def bad(x, t):
    if t > 0:
        return x
    return 1.5

@triton.jit
def kern(x_ptr, t, N: tl.constexpr):
    offs = tl.arange(0, N)
    tl.store(x_ptr + offs, bad(tl.load(x_ptr + offs), t))
"#;

#[test]
fn inconsistent_return_types_are_refused_as_triton_does() {
    let k = kernel_with(MISMATCH, "kern", &["bad"]);
    let e = lower_err(&k, &[ptr(I32), scalar(I32), cint(4)]);
    insta::assert_snapshot!(e.to_string(), @r"
    at kernel.py:4:5:
        if t > 0:
        ^
    Inconsistent return types: <['4'], int32> and fp32
    ");
}

const FALLS_THROUGH: &str = r#"
@triton.jit
def maybe(x, t):
    if t > 0:
        return x + 1

@triton.jit
def kern(x_ptr, t, N: tl.constexpr):
    offs = tl.arange(0, N)
    y = maybe(tl.load(x_ptr + offs), t)
    tl.store(x_ptr + offs, y, mask=t > 0)
"#;

#[test]
fn a_path_without_return_gives_an_undefined_value() {
    let k = kernel_with(FALLS_THROUGH, "kern", &["maybe"]);
    let (f, _) = lower_ok(&k, &[ptr(I32), scalar(I32), cint(2)]);
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![Arg::Buf(bytes_of(&[3i32, 4]), I32), Arg::Int(1)],
    );
    assert_eq!(i32s(&bufs[0]), vec![4, 5]);
}

const IN_LOOP: &str = r#"
@triton.jit
def kern(x_ptr, n):
    for i in range(n):
        if i > 2:
            return
        tl.store(x_ptr + i, i)
"#;

#[test]
fn return_inside_a_loop_is_refused_as_triton_does() {
    let e = lower_err(&kernel(IN_LOOP, "kern"), &[ptr(I32), scalar(I32)]);
    insta::assert_snapshot!(e.to_string(), @r"
    at kernel.py:6:13:
                return
                ^
    Cannot have `return` statements inside `while` or `for` statements in triton
    ");
}
