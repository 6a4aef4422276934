//! `x.to(dtype, fp_downcast_rounding=...)`: "rtne" is the default rounding, "rtz" rounds
//! toward zero; Triton's checks on where the option may be given.

mod common;

use common::*;
use half::{bf16, f16};
use tm_core::ScalarType::*;

const SRC: &str = r#"
@triton.jit
def down(x_ptr, h_ptr, b_ptr, hz_ptr, bz_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    tl.store(h_ptr + offs, x.to(tl.float16, fp_downcast_rounding="rtne"))
    tl.store(b_ptr + offs, tl.cast(x, tl.bfloat16, fp_downcast_rounding="rtne"))
    tl.store(hz_ptr + offs, x.to(tl.float16, fp_downcast_rounding="rtz"))
    tl.store(bz_ptr + offs, x.to(tl.bfloat16, "rtz"))
"#;

/// The value of largest magnitude among `encodings` not above |x|, with x's sign: rounding
/// toward zero by search, independent of any rounding arithmetic.
fn toward_zero(x: f32, decode: impl Fn(u16) -> f32) -> f32 {
    if x.is_nan() {
        return f32::NAN;
    }
    let mut best = 0.0f32;
    for bits in 0..0x8000u16 {
        let v = decode(bits);
        if v.is_finite() && v <= x.abs() && v > best || (v.is_infinite() && x.is_infinite()) {
            best = v;
        }
    }
    best.copysign(x)
}

fn halves(b: &[u8], decode: impl Fn(u16) -> f32) -> Vec<f32> {
    b.chunks_exact(2)
        .map(|c| decode(u16::from_le_bytes([c[0], c[1]])))
        .collect()
}

fn same(a: &[f32], b: &[f32]) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

#[test]
fn rtne_and_rtz_narrowing() {
    let x: Vec<f32> = vec![
        1.0009,
        -1.0009,
        65519.0,
        65520.0,
        1e10,
        -1e10,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        0.0,
        -0.0,
        std::f32::consts::PI,
        -std::f32::consts::E,
        1e-7,
        -6.1e-5,
        1.0 + 0.75 / 128.0,
    ];
    let n = x.len();
    let (f, _) = lower_ok(
        &kernel(SRC, "down"),
        &[
            ptr(F32),
            ptr(F16),
            ptr(BF16),
            ptr(F16),
            ptr(BF16),
            cint(n as i64),
        ],
    );
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(&x), F32),
            Arg::Buf(vec![0; 2 * n], F16),
            Arg::Buf(vec![0; 2 * n], BF16),
            Arg::Buf(vec![0; 2 * n], F16),
            Arg::Buf(vec![0; 2 * n], BF16),
        ],
    );
    let h = |b: u16| f16::from_bits(b).to_f32();
    let bf = |b: u16| bf16::from_bits(b).to_f32();
    let rne_h: Vec<f32> = x.iter().map(|&v| f16::from_f32(v).to_f32()).collect();
    let rne_b: Vec<f32> = x.iter().map(|&v| bf16::from_f32(v).to_f32()).collect();
    let rtz_h: Vec<f32> = x.iter().map(|&v| toward_zero(v, h)).collect();
    let rtz_b: Vec<f32> = x.iter().map(|&v| toward_zero(v, bf)).collect();
    assert!(
        same(&halves(&bufs[1], h), &rne_h),
        "{:?}",
        halves(&bufs[1], h)
    );
    assert!(
        same(&halves(&bufs[2], bf), &rne_b),
        "{:?}",
        halves(&bufs[2], bf)
    );
    assert!(
        same(&halves(&bufs[3], h), &rtz_h),
        "{:?}\n{rtz_h:?}",
        halves(&bufs[3], h)
    );
    assert!(
        same(&halves(&bufs[4], bf), &rtz_b),
        "{:?}\n{rtz_b:?}",
        halves(&bufs[4], bf)
    );
    // The cases that tell the two apart.
    assert_eq!(rtz_h[2], 65504.0);
    assert_eq!(rtz_h[3], 65504.0);
    assert!(rne_h[3].is_infinite());
    assert!(rtz_h[0] < rne_h[0]);
}

fn one_cast(expr: &str) -> String {
    format!(
        r#"
@triton.jit
def k(x_ptr, y_ptr):
    x = tl.load(x_ptr)
    tl.store(y_ptr, {expr})
"#
    )
}

#[test]
fn rounding_is_refused_where_triton_refuses_it() {
    let e = lower_err(
        &kernel(
            &one_cast("x.to(tl.float32, fp_downcast_rounding='rtz')"),
            "k",
        ),
        &[ptr(F16), ptr(F32)],
    );
    insta::assert_snapshot!(e.to_string(), @r"
    at kernel.py:5:21:
        tl.store(y_ptr, x.to(tl.float32, fp_downcast_rounding='rtz'))
                        ^
    fp_downcast_rounding should be set only for truncating fp conversions. Source scalar type is fp16 and destination type is fp32
    ");
    let e = lower_err(
        &kernel(
            &one_cast("x.to(tl.float16, fp_downcast_rounding='up')"),
            "k",
        ),
        &[ptr(F32), ptr(F16)],
    );
    assert!(
        e.to_string()
            .contains("Invalid rounding mode: up. Supported rounding modes are 'rtne' and 'rtz'."),
        "{e}"
    );
    // Same type: Triton returns the input before checking.
    lower_ok(
        &kernel(
            &one_cast("x.to(tl.float32, fp_downcast_rounding='rtz')"),
            "k",
        ),
        &[ptr(F32), ptr(F32)],
    );
}
