//! Control flow beyond `for` over ascending ranges: negative steps, `while` loops with
//! carried values, checked by running them in the interpreter.

mod common;

use common::*;
use tm_core::ScalarType::*;

const LOOPS: &str = r#"
@triton.jit
def loops(out_ptr, n):
    acc = 0
    order = 0
    for i in range(n, 0, -3):
        acc += i
        order = order * 100 + i
    tl.store(out_ptr, acc)
    tl.store(out_ptr + 1, order)
    i = 0
    s = tl.zeros((4,), tl.int32)
    while i < n:
        s += tl.arange(0, 4) * i
        i += 1
    tl.store(out_ptr + 2 + tl.arange(0, 4), s)
    tl.store(out_ptr + 6, i)
    k = 1
    while k * 2 <= n:
        k = k * 2
    tl.store(out_ptr + 7, k)
    for j in tl.range(5, -1, -2, num_stages=3, loop_unroll_factor=2, flatten=True, warp_specialize=False):
        acc = acc * 10 + j
    tl.store(out_ptr + 8, acc)
"#;

#[test]
fn negative_steps_and_while_loops_run() {
    let k = kernel(LOOPS, "loops");
    let (f, text) = lower_ok(&k, &[ptr(I32), scalar(I32)]);
    let mut names = Vec::new();
    f.walk(|op| names.push(f.ops[op].kind.name()));
    assert_eq!(names.iter().filter(|n| **n == "while").count(), 2, "{text}");
    assert_eq!(names.iter().filter(|n| **n == "condition").count(), 2);
    insta::assert_snapshot!(text);
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![Arg::Buf(vec![0; 9 * 4], I32), Arg::Int(10)],
    );
    let out = i32s(&bufs[0]);
    assert_eq!(out[0], 10 + 7 + 4 + 1);
    assert_eq!(out[1], 10_07_04_01);
    assert_eq!(&out[2..6], &[0, 45, 90, 135]);
    assert_eq!(out[6], 10);
    assert_eq!(out[7], 8);
    assert_eq!(out[8], 22_531);
}
