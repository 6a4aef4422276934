//! Block pointers: make_block_ptr/advance, loads and stores with boundary_check and
//! padding_option, loop-carried through `for`; lowered to pointer tensors and masks.

mod common;

use common::*;
use tm_core::ScalarType::*;

const MATMUL_BP: &str = r#"
@triton.jit
def matmul(a_ptr, b_ptr, c_ptr, M, N, K, stride_am, stride_ak, stride_bk, stride_bn,
           stride_cm, stride_cn, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
           BLOCK_K: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    a_block = tl.make_block_ptr(base=a_ptr, shape=(M, K), strides=(stride_am, stride_ak),
                                offsets=(pid_m * BLOCK_M, 0), block_shape=(BLOCK_M, BLOCK_K),
                                order=(1, 0))
    b_block = tl.make_block_ptr(base=b_ptr, shape=(K, N), strides=(stride_bk, stride_bn),
                                offsets=(0, pid_n * BLOCK_N), block_shape=(BLOCK_K, BLOCK_N),
                                order=(1, 0))
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, K, BLOCK_K):
        a = tl.load(a_block, boundary_check=(0, 1), padding_option="zero")
        b = tl.load(b_block, boundary_check=(0, 1), padding_option="zero",
                    cache_modifier=".cg", eviction_policy="evict_last")
        acc += tl.dot(a, b)
        a_block = tl.advance(a_block, (0, BLOCK_K))
        b_block = tl.advance(b_block, (BLOCK_K, 0))
    c_block = tl.make_block_ptr(base=c_ptr, shape=(M, N), strides=(stride_cm, stride_cn),
                                offsets=(pid_m * BLOCK_M, pid_n * BLOCK_N),
                                block_shape=(BLOCK_M, BLOCK_N), order=(1, 0))
    tl.store(c_block, acc, boundary_check=(0, 1))
"#;

#[test]
fn block_pointer_matmul_with_boundary_checks() {
    let k = kernel(MATMUL_BP, "matmul");
    let mut args = vec![ptr(F32), ptr(F32), ptr(F32)];
    args.extend((0..9).map(|_| scalar(I32)));
    args.extend([cint(16), cint(16), cint(16)]);
    let (f, text) = lower_ok(&k, &args);
    let mut names = Vec::new();
    f.walk(|op| names.push(f.ops[op].kind.name()));
    assert!(names.contains(&"for") && names.contains(&"dot"), "{text}");
    // The loads are masked with zero padding: no block pointer survives lowering.
    let mut masked_loads = 0;
    f.walk(|op| {
        if let tm_tile::OpKind::Load {
            has_mask: true,
            has_other: true,
            ..
        } = f.ops[op].kind
        {
            masked_loads += 1;
        }
    });
    assert_eq!(masked_loads, 2, "{text}");

    let (m, n, kk) = (20usize, 24usize, 40usize);
    let a: Vec<f32> = (0..m * kk).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
    let b: Vec<f32> = (0..kk * n).map(|i| ((i * 5) % 11) as f32 * 0.5).collect();
    let c_len = m * n + 8; // guard words after C catch stores outside the boundary
    let (bufs, _) = interpret(
        &f,
        [2, 2, 1],
        vec![
            Arg::Buf(bytes_of(&a), F32),
            Arg::Buf(bytes_of(&b), F32),
            Arg::Buf(bytes_of(&vec![-1.0f32; c_len]), F32),
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
        ],
    );
    let c = f32s(&bufs[2]);
    for i in 0..m {
        for j in 0..n {
            let want: f32 = (0..kk).map(|t| a[i * kk + t] * b[t * n + j]).sum();
            assert_eq!(c[i * n + j], want, "c[{i},{j}]");
        }
    }
    assert!(
        c[m * n..].iter().all(|&v| v == -1.0),
        "store went out of bounds"
    );
}

#[test]
fn block_pointer_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "tl.load(tl.make_block_ptr(p, (n,), (1,), (0,), (8,), (0,)), mask=n > 0)",
            "`mask` and `other` arguments cannot be specified",
        ),
        (
            "tl.load(tl.make_block_ptr(p, (n,), (1,), (0,), (8,), (0,)), boundary_check=(0,), padding_option='one')",
            "Padding option must be one of",
        ),
        (
            "tl.make_block_ptr(p, (n, n), (1,), (0,), (8,), (0,))",
            "to have the same length",
        ),
        (
            "tl.make_block_ptr(p, (n,), (1,), (0,), (8,), (1,))",
            "Expected a permutation",
        ),
        ("tl.advance(p, (1,))", "must be a block pointer"),
        (
            "tl.load(tl.make_block_ptr(p, (n,), (1,), (0,), (8,), (0,)), boundary_check=(1,))",
            "boundary_check must be constexpr dimensions below 1",
        ),
        (
            "tl.store(tl.make_block_ptr(p, (n,), (1,), (0,), (8,), (0,)), tl.zeros((4,), tl.float32))",
            "mismatch",
        ),
    ];
    for (expr, want) in cases {
        let src = format!("@triton.jit\ndef k(p, n):\n    x = 1\n    z = {expr}\n");
        let e = lower_err(&kernel(&src, "k"), &[ptr(F32), scalar(I32)]);
        let msg = e.to_string();
        assert!(msg.contains(want), "{expr}: {msg}");
        assert!(msg.contains(":4:"), "{expr}: {msg}");
    }
}
