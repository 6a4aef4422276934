//! Tutorial 06 (fused attention), forward kernels of the version that makes block
//! pointers from plain pointers (the TMA variant is not covered), source unchanged; run in
//! the interpreter on f16 inputs against a plain-Rust reference.

mod common;

use common::*;
use half::f16;
use tm_core::ScalarType::*;
use tm_frontend::ArgSpec;

const SRC: &str = r#"
@triton.jit
def _attn_fwd_inner(acc, l_i, m_i, q,  #
                    K_block_ptr, V_block_ptr,  #
                    start_m, qk_scale,  #
                    BLOCK_M: tl.constexpr, HEAD_DIM: tl.constexpr, BLOCK_N: tl.constexpr,  #
                    CAUSAL: tl.constexpr, offs_m: tl.constexpr, offs_n: tl.constexpr,  #
                    N_CTX: tl.constexpr, fp8_v: tl.constexpr):
    # range of values handled by this stage
    if CAUSAL:
        causal_start = start_m * BLOCK_M
    else:
        causal_start = N_CTX
    lo, hi = 0, N_CTX
    K_block_ptr = tl.advance(K_block_ptr, (0, lo))
    V_block_ptr = tl.advance(V_block_ptr, (lo, 0))
    # loop over k, v and update accumulator
    for start_n in range(lo, hi, BLOCK_N):
        start_n = tl.multiple_of(start_n, BLOCK_N)
        # -- compute qk ----
        k = tl.load(K_block_ptr)
        qk = tl.dot(q, k)
        if start_n >= causal_start:
            mask = offs_m[:, None] >= (start_n + offs_n[None, :])
            qk = qk * qk_scale + tl.where(mask, 0, -1.0e6)
            m_ij = tl.maximum(m_i, tl.max(qk, 1))
            qk -= m_ij[:, None]
        else:
            m_ij = tl.maximum(m_i, tl.max(qk, 1) * qk_scale)
            qk = qk * qk_scale - m_ij[:, None]
        p = tl.math.exp2(qk)
        l_ij = tl.sum(p, 1)
        # -- update m_i and l_i
        alpha = tl.math.exp2(m_i - m_ij)
        l_i = l_i * alpha + l_ij
        # -- update output accumulator --
        acc = acc * alpha[:, None]
        # update acc
        v = tl.load(V_block_ptr)
        if fp8_v:
            p = p.to(tl.float8e5)
        else:
            p = p.to(tl.float16)
        acc = tl.dot(p, v, acc)
        # update m_i and l_i
        m_i = m_ij
        V_block_ptr = tl.advance(V_block_ptr, (BLOCK_N, 0))
        K_block_ptr = tl.advance(K_block_ptr, (0, BLOCK_N))
    return acc, l_i, m_i


@triton.jit
def _attn_fwd(Q, K, V, sm_scale, M, Out,  #
              stride_qz, stride_qh, stride_qm, stride_qk,  #
              stride_kz, stride_kh, stride_kn, stride_kk,  #
              stride_vz, stride_vh, stride_vk, stride_vn,  #
              stride_oz, stride_oh, stride_om, stride_on,  #
              Z, H, N_CTX,  #
              HEAD_DIM: tl.constexpr,  #
              BLOCK_M: tl.constexpr,  #
              BLOCK_N: tl.constexpr,  #
              CAUSAL: tl.constexpr  #
              ):
    tl.static_assert(BLOCK_N <= HEAD_DIM)
    start_m = tl.program_id(0)
    off_hz = tl.program_id(1)
    off_z = off_hz // H
    off_h = off_hz % H
    qvk_offset = off_z.to(tl.int64) * stride_qz + off_h.to(tl.int64) * stride_qh

    # block pointers
    Q_block_ptr = tl.make_block_ptr(
        base=Q + qvk_offset,
        shape=(N_CTX, HEAD_DIM),
        strides=(stride_qm, stride_qk),
        offsets=(start_m * BLOCK_M, 0),
        block_shape=(BLOCK_M, HEAD_DIM),
        order=(1, 0),
    )
    v_order: tl.constexpr = (0, 1) if V.dtype.element_ty == tl.float8e5 else (1, 0)
    V_block_ptr = tl.make_block_ptr(
        base=V + qvk_offset,
        shape=(N_CTX, HEAD_DIM),
        strides=(stride_vk, stride_vn),
        offsets=(0, 0),
        block_shape=(BLOCK_N, HEAD_DIM),
        order=v_order,
    )
    K_block_ptr = tl.make_block_ptr(
        base=K + qvk_offset,
        shape=(HEAD_DIM, N_CTX),
        strides=(stride_kk, stride_kn),
        offsets=(0, 0),
        block_shape=(HEAD_DIM, BLOCK_N),
        order=(0, 1),
    )
    O_block_ptr = tl.make_block_ptr(
        base=Out + qvk_offset,
        shape=(N_CTX, HEAD_DIM),
        strides=(stride_om, stride_on),
        offsets=(start_m * BLOCK_M, 0),
        block_shape=(BLOCK_M, HEAD_DIM),
        order=(1, 0),
    )
    # initialize offsets
    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    # initialize pointer to m and l
    m_i = tl.zeros([BLOCK_M], dtype=tl.float32) - float("inf")
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32) + 1.0
    acc = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
    # load scales
    qk_scale = sm_scale
    qk_scale *= 1.44269504  # 1/log(2)
    # load q: it will stay in SRAM throughout
    q = tl.load(Q_block_ptr)

    # Rely on causal condition to split loop into off-band, on-band
    acc, l_i, m_i = _attn_fwd_inner(acc, l_i, m_i, q, K_block_ptr, V_block_ptr,  #
                                    start_m, qk_scale,  #
                                    BLOCK_M, HEAD_DIM, BLOCK_N,  #
                                    CAUSAL, offs_m, offs_n, N_CTX, V.dtype.element_ty == tl.float8e5  #
                                    )
    # epilogue
    m_i += tl.math.log2(l_i)
    acc = acc / l_i[:, None]
    m_ptrs = M + off_hz * N_CTX + offs_m
    tl.store(m_ptrs, m_i)
    tl.store(O_block_ptr, acc.to(Out.type.element_ty))
"#;

const Z: usize = 1;
const H: usize = 2;
const N_CTX: usize = 32;
const HEAD_DIM: usize = 16;
const BLOCK_M: usize = 16;
const BLOCK_N: usize = 16;

fn args(causal: bool) -> Vec<ArgSpec> {
    let mut a = vec![
        ptr(F16),
        ptr(F16),
        ptr(F16),
        scalar(F32),
        ptr(F32),
        ptr(F16),
    ];
    a.extend((0..19).map(|_| scalar(I32)));
    a.extend([
        cint(HEAD_DIM as i64),
        cint(BLOCK_M as i64),
        cint(BLOCK_N as i64),
        ArgSpec::Constexpr(tm_frontend::ConstValue::Bool(causal)),
    ]);
    a
}

fn lowered(causal: bool) -> tm_tile::Function {
    let k = kernel_with(SRC, "_attn_fwd", &["_attn_fwd_inner"]);
    lower_ok(&k, &args(causal)).0
}

/// Deterministic values in [-1, 1), rounded to f16.
fn inputs(seed: u32) -> Vec<f16> {
    (0..Z * H * N_CTX * HEAD_DIM)
        .map(|i| {
            let h = (i as u32)
                .wrapping_mul(2654435761)
                .wrapping_add(seed.wrapping_mul(40503));
            f16::from_f32(((h >> 8) % 2000) as f32 / 1000.0 - 1.0)
        })
        .collect()
}

/// Softmax(q k^T * scale) v per head, with rows masked to the causal triangle, and the
/// row log-sum-exp in base 2 of the scaled scores.
fn reference(q: &[f16], k: &[f16], v: &[f16], scale: f32, causal: bool) -> (Vec<f32>, Vec<f32>) {
    let mut out = vec![0f32; q.len()];
    let mut lse = vec![0f32; Z * H * N_CTX];
    for zh in 0..Z * H {
        let base = zh * N_CTX * HEAD_DIM;
        for i in 0..N_CTX {
            let s: Vec<f32> = (0..N_CTX)
                .map(|j| {
                    if causal && j > i {
                        return f32::NEG_INFINITY;
                    }
                    let dot: f32 = (0..HEAD_DIM)
                        .map(|d| {
                            q[base + i * HEAD_DIM + d].to_f32()
                                * k[base + j * HEAD_DIM + d].to_f32()
                        })
                        .sum();
                    dot * scale
                })
                .collect();
            let max = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let e: Vec<f32> = s.iter().map(|x| (x - max).exp()).collect();
            let sum: f32 = e.iter().sum();
            lse[zh * N_CTX + i] = sum.log2() + max / std::f32::consts::LN_2;
            for d in 0..HEAD_DIM {
                out[base + i * HEAD_DIM + d] = (0..N_CTX)
                    .map(|j| e[j] / sum * v[base + j * HEAD_DIM + d].to_f32())
                    .sum();
            }
        }
    }
    (out, lse)
}

fn run(causal: bool) {
    let f = lowered(causal);
    let (q, k, v) = (inputs(1), inputs(2), inputs(3));
    let scale = 0.5f32;
    let n = q.len();
    // Contiguous (Z, H, N_CTX, HEAD_DIM) strides, the same for q, k, v and out.
    let strides = [H * N_CTX * HEAD_DIM, N_CTX * HEAD_DIM, HEAD_DIM, 1];
    let mut a = vec![
        Arg::Buf(bytes_of(&q), F16),
        Arg::Buf(bytes_of(&k), F16),
        Arg::Buf(bytes_of(&v), F16),
        Arg::Float(scale as f64),
        Arg::Buf(vec![0; Z * H * N_CTX * 4], F32),
        Arg::Buf(vec![0; n * 2], F16),
    ];
    for _ in 0..4 {
        a.extend(strides.iter().map(|&s| Arg::Int(s as i64)));
    }
    a.extend([
        Arg::Int(Z as i64),
        Arg::Int(H as i64),
        Arg::Int(N_CTX as i64),
    ]);
    a.extend((0..4).map(|_| Arg::Absent));
    let grid = [(N_CTX / BLOCK_M) as u32, (Z * H) as u32, 1];
    let (bufs, _) = interpret(&f, grid, a);
    let got: Vec<f32> = bufs[5]
        .chunks_exact(2)
        .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
        .collect();
    let got_m = f32s(&bufs[4]);
    let (want, want_m) = reference(&q, &k, &v, scale, causal);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-2,
            "out[{i}]: {g} vs {w} (causal {causal})"
        );
    }
    for (i, (g, w)) in got_m.iter().zip(&want_m).enumerate() {
        assert!((g - w).abs() <= 1e-2 + 1e-3 * w.abs(), "M[{i}]: {g} vs {w}");
    }
}

#[test]
fn forward_matches_the_reference() {
    run(false);
}

#[test]
fn causal_forward_matches_the_reference() {
    run(true);
}

const FP8: &str = r#"
@triton.jit
def names(x_ptr, out_ptr):
    x = tl.load(x_ptr)
    same: tl.constexpr = x_ptr.dtype.element_ty == tl.float8e5
    other: tl.constexpr = tl.float8e5 != tl.float8e4nv
    tl.static_assert(tl.float8e5 == tl.float8e5)
    tl.static_assert(tl.float8e4b15.primitive_bitwidth == 8)
    tl.static_assert(tl.float8e5b16.name == "fp8e5b16")
    tl.static_assert(tl.float8e4b8 != tl.float16)
    tl.static_assert(out_ptr.type.element_ty == tl.float32)
    tl.store(out_ptr, (x + same + other).to(out_ptr.type.element_ty))

@triton.jit
def compute(x_ptr):
    x = tl.load(x_ptr)
    tl.store(x_ptr, x.to(tl.float8e5).to(tl.float32))
"#;

#[test]
fn float8_names_resolve_and_compare() {
    let (f, _) = lower_ok(&kernel(FP8, "names"), &[ptr(F16), ptr(F32)]);
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(bytes_of(&[f16::from_f32(2.5)]), F16),
            Arg::Buf(vec![0; 4], F32),
        ],
    );
    // same = False, other = True.
    assert_eq!(f32s(&bufs[1]), vec![3.5]);
}

#[test]
fn float8_compute_is_refused_where_used() {
    let e = lower_err(&kernel(FP8, "compute"), &[ptr(F32)]);
    insta::assert_snapshot!(e.to_string(), @r"
    at kernel.py:17:21:
        tl.store(x_ptr, x.to(tl.float8e5).to(tl.float32))
                        ^
    unsupported: fp8e5 (tl.float8e5): no target computes with 8-bit floats
    ");
}
