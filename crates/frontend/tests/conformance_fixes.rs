//! Semantics found wrong by the conformance suite: `>>` kind chosen from the tensor's own
//! dtype, and Python integers checked against the computation type of their op.

mod common;

use common::*;
use tm_core::ScalarType::*;
use tm_frontend::{ArgSpec, ConstValue};

const SHR: &str = r#"
@triton.jit
def shr(x_ptr, y_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    y = tl.load(y_ptr + offs)
    tl.store(out_ptr + offs, x >> y)
"#;

#[test]
fn signed_left_operand_shifts_arithmetically_after_promotion_to_unsigned() {
    // int8 >> uint8 is computed in uint8, but Triton shifts arithmetically because the
    // left operand is signed.
    let (f, _) = lower_ok(&kernel(SHR, "shr"), &[ptr(I8), ptr(U8), ptr(U8), cint(4)]);
    let x: Vec<i8> = vec![-128, -1, 64, -16];
    let y: Vec<u8> = vec![1, 3, 2, 7];
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(&x), I8),
            Arg::Buf(bytes_of(&y), U8),
            Arg::Buf(vec![0; 4], U8),
        ],
    );
    let want: Vec<u8> = x.iter().zip(&y).map(|(a, b)| (a >> b) as u8).collect();
    assert_eq!(bufs[2], want);
}

#[test]
fn unsigned_left_operand_shifts_logically_after_promotion_to_signed() {
    // uint8 >> int16 is computed in int16; the left operand is unsigned: logical shift.
    let (f, _) = lower_ok(
        &kernel(SHR, "shr"),
        &[ptr(U16), ptr(I32), ptr(I32), cint(2)],
    );
    let x: Vec<u16> = vec![0xffff, 0x8000];
    let y: Vec<i32> = vec![4, 15];
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(&x), U16),
            Arg::Buf(bytes_of(&y), I32),
            Arg::Buf(vec![0; 8], I32),
        ],
    );
    assert_eq!(i32s(&bufs[2]), vec![0xfff, 1]);
    // Signed in int32 after promotion, logical anyway: no sign bits come in at 64 bits.
    let (f, _) = lower_ok(
        &kernel(SHR, "shr"),
        &[ptr(U32), ptr(I64), ptr(I64), cint(1)],
    );
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(&[0xffff_fff0u32]), U32),
            Arg::Buf(bytes_of(&[4i64]), I64),
            Arg::Buf(vec![0; 8], I64),
        ],
    );
    assert_eq!(bufs[2], bytes_of(&[0x0fff_ffffi64]));
}

const CONST_LHS_SHR: &str = r#"
@triton.jit
def shr(y_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    y = tl.load(y_ptr + offs)
    tl.store(out_ptr + offs, -64 >> y)
"#;

#[test]
fn number_on_the_left_takes_the_tensors_kind() {
    // `-64 >> int32 tensor`: __rrshift__ of a signed tensor, arithmetic.
    let (f, _) = lower_ok(
        &kernel(CONST_LHS_SHR, "shr"),
        &[ptr(I32), ptr(I32), cint(2)],
    );
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(&[2i32, 3]), I32),
            Arg::Buf(vec![0; 8], I32),
        ],
    );
    assert_eq!(i32s(&bufs[1]), vec![-16, -8]);
}

fn scalar_op(expr: &str) -> String {
    format!(
        r#"
@triton.jit
def op(x_ptr, out_ptr, s: tl.constexpr):
    x = tl.load(x_ptr)
    tl.store(out_ptr, {expr})
"#
    )
}

fn const_arg(v: i64) -> ArgSpec {
    ArgSpec::Constexpr(ConstValue::Int(v))
}

#[test]
fn python_int_out_of_range_of_the_computation_type_is_refused() {
    // The division is done in floats, but Triton checks the number against int8 first.
    let src = scalar_op("x / s");
    let e = lower_err(
        &kernel(&src, "op"),
        &[ptr(I8), ptr(F32), const_arg((1 << 31) + 5)],
    );
    insta::assert_snapshot!(e.to_string(), @r"
    at kernel.py:5:23:
        tl.store(out_ptr, x / s)
                          ^
    Scalar 2147483653 is out of range for type int8
    ");
    let src = scalar_op("x + s");
    let e = lower_err(
        &kernel(&src, "op"),
        &[ptr(I32), ptr(I32), const_arg(1 << 31)],
    );
    assert!(
        e.to_string()
            .contains("Scalar 2147483648 is out of range for type int32"),
        "{e}"
    );
    // uint32 with an int32 number is computed in uint32 (uint8 would be int32).
    lower_ok(&kernel(&src, "op"), &[ptr(U8), ptr(I32), const_arg(-1)]);
    let e = lower_err(&kernel(&src, "op"), &[ptr(U32), ptr(U32), const_arg(-1)]);
    assert!(
        e.to_string().contains(
            "Cannot perform a binary operation between an unsigned tensor and a negative scalar"
        ),
        "{e}"
    );
    // In range: fine (uint8 + 255; int64 + 2**31 widens nothing).
    lower_ok(&kernel(&src, "op"), &[ptr(U8), ptr(U8), const_arg(255)]);
    lower_ok(
        &kernel(&src, "op"),
        &[ptr(I64), ptr(I64), const_arg(1 << 31)],
    );
    let src = scalar_op("x < s");
    let e = lower_err(&kernel(&src, "op"), &[ptr(I16), ptr(I1), const_arg(40000)]);
    assert!(e.to_string().contains("out of range for type int16"), "{e}");
}

#[test]
fn boolean_offsets_count_as_zero_or_one() {
    // Found by the fuzz test: `not` made the offsets i1, which reached AddPtr unchanged and
    // failed the verifier (an internal error instead of a kernel).
    let src = r#"
@triton.jit
def k(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    tl.store(out_ptr + offs, tl.load(x_ptr + (offs == 2)))
"#;
    let (f, _) = lower_ok(&kernel(src, "k"), &[ptr(I32), ptr(I32), cint(4)]);
    let x: Vec<i32> = vec![10, 20, 30, 40];
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![Arg::Buf(bytes_of(&x), I32), Arg::Buf(vec![0; 16], I32)],
    );
    assert_eq!(bufs[1], bytes_of(&[10i32, 10, 20, 10]));
}
