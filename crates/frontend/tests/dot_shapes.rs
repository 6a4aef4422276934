//! `tl.dot`/`@` and the shape builtins: structure, Triton's errors, and interpreter runs
//! compared with plain Rust.

mod common;

use common::*;
use tm_core::ScalarType::*;
use tm_frontend::{ArgSpec, ConstValue};
use tm_tile::{Elem, InputPrecision, OpKind, Type};

fn find_ops<'a>(f: &'a tm_tile::Function, name: &str) -> Vec<&'a tm_tile::Op> {
    let mut v = Vec::new();
    f.walk(|op| {
        if f.ops[op].kind.name() == name {
            v.push(&f.ops[op]);
        }
    });
    v
}

/// Tutorial 03's kernel, unchanged apart from the missing autotune decorator.
const MATMUL: &str = r#"
@triton.jit
def matmul_kernel(
        a_ptr, b_ptr, c_ptr,
        M, N, K,
        stride_am, stride_ak,
        stride_bk, stride_bn,
        stride_cm, stride_cn,
        BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr, BLOCK_SIZE_K: tl.constexpr,
        GROUP_SIZE_M: tl.constexpr,
        ACTIVATION: tl.constexpr
):
    pid = tl.program_id(axis=0)
    num_pid_m = tl.cdiv(M, BLOCK_SIZE_M)
    num_pid_n = tl.cdiv(N, BLOCK_SIZE_N)
    num_pid_in_group = GROUP_SIZE_M * num_pid_n
    group_id = pid // num_pid_in_group
    first_pid_m = group_id * GROUP_SIZE_M
    group_size_m = min(num_pid_m - first_pid_m, GROUP_SIZE_M)
    pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
    pid_n = (pid % num_pid_in_group) // group_size_m

    tl.assume(pid_m >= 0)
    tl.assume(pid_n >= 0)
    tl.assume(stride_am > 0)
    tl.assume(stride_ak > 0)
    tl.assume(stride_bn > 0)
    tl.assume(stride_bk > 0)
    tl.assume(stride_cm > 0)
    tl.assume(stride_cn > 0)

    offs_am = (pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)) % M
    offs_bn = (pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)) % N
    offs_k = tl.arange(0, BLOCK_SIZE_K)
    a_ptrs = a_ptr + (offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak)
    b_ptrs = b_ptr + (offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn)

    accumulator = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_SIZE_K)):
        a = tl.load(a_ptrs, mask=offs_k[None, :] < K - k * BLOCK_SIZE_K, other=0.0)
        b = tl.load(b_ptrs, mask=offs_k[:, None] < K - k * BLOCK_SIZE_K, other=0.0)
        accumulator = tl.dot(a, b, accumulator)
        a_ptrs += BLOCK_SIZE_K * stride_ak
        b_ptrs += BLOCK_SIZE_K * stride_bk
    if ACTIVATION == "leaky_relu":
        accumulator = leaky_relu(accumulator)
    c = accumulator.to(tl.float16)

    offs_cm = pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)
    offs_cn = pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)
    c_ptrs = c_ptr + stride_cm * offs_cm[:, None] + stride_cn * offs_cn[None, :]
    c_mask = (offs_cm[:, None] < M) & (offs_cn[None, :] < N)
    tl.store(c_ptrs, c, mask=c_mask)


@triton.jit
def leaky_relu(x):
    return tl.where(x >= 0, x, 0.01 * x)
"#;

fn f16_bytes(v: &[f32]) -> Vec<u8> {
    v.iter()
        .flat_map(|x| half::f16::from_f32(*x).to_le_bytes())
        .collect()
}

fn f16s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(2)
        .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
        .collect()
}

#[test]
fn tutorial_03_matmul_with_leaky_relu() {
    let k = kernel_with(MATMUL, "matmul_kernel", &["leaky_relu"]);
    let (m, n, kk) = (48usize, 32usize, 40usize);
    let mut args = vec![ptr(F16), ptr(F16), ptr(F16)];
    args.extend([scalar(I32), scalar(I32), scalar(I32)]);
    args.extend((0..6).map(|_| scalar(I32)));
    args.extend([cint(16), cint(16), cint(16), cint(2)]);
    args.push(ArgSpec::Constexpr(ConstValue::Str("leaky_relu".into())));
    let (f, text) = lower_ok(&k, &args);
    let dots = find_ops(&f, "dot");
    assert_eq!(dots.len(), 1, "{text}");
    assert_eq!(
        dots[0].kind,
        OpKind::Dot {
            precision: InputPrecision::Tf32,
            max_num_imprecise_acc: 0
        }
    );
    assert_eq!(
        f.ty(dots[0].results[0]),
        &Type::tensor(Elem::Scalar(F32), vec![16, 16])
    );
    // The accumulator is the loop-carried value.
    let fo = find_ops(&f, "for")[0];
    assert!(f.blocks[fo.regions[0]].args.contains(&dots[0].operands[2]));

    let a: Vec<f32> = (0..m * kk)
        .map(|i| ((i * 13) % 17) as f32 / 8.0 - 1.0)
        .collect();
    let b: Vec<f32> = (0..kk * n)
        .map(|i| ((i * 7) % 11) as f32 / 4.0 - 1.25)
        .collect();
    let grid = (m.div_ceil(16) * n.div_ceil(16)) as u32;
    let (bufs, _) = interpret(
        &f,
        [grid, 1, 1],
        vec![
            Arg::Buf(f16_bytes(&a), F16),
            Arg::Buf(f16_bytes(&b), F16),
            Arg::Buf(vec![0; m * n * 2], F16),
            Arg::Int(m as i64),
            Arg::Int(n as i64),
            Arg::Int(kk as i64),
            Arg::Int(kk as i64),
            Arg::Int(1),
            Arg::Int(n as i64),
            Arg::Int(1),
            Arg::Int(n as i64),
            Arg::Int(1),
            Arg::Absent,
            Arg::Absent,
            Arg::Absent,
            Arg::Absent,
            Arg::Absent,
        ],
    );
    let c = f16s(&bufs[2]);
    for i in 0..m {
        for j in 0..n {
            let mut s = 0f32;
            for t in 0..kk {
                s += a[i * kk + t] * b[t * n + j];
            }
            let want = if s >= 0.0 { s } else { 0.01 * s };
            let got = c[i * n + j];
            assert!(
                (got - want).abs() <= 1e-2 * want.abs().max(1.0),
                "c[{i},{j}] = {got}, want {want}"
            );
        }
    }
}

const BATCHED: &str = r#"
@triton.jit
def bmm(a_ptr, b_ptr, c_ptr, B: tl.constexpr, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr):
    rb = tl.arange(0, B)[:, None, None]
    rm = tl.arange(0, M)[None, :, None]
    rn = tl.arange(0, N)[None, None, :]
    rk = tl.arange(0, K)
    a = tl.load(a_ptr + rb * M * K + rm * K + rk[None, None, :])
    b = tl.load(b_ptr + rb * K * N + rk[None, :, None] * N + rn)
    c = a @ b
    d = tl.dot(a, b, input_precision="ieee", out_dtype=tl.float32)
    tl.store(c_ptr + rb * M * N + rm * N + rn, c + d)
"#;

#[test]
fn batched_matmul_operator() {
    let k = kernel(BATCHED, "bmm");
    let args = [
        ptr(F32),
        ptr(F32),
        ptr(F32),
        cint(2),
        cint(16),
        cint(16),
        cint(16),
    ];
    let (f, text) = lower_ok(&k, &args);
    let dots = find_ops(&f, "dot");
    assert_eq!(dots.len(), 2, "{text}");
    assert_eq!(f.ty(dots[0].results[0]).shape, vec![2, 16, 16]);
    assert!(matches!(
        dots[1].kind,
        OpKind::Dot {
            precision: InputPrecision::Ieee,
            ..
        }
    ));
    let a: Vec<f32> = (0..512).map(|i| (i % 5) as f32 - 2.0).collect();
    let b: Vec<f32> = (0..512).map(|i| (i % 3) as f32 * 0.5).collect();
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(&a), F32),
            Arg::Buf(bytes_of(&b), F32),
            Arg::Buf(vec![0; 2048], F32),
            Arg::Absent,
            Arg::Absent,
            Arg::Absent,
            Arg::Absent,
        ],
    );
    let c = f32s(&bufs[2]);
    for bi in 0..2 {
        for i in 0..16 {
            for j in 0..16 {
                let s: f32 = (0..16)
                    .map(|t| a[bi * 256 + i * 16 + t] * b[bi * 256 + t * 16 + j])
                    .sum();
                assert_eq!(c[bi * 256 + i * 16 + j], 2.0 * s);
            }
        }
    }
}

#[test]
fn dot_errors() {
    let cases: &[(&str, &str)] = &[
        ("tl.dot(x8, x8)", "M >= 16, N >= 16 and K >= 16"),
        ("tl.dot(x, y)", "are not compatible for matmul"),
        (
            "tl.dot(x, x.to(tl.float16))",
            "Both operands must be same dtype",
        ),
        (
            "tl.dot(x, x, out_dtype=tl.bfloat16)",
            "out_dtype=bfloat16 is unsupported",
        ),
        (
            "tl.dot(x, x, input_precision='fast')",
            "input_precision must be one of",
        ),
        (
            "tl.dot(x, x, input_precision='ieee', allow_tf32=True)",
            "Only one of input_precision and allow_tf32",
        ),
        (
            "tl.dot(x, x, tl.zeros((16, 16), tl.float16))",
            "the accumulator of dot must be",
        ),
        (
            "tl.dot(x[None, :, :], x)",
            "Both inputs must be either 2D or 3D",
        ),
        ("x @ 2", "unsupported operand types for @"),
    ];
    for (expr, want) in cases {
        let src = format!(
            "@triton.jit\ndef k(p):\n    r = tl.arange(0, 16)\n    x = tl.load(p + r[:, None] * 16 + r[None, :])\n    y = tl.load(p + tl.arange(0, 32)[:, None] * 16 + r[None, :])\n    x8 = tl.load(p + tl.arange(0, 8)[:, None] * 8 + tl.arange(0, 8)[None, :])\n    z = {expr}\n"
        );
        let e = lower_err(&kernel(&src, "k"), &[ptr(F32)]);
        let msg = e.to_string();
        assert!(msg.contains(want), "{expr}: {msg}");
        assert!(msg.contains(":7:"), "{expr}: {msg}");
    }
}

const SHAPES: &str = r#"
@triton.jit
def shapes(x_ptr, out_ptr):
    x = tl.load(x_ptr + tl.arange(0, 8))
    m = tl.reshape(x, 2, 4)
    t = m.T
    p = tl.permute(t[None, :, :], (0, 2, 1))
    v = p.reshape((8,))
    e = tl.expand_dims(x, (0, 2))
    b = tl.broadcast_to(e, 2, 8, 1).reshape(16)
    j = tl.join(x, x * 10)
    lo, hi = tl.split(j)
    tw = tl.trans(m, 1, 0).view(8)
    tl.store(out_ptr + tl.arange(0, 8), v)
    tl.store(out_ptr + 8 + tl.arange(0, 16), b)
    tl.store(out_ptr + 24 + tl.arange(0, 16), tl.reshape(j, 16))
    tl.store(out_ptr + 40 + tl.arange(0, 8), hi - lo)
    tl.store(out_ptr + 48 + tl.arange(0, 8), tw + tl.zeros_like(tw))
"#;

#[test]
fn reshape_permute_expand_broadcast_join_split() {
    let k = kernel(SHAPES, "shapes");
    let (f, text) = lower_ok(&k, &[ptr(I32), ptr(I32)]);
    for op in [
        "reshape",
        "permute",
        "expand_dims",
        "broadcast",
        "join",
        "split",
    ] {
        assert!(!find_ops(&f, op).is_empty(), "no {op}:\n{text}");
    }
    assert_eq!(find_ops(&f, "permute")[0].kind, OpKind::Permute(vec![1, 0]));
    insta::assert_snapshot!(text);
    let x: Vec<i32> = (1..=8).collect();
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![Arg::Buf(bytes_of(&x), I32), Arg::Buf(vec![0; 56 * 4], I32)],
    );
    let out = i32s(&bufs[1]);
    // m = [[1,2,3,4],[5,6,7,8]]; t = m.T (4x2); p = [1, 2x4] again: v == x.
    assert_eq!(&out[0..8], &x[..]);
    let bcast: Vec<i32> = x.iter().chain(x.iter()).cloned().collect();
    assert_eq!(&out[8..24], &bcast[..]);
    let joined: Vec<i32> = x.iter().flat_map(|&v| [v, v * 10]).collect();
    assert_eq!(&out[24..40], &joined[..]);
    let diff: Vec<i32> = x.iter().map(|&v| v * 9).collect();
    assert_eq!(&out[40..48], &diff[..]);
    assert_eq!(&out[48..56], &[1, 5, 2, 6, 3, 7, 4, 8]);
}

#[test]
fn shape_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "tl.reshape(x, 4, 4)",
            "cannot change total number of elements",
        ),
        ("tl.reshape(x, (3,))", "must be a power of 2"),
        ("tl.permute(x, (1,))", "must be a permutation"),
        ("tl.expand_dims(x, 3)", "invalid axis 3"),
        ("tl.split(x)", "last dimension must have size 2"),
        ("tl.broadcast_to(x, 4)", "Cannot broadcast"),
        ("tl.trans(x, 0, 0)", "must be a permutation"),
    ];
    for (expr, want) in cases {
        let src = format!(
            "@triton.jit\ndef k(p):\n    x = tl.load(p + tl.arange(0, 8))\n    z = {expr}\n"
        );
        let e = lower_err(&kernel(&src, "k"), &[ptr(F32)]);
        let msg = e.to_string();
        assert!(msg.contains(want), "{expr}: {msg}");
        assert!(msg.contains(":4:"), "{expr}: {msg}");
    }
}
