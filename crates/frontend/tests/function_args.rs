//! A `@jit` function given as a constexpr argument (tutorial 03's `ACTIVATION`, FlagGems'
//! functional arguments): calling it inlines it, and it may be passed on to helpers.

mod common;

use common::*;
use tm_core::ScalarType::*;
use tm_frontend::{ArgSpec, Binding, ConstValue};

const ACT: &str = r#"
@triton.jit
def leaky_relu(x):
    return tl.where(x >= 0, x, 0.01 * x)

@triton.jit
def square(x):
    return x * x
"#;

const SRC: &str = r#"
@triton.jit
def apply(v, F: tl.constexpr):
    return F(v) + 1.0

@triton.jit
def kern(x_ptr, out_ptr, N: tl.constexpr, ACTIVATION: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    if ACTIVATION is not None:
        x = apply(x, ACTIVATION)
    tl.store(out_ptr + offs, x)
"#;

fn activation(name: &str) -> ArgSpec {
    ArgSpec::Constexpr(ConstValue::Function(jit(ACT, name)))
}

fn run(act: ArgSpec) -> Vec<f32> {
    let k = kernel_with(SRC, "kern", &["apply"]);
    let (f, _) = lower_ok(&k, &[ptr(F32), ptr(F32), cint(4), act]);
    let x = [-2.0f32, -0.5, 0.0, 3.0];
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![Arg::Buf(bytes_of(&x), F32), Arg::Buf(vec![0; 16], F32)],
    );
    f32s(&bufs[1])
}

#[test]
fn a_function_argument_is_inlined_where_called() {
    let got = run(activation("leaky_relu"));
    let want = [-0.02f32 + 1.0, -0.005 + 1.0, 1.0, 4.0];
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-6, "{got:?}");
    }
    assert_eq!(run(activation("square")), vec![5.0, 1.25, 1.0, 10.0]);
    assert_eq!(
        run(ArgSpec::Constexpr(ConstValue::None)),
        vec![-2.0, -0.5, 0.0, 3.0]
    );
}

#[test]
fn a_function_bound_as_a_global_constant_is_callable_too() {
    let mut k = kernel(
        r#"
@triton.jit
def kern(x_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    tl.store(x_ptr + offs, G(tl.load(x_ptr + offs)))
"#,
        "kern",
    );
    k.globals.insert(
        "G".into(),
        Binding::Const(ConstValue::Function(jit(ACT, "square"))),
    );
    let (f, _) = lower_ok(&k, &[ptr(F32), cint(2)]);
    let (bufs, _) = interpret(&f, [1, 1, 1], vec![Arg::Buf(bytes_of(&[3f32, -2.0]), F32)]);
    assert_eq!(f32s(&bufs[0]), vec![9.0, 4.0]);
}

#[test]
fn calling_a_non_function_constexpr_is_an_error_at_the_call() {
    let k = kernel_with(SRC, "kern", &["apply"]);
    let e = lower_err(&k, &[ptr(F32), ptr(F32), cint(4), cint(3)]);
    insta::assert_snapshot!(e.to_string(), @r"
    at kernel.py:4:12:
        return F(v) + 1.0
               ^
    'constexpr[int]' object is not callable
    ");
}
