//! Reductions and scans: op structure, Triton's dtype rules, and results computed by the
//! interpreter compared with plain Rust.

mod common;

use common::*;
use tm_core::ScalarType::{self, *};
use tm_tile::{BinaryOp, Elem, OpKind, Type};

fn find_ops<'a>(f: &'a tm_tile::Function, name: &str) -> Vec<&'a tm_tile::Op> {
    let mut v = Vec::new();
    f.walk(|op| {
        if f.ops[op].kind.name() == name {
            v.push(&f.ops[op]);
        }
    });
    v
}

fn combine_op(f: &tm_tile::Function, op: &tm_tile::Op) -> Vec<OpKind> {
    f.blocks[op.regions[0]]
        .ops
        .iter()
        .map(|&o| f.ops[o].kind.clone())
        .collect()
}

const ROW_SUM: &str = r#"
@triton.jit
def row_sum(x_ptr, out_ptr, N: tl.constexpr, M: tl.constexpr):
    rows = tl.arange(0, N)
    cols = tl.arange(0, M)
    x = tl.load(x_ptr + rows[:, None] * M + cols[None, :])
    s = tl.sum(x, axis=1)
    m = x.max(axis=1)
    tl.store(out_ptr + rows, s - m)
"#;

#[test]
fn sum_and_max_along_rows() {
    let k = kernel(ROW_SUM, "row_sum");
    let (f, text) = lower_ok(&k, &[ptr(F32), ptr(F32), cint(4), cint(8)]);
    let rs = find_ops(&f, "reduce");
    assert_eq!(rs.len(), 2, "{text}");
    assert_eq!(rs[0].kind, OpKind::Reduce { axis: 1 });
    assert_eq!(
        f.ty(rs[0].results[0]),
        &Type::tensor(Elem::Scalar(F32), vec![4])
    );
    assert_eq!(combine_op(&f, rs[0])[0], OpKind::Binary(BinaryOp::Add));
    assert_eq!(combine_op(&f, rs[1])[0], OpKind::Binary(BinaryOp::Max));
    insta::assert_snapshot!(text);

    let x: Vec<f32> = (0..32).map(|i| ((i * 7) % 11) as f32 - 3.0).collect();
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(&x), F32),
            Arg::Buf(vec![0; 16], F32),
            Arg::Absent,
            Arg::Absent,
        ],
    );
    let out = f32s(&bufs[1]);
    for r in 0..4 {
        let row = &x[r * 8..r * 8 + 8];
        let want = row.iter().sum::<f32>() - row.iter().cloned().fold(f32::MIN, f32::max);
        assert_eq!(out[r], want, "row {r}");
    }
}

const ALL: &str = r#"
@triton.jit
def all_reduce(x_ptr, out_ptr, N: tl.constexpr, M: tl.constexpr):
    offs = tl.arange(0, N)[:, None] * M + tl.arange(0, M)[None, :]
    x = tl.load(x_ptr + offs)
    total = tl.sum(x)
    lo = tl.min(x, keep_dims=True)
    tl.store(out_ptr, total)
    tl.store(out_ptr + 1 + tl.arange(0, 1)[:, None] + tl.arange(0, 1)[None, :], lo)
"#;

#[test]
fn reduce_all_reshapes_to_1d_and_keep_dims_keeps_rank() {
    let k = kernel(ALL, "all_reduce");
    let (f, text) = lower_ok(&k, &[ptr(I32), ptr(I32), cint(4), cint(4)]);
    let reshapes = find_ops(&f, "reshape");
    assert_eq!(reshapes.len(), 2, "{text}");
    assert_eq!(f.ty(reshapes[0].results[0]).shape, vec![16]);
    let rs = find_ops(&f, "reduce");
    assert_eq!(f.ty(rs[0].results[0]), &Type::scalar(I32));
    // keep_dims on a reduce-all gives [1, 1].
    let splat = find_ops(&f, "splat")
        .into_iter()
        .find(|o| o.operands[0] == rs[1].results[0])
        .expect("keep_dims splat");
    assert_eq!(f.ty(splat.results[0]).shape, vec![1, 1]);

    let x: Vec<i32> = (0..16).map(|i| (i * 5) % 7 - 2).collect();
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(&x), I32),
            Arg::Buf(vec![0; 8], I32),
            Arg::Absent,
            Arg::Absent,
        ],
    );
    let out = i32s(&bufs[1]);
    assert_eq!(out[0], x.iter().sum::<i32>());
    assert_eq!(out[1], *x.iter().min().unwrap());
}

fn reduce_result_type(src_t: ScalarType, expr: &str) -> Type {
    let src = format!(
        "@triton.jit\ndef k(x_ptr):\n    x = tl.load(x_ptr + tl.arange(0, 16))\n    r = {expr}\n    tl.static_print(r)\n"
    );
    let k = kernel(&src, "k");
    let (f, text) = lower_ok(&k, &[ptr(src_t)]);
    let rs = find_ops(&f, "reduce");
    assert_eq!(rs.len(), 1, "{text}");
    f.ty(rs[0].results[0]).clone()
}

#[test]
fn dtype_rules_of_sum_max_and_xor_sum() {
    assert_eq!(reduce_result_type(I8, "tl.sum(x, 0)"), Type::scalar(I32));
    assert_eq!(reduce_result_type(U16, "tl.sum(x, 0)"), Type::scalar(U32));
    assert_eq!(reduce_result_type(I1, "tl.sum(x, 0)"), Type::scalar(I32));
    assert_eq!(reduce_result_type(BF16, "tl.sum(x, 0)"), Type::scalar(F32));
    assert_eq!(reduce_result_type(F16, "tl.sum(x, 0)"), Type::scalar(F16));
    assert_eq!(reduce_result_type(I64, "tl.sum(x, 0)"), Type::scalar(I64));
    assert_eq!(
        reduce_result_type(I8, "tl.sum(x, 0, dtype=tl.int8)"),
        Type::scalar(I8)
    );
    assert_eq!(reduce_result_type(F16, "tl.max(x, 0)"), Type::scalar(F32));
    assert_eq!(reduce_result_type(U8, "tl.min(x, 0)"), Type::scalar(I32));
    assert_eq!(reduce_result_type(U32, "tl.max(x, 0)"), Type::scalar(U32));
    assert_eq!(
        reduce_result_type(I16, "tl.xor_sum(x, 0)"),
        Type::scalar(I16)
    );
    assert_eq!(reduce_result_type(F64, "x.sum()"), Type::scalar(F64));
}

const GENERIC: &str = r#"
@triton.jit
def pick(a, ia, b, ib):
    keep = a > b
    return tl.where(keep, a, b), tl.where(keep, ia, ib)

@triton.jit
def add(a, b):
    return a + b

@triton.jit
def generic(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    v, i = tl.reduce((x, offs), 0, pick)
    s = x.reduce(0, add)
    tl.store(out_ptr, v)
    tl.store(out_ptr + 1, i.to(tl.float32))
    tl.store(out_ptr + 2, s)
"#;

#[test]
fn reduce_with_a_jit_combine_function() {
    let k = kernel_with(GENERIC, "generic", &["pick", "add"]);
    let (f, text) = lower_ok(&k, &[ptr(F32), ptr(F32), cint(8)]);
    let rs = find_ops(&f, "reduce");
    assert_eq!(rs.len(), 2, "{text}");
    assert_eq!(rs[0].operands.len(), 2);
    assert_eq!(f.blocks[rs[0].regions[0]].args.len(), 4);
    let inner: Vec<&str> = combine_op(&f, rs[0]).iter().map(|k| k.name()).collect();
    assert_eq!(inner, ["cmp", "select", "select", "yield"]);
    insta::assert_snapshot!(text);

    let x = [3.0f32, -1.0, 9.5, 2.0, 9.0, 0.0, -7.0, 4.0];
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(&x), F32),
            Arg::Buf(vec![0; 12], F32),
            Arg::Absent,
        ],
    );
    assert_eq!(f32s(&bufs[1]), vec![9.5, 2.0, x.iter().sum::<f32>()]);
}

const ARGMAX: &str = r#"
@triton.jit
def argmax(x_ptr, out_ptr, N: tl.constexpr):
    x = tl.load(x_ptr + tl.arange(0, N))
    v, i = tl.max(x, 0, return_indices=True)
    w, j = tl.min(x, axis=0, return_indices=True)
    tl.store(out_ptr, i)
    tl.store(out_ptr + 1, j)
"#;

#[test]
fn max_and_min_with_indices_take_the_first_index_on_ties() {
    let k = kernel(ARGMAX, "argmax");
    let (f, _) = lower_ok(&k, &[ptr(I32), ptr(I32), cint(8)]);
    let x = [1i32, 7, 3, 7, -2, 5, -2, 0];
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(&x), I32),
            Arg::Buf(vec![0; 8], I32),
            Arg::Absent,
        ],
    );
    assert_eq!(i32s(&bufs[1]), vec![1, 4]);
}

const SCANS: &str = r#"
@triton.jit
def mul(a, b):
    return a * b

@triton.jit
def scans(x_ptr, out_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    tl.store(out_ptr + offs, tl.cumsum(x, 0))
    tl.store(out_ptr + N + offs, tl.associative_scan(x, 0, mul, reverse=True))
    tl.store(out_ptr + 2 * N + offs, x.cumprod(axis=0))
"#;

#[test]
fn cumsum_and_reverse_associative_scan() {
    let k = kernel_with(SCANS, "scans", &["mul"]);
    let (f, text) = lower_ok(&k, &[ptr(I32), ptr(I32), cint(4)]);
    let sc = find_ops(&f, "scan");
    assert_eq!(sc.len(), 3, "{text}");
    assert_eq!(
        sc[1].kind,
        OpKind::Scan {
            axis: 0,
            reverse: true
        }
    );
    insta::assert_snapshot!(text);
    let x = [1i32, 2, 3, 4];
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(&x), I32),
            Arg::Buf(vec![0; 48], I32),
            Arg::Absent,
        ],
    );
    assert_eq!(
        i32s(&bufs[1]),
        vec![1, 3, 6, 10, 24, 24, 12, 4, 1, 2, 6, 24]
    );
}

#[test]
fn reduction_errors() {
    let cases: &[(&str, &str)] = &[
        ("tl.sum(x, 2)", "invalid axis 2. Expected -1 <= axis < 1"),
        (
            "tl.xor_sum(x.to(tl.float32), 0)",
            "xor_sum only supported for integers",
        ),
        (
            "tl.reduce(x, 0, 3)",
            "combine_fn must be a @triton.jit function",
        ),
        ("tl.sum(1, 0)", "expects tensors"),
        ("tl.sum(x, n)", "axis must be a constexpr integer"),
        ("tl.cumsum(x, None)", "needs an axis"),
    ];
    for (expr, want) in cases {
        let src = format!(
            "@triton.jit\ndef k(x_ptr, n):\n    x = tl.load(x_ptr + tl.arange(0, 16))\n    r = {expr}\n"
        );
        let e = lower_err(&kernel(&src, "k"), &[ptr(I32), scalar(I32)]);
        let msg = e.to_string();
        assert!(msg.contains(want), "{expr}: {msg}");
        assert!(
            msg.contains("line 4") || msg.contains(":4:"),
            "{expr}: {msg}"
        );
    }
}
