//! Math builtins of tl, tl.math and libdevice, `**`, propagate_nan, dtype predicates,
//! tuple helpers, and standard-library functions reached as `tl.<name>` / methods.

mod common;

use common::*;
use tm_core::ScalarType::{self, *};
use tm_frontend::{Binding, ModuleKind};
use tm_tile::{BinaryOp, OpKind, UnaryOp};

fn kinds(f: &tm_tile::Function) -> Vec<OpKind> {
    let mut v = Vec::new();
    f.walk(|op| v.push(f.ops[op].kind.clone()));
    v
}

fn with_libdevice(mut k: tm_frontend::FunctionSource) -> tm_frontend::FunctionSource {
    k.globals
        .insert("libdevice".into(), Binding::Module(ModuleKind::Libdevice));
    k
}

const MATH: &str = r#"
@triton.jit
def math(x_ptr, y_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    y = tl.load(y_ptr + offs)
    a = tl.fma(x, y, 1.0) + tl.math.fma(x, 2.0, y)
    b = tl.div_rn(x, y) + tl.fdiv(x, y) + tl.math.fdiv(x, y, ieee_rounding=True)
    c = tl.clamp(x, -1.0, 1.0) + tl.clamp(x, 0.0, 2.0, propagate_nan=tl.PropagateNan.ALL)
    d = tl.maximum(x, y, propagate_nan=tl.PropagateNan.ALL) + tl.minimum(x, y, tl.PropagateNan.NONE)
    e = libdevice.pow(x, y) + libdevice.atan2(y, x) + x ** 2.0 + libdevice.tanh(x)
    f = tl.where(libdevice.isnan(x) | libdevice.isinf(y), 0.0, libdevice.rint(x))
    g = tl.exp2(x) + tl.log2(y) + tl.rsqrt(y) + tl.sin(x) + tl.cos(x) + tl.floor(x) + tl.ceil(x) + tl.erf(x)
    h = (tl.umulhi(offs, offs + 7) + tl.math.umulhi(offs.to(tl.uint32), 3).to(tl.int32)).to(tl.float32)
    tl.store(out_ptr + offs, a + b + c + d + e + f + g + h)
"#;

#[test]
fn math_builtins_map_to_their_ops() {
    let k = with_libdevice(kernel(MATH, "math"));
    let (f, text) = lower_ok(&k, &[ptr(F32), ptr(F32), ptr(F32), cint(8)]);
    let ks = kinds(&f);
    for want in [
        OpKind::Fma,
        OpKind::Binary(BinaryOp::DivRn),
        OpKind::Binary(BinaryOp::Div),
        OpKind::Binary(BinaryOp::MaxNan),
        OpKind::Binary(BinaryOp::MinNan),
        OpKind::Binary(BinaryOp::Min),
        OpKind::Binary(BinaryOp::Pow),
        OpKind::Binary(BinaryOp::Atan2),
        OpKind::Binary(BinaryOp::MulHi),
        OpKind::Unary(UnaryOp::Tanh),
        OpKind::Unary(UnaryOp::IsNan),
        OpKind::Unary(UnaryOp::Rint),
        OpKind::Unary(UnaryOp::Exp2),
        OpKind::Unary(UnaryOp::Erf),
    ] {
        assert!(ks.contains(&want), "missing {want:?}:\n{text}");
    }
    insta::assert_snapshot!(text);
}

const CLAMP_RUN: &str = r#"
@triton.jit
def k(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr + offs, tl.clamp(x, -1.0, 1.0) + x ** 2.0 + tl.fma(x, x, x))
    tl.store(out_ptr + N + offs, (tl.umulhi(offs.to(tl.uint32) + 4000000000, 3)).to(tl.float32))
"#;

#[test]
fn clamp_pow_fma_umulhi_run() {
    let k = kernel(CLAMP_RUN, "k");
    let (f, _) = lower_ok(&k, &[ptr(F32), ptr(F32), cint(4)]);
    let x = [-3.0f32, -0.5, 0.25, 2.0];
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(&x), F32),
            Arg::Buf(vec![0; 32], F32),
            Arg::Absent,
        ],
    );
    let out = f32s(&bufs[1]);
    for (i, &v) in x.iter().enumerate() {
        let want = v.clamp(-1.0, 1.0) + v.powf(2.0) + v.mul_add(v, v);
        assert!((out[i] - want).abs() < 1e-5, "{i}: {} vs {want}", out[i]);
        let hi = ((4_000_000_000u64 + i as u64) * 3) >> 32;
        assert_eq!(out[4 + i], hi as f32);
    }
}

fn query(t: ScalarType, expr: &str) -> bool {
    let src = format!(
        "@triton.jit\ndef k(p, OUT: tl.constexpr):\n    x = tl.load(p)\n    tl.static_assert(({expr}) == OUT)\n"
    );
    let k = kernel(&src, "k");
    let yes = tm_frontend::lower(
        &k,
        &[
            ptr(t),
            tm_frontend::ArgSpec::Constexpr(tm_frontend::ConstValue::Bool(true)),
        ],
    );
    let no = tm_frontend::lower(
        &k,
        &[
            ptr(t),
            tm_frontend::ArgSpec::Constexpr(tm_frontend::ConstValue::Bool(false)),
        ],
    );
    match (yes, no) {
        (Ok(_), Err(_)) => true,
        (Err(_), Ok(_)) => false,
        (a, b) => panic!("{expr}: {a:?} / {b:?}"),
    }
}

#[test]
fn dtype_predicates_follow_triton() {
    assert!(query(F16, "x.dtype.is_floating()"));
    assert!(!query(I8, "x.dtype.is_floating()"));
    assert!(query(I8, "x.dtype.is_int_signed()"));
    assert!(!query(I1, "x.dtype.is_int_signed()"));
    assert!(query(U16, "x.dtype.is_int_unsigned()"));
    assert!(query(BF16, "x.dtype.is_bf16()"));
    assert!(query(U64, "x.dtype.int_bitwidth == 64"));
    assert!(query(F32, "x.dtype.fp_mantissa_width == 23"));
    assert!(query(F32, "p.dtype.is_ptr()"));
    assert!(query(F32, "([1] * 3 + [2])[1:] == (1, 1, 2)"));
    assert!(query(F32, "(1, 2, 3, 4)[::-2] == (4, 2)"));
}

const STDLIB: &str = r#"
@triton.jit
def k(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    s = tl.softmax(x)
    i = tl.argmax(x, 0)
    j = x.argmin(axis=0)
    tl.store(out_ptr + offs, s + tl.sigmoid(x) * 0.0)
    tl.store(out_ptr + N, i.to(tl.float32))
    tl.store(out_ptr + N + 1, j.to(tl.float32))
"#;

#[test]
fn stdlib_functions_resolve_as_tl_names_and_methods() {
    let k = kernel(STDLIB, "k");
    let (f, text) = lower_ok(&k, &[ptr(F32), ptr(F32), cint(8)]);
    assert!(text.contains("triton_metal/language/standard.py"), "{text}");
    let x = [0.5f32, 3.0, -1.0, 3.0, 2.0, -4.0, 0.0, 1.0];
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(&x), F32),
            Arg::Buf(vec![0; 40], F32),
            Arg::Absent,
        ],
    );
    let out = f32s(&bufs[1]);
    let m = 3.0f32;
    let z: f32 = x.iter().map(|v| (v - m).exp()).sum();
    for (i, v) in x.iter().enumerate() {
        assert!((out[i] - (v - m).exp() / z).abs() < 1e-6);
    }
    assert_eq!(out[8], 1.0, "argmax takes the first of equal maxima");
    assert_eq!(out[9], 5.0);
}

#[test]
fn math_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "tl.fdiv(n, 2)",
            "both operands of fdiv must have floating scalar type",
        ),
        ("tl.umulhi(x, x)", "umulhi only supports integer types"),
        (
            "tl.clamp(n, 0, 1)",
            "clamp only supports floating-point types",
        ),
        ("tl.maximum(x, x, propagate_nan=3)", "propagate_nan must be"),
        ("n ** 2", "'**' on int32"),
        ("tl.PropagateNan.SOME", "has no attribute 'SOME'"),
        (
            "tl.no_such_thing(x)",
            "'no_such_thing' is not a function of triton.language",
        ),
        ("x.dtype.is_complex()", "dtype attribute 'is_complex'"),
    ];
    for (expr, want) in cases {
        let src = format!(
            "@triton.jit\ndef k(p, n):\n    x = tl.load(p + tl.arange(0, 8))\n    z = {expr}\n"
        );
        let e = lower_err(&kernel(&src, "k"), &[ptr(F32), scalar(I32)]);
        let msg = e.to_string();
        assert!(msg.contains(want), "{expr}: {msg}");
        assert!(msg.contains(":4:"), "{expr}: {msg}");
    }
}
