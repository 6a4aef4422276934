//! Tutorial 05 (layer norm), forward and backward, kernel source unchanged: the backward
//! kernel takes a spin lock with `atomic_cas` in a `while` loop. Run in the interpreter and
//! compared with a plain-Rust layer norm.

mod common;

use common::*;
use tm_core::ScalarType::*;
use tm_tile::{AtomicOp, OpKind};

const LAYER_NORM: &str = r#"
@triton.jit
def _layer_norm_fwd_fused(
    X,  # pointer to the input
    Y,  # pointer to the output
    W,  # pointer to the weights
    B,  # pointer to the biases
    Mean,  # pointer to the mean
    Rstd,  # pointer to the 1/std
    stride,  # how much to increase the pointer when moving by 1 row
    N,  # number of columns in X
    eps,  # epsilon to avoid division by zero
    BLOCK_SIZE: tl.constexpr,
):
    # Map the program id to the row of X and Y it should compute.
    row = tl.program_id(0)
    Y += row * stride
    X += row * stride
    # Compute mean
    mean = 0
    _mean = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        a = tl.load(X + cols, mask=cols < N, other=0.).to(tl.float32)
        _mean += a
    mean = tl.sum(_mean, axis=0) / N
    # Compute variance
    _var = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        x = tl.load(X + cols, mask=cols < N, other=0.).to(tl.float32)
        x = tl.where(cols < N, x - mean, 0.)
        _var += x * x
    var = tl.sum(_var, axis=0) / N
    rstd = 1 / tl.sqrt(var + eps)
    # Write mean / rstd
    tl.store(Mean + row, mean)
    tl.store(Rstd + row, rstd)
    # Normalize and apply linear transformation
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        mask = cols < N
        w = tl.load(W + cols, mask=mask)
        b = tl.load(B + cols, mask=mask)
        x = tl.load(X + cols, mask=mask, other=0.).to(tl.float32)
        x_hat = (x - mean) * rstd
        y = x_hat * w + b
        # Write output
        tl.store(Y + cols, y, mask=mask)


@triton.jit
def _layer_norm_bwd_dx_fused(DX,  # pointer to the input gradient
                             DY,  # pointer to the output gradient
                             DW,  # pointer to the partial sum of weights gradient
                             DB,  # pointer to the partial sum of biases gradient
                             X,  # pointer to the input
                             W,  # pointer to the weights
                             Mean,  # pointer to the mean
                             Rstd,  # pointer to the 1/std
                             Lock,  # pointer to the lock
                             stride,  # how much to increase the pointer when moving by 1 row
                             N,  # number of columns in X
                             GROUP_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr):
    # Map the program id to the elements of X, DX, and DY it should compute.
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_SIZE_N)
    mask = cols < N
    X += row * stride
    DY += row * stride
    DX += row * stride
    # Offset locks and weights/biases gradient pointer for parallel reduction
    lock_id = row % GROUP_SIZE_M
    Lock += lock_id
    Count = Lock + GROUP_SIZE_M
    DW = DW + lock_id * N + cols
    DB = DB + lock_id * N + cols
    # Load data to SRAM
    x = tl.load(X + cols, mask=mask, other=0).to(tl.float32)
    dy = tl.load(DY + cols, mask=mask, other=0).to(tl.float32)
    w = tl.load(W + cols, mask=mask).to(tl.float32)
    mean = tl.load(Mean + row)
    rstd = tl.load(Rstd + row)
    # Compute dx
    xhat = (x - mean) * rstd
    wdy = w * dy
    xhat = tl.where(mask, xhat, 0.)
    wdy = tl.where(mask, wdy, 0.)
    c1 = tl.sum(xhat * wdy, axis=0) / N
    c2 = tl.sum(wdy, axis=0) / N
    dx = (wdy - (xhat * c1 + c2)) * rstd
    # Write dx
    tl.store(DX + cols, dx, mask=mask)
    # Accumulate partial sums for dw/db
    partial_dw = (dy * xhat).to(w.dtype)
    partial_db = (dy).to(w.dtype)
    while tl.atomic_cas(Lock, 0, 1) == 1:
        pass
    count = tl.load(Count)
    # First store doesn't accumulate
    if count == 0:
        tl.atomic_xchg(Count, 1)
    else:
        partial_dw += tl.load(DW, mask=mask)
        partial_db += tl.load(DB, mask=mask)
    tl.store(DW, partial_dw, mask=mask)
    tl.store(DB, partial_db, mask=mask)

    # need a barrier to ensure all threads finished before
    # releasing the lock
    tl.debug_barrier()

    # Release the lock
    tl.atomic_xchg(Lock, 0)


@triton.jit
def _layer_norm_bwd_dwdb(DW,  # pointer to the partial sum of weights gradient
                         DB,  # pointer to the partial sum of biases gradient
                         FINAL_DW,  # pointer to the weights gradient
                         FINAL_DB,  # pointer to the biases gradient
                         M,  # GROUP_SIZE_M
                         N,  # number of columns
                         BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr):
    # Map the program id to the elements of DW and DB it should compute.
    pid = tl.program_id(0)
    cols = pid * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)
    dw = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
    db = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
    # Iterate through the rows of DW and DB to sum the partial sums.
    for i in range(0, M, BLOCK_SIZE_M):
        rows = i + tl.arange(0, BLOCK_SIZE_M)
        mask = (rows[:, None] < M) & (cols[None, :] < N)
        offs = rows[:, None] * N + cols[None, :]
        dw += tl.load(DW + offs, mask=mask, other=0.)
        db += tl.load(DB + offs, mask=mask, other=0.)
    # Write the final sum to the output.
    sum_dw = tl.sum(dw, axis=0)
    sum_db = tl.sum(db, axis=0)
    tl.store(FINAL_DW + cols, sum_dw, mask=cols < N)
    tl.store(FINAL_DB + cols, sum_db, mask=cols < N)
"#;

fn buf(v: &[f32]) -> Arg {
    Arg::Buf(bytes_of(v), F32)
}

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1e-3 * b.abs().max(1.0)
}

#[test]
fn tutorial_05_layer_norm_forward_and_backward() {
    let (m, n) = (6usize, 20usize);
    let eps = 1e-5f32;
    let x: Vec<f32> = (0..m * n)
        .map(|i| -2.3 + 0.5 * (((i * 37) % 23) as f32 / 11.0 - 1.0))
        .collect();
    let w: Vec<f32> = (0..n).map(|i| 0.5 + (i % 7) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..n).map(|i| (i % 5) as f32 * 0.2 - 0.3).collect();
    let dy: Vec<f32> = (0..m * n)
        .map(|i| 0.1 * (((i * 13) % 9) as f32 - 4.0))
        .collect();

    // Forward.
    let fwd = kernel(LAYER_NORM, "_layer_norm_fwd_fused");
    let mut args = vec![ptr(F32); 6];
    args.extend([scalar(I32), scalar(I32), scalar(F32), cint(32)]);
    let (f, _) = lower_ok(&fwd, &args);
    let (bufs, _) = interpret(
        &f,
        [m as u32, 1, 1],
        vec![
            buf(&x),
            buf(&vec![0.0; m * n]),
            buf(&w),
            buf(&b),
            buf(&vec![0.0; m]),
            buf(&vec![0.0; m]),
            Arg::Int(n as i64),
            Arg::Int(n as i64),
            Arg::Float(eps as f64),
            Arg::Absent,
        ],
    );
    let (y, mean, rstd) = (f32s(&bufs[1]), f32s(&bufs[4]), f32s(&bufs[5]));
    let mut xhat = vec![0f32; m * n];
    for r in 0..m {
        let row = &x[r * n..(r + 1) * n];
        let mu = row.iter().sum::<f32>() / n as f32;
        let var = row.iter().map(|v| (v - mu) * (v - mu)).sum::<f32>() / n as f32;
        let rs = 1.0 / (var + eps).sqrt();
        assert!(close(mean[r], mu) && close(rstd[r], rs), "row {r}");
        for c in 0..n {
            xhat[r * n + c] = (row[c] - mu) * rs;
            assert!(
                close(y[r * n + c], xhat[r * n + c] * w[c] + b[c]),
                "y[{r},{c}]"
            );
        }
    }

    // Backward, stage 1: dx and partial dw/db under a lock.
    let group = 2usize;
    let bwd = kernel(LAYER_NORM, "_layer_norm_bwd_dx_fused");
    let mut args = vec![ptr(F32); 8];
    args.extend([
        ptr(I32),
        scalar(I32),
        scalar(I32),
        cint(group as i64),
        cint(32),
    ]);
    let (f, text) = lower_ok(&bwd, &args);
    let mut kinds = Vec::new();
    f.walk(|op| kinds.push(f.ops[op].kind.clone()));
    assert!(kinds.contains(&OpKind::While), "{text}");
    assert!(kinds.iter().any(|k| matches!(k, OpKind::AtomicCas { .. })));
    assert!(kinds.iter().any(|k| matches!(
        k,
        OpKind::AtomicRmw {
            op: AtomicOp::Xchg,
            ..
        }
    )));
    let (bufs, _) = interpret(
        &f,
        [m as u32, 1, 1],
        vec![
            buf(&vec![0.0; m * n]),
            buf(&dy),
            buf(&vec![0.0; group * n]),
            buf(&vec![0.0; group * n]),
            buf(&x),
            buf(&w),
            buf(&mean),
            buf(&rstd),
            Arg::Buf(vec![0; 2 * group * 4], I32),
            Arg::Int(n as i64),
            Arg::Int(n as i64),
            Arg::Absent,
            Arg::Absent,
        ],
    );
    let (dx, pdw, pdb) = (f32s(&bufs[0]), bufs[2].clone(), bufs[3].clone());
    assert_eq!(
        i32s(&bufs[8]),
        vec![0, 0, 1, 1],
        "locks released, counts set"
    );
    for r in 0..m {
        let wdy: Vec<f32> = (0..n).map(|c| w[c] * dy[r * n + c]).collect();
        let xh = &xhat[r * n..(r + 1) * n];
        let c1 = xh.iter().zip(&wdy).map(|(a, b)| a * b).sum::<f32>() / n as f32;
        let c2 = wdy.iter().sum::<f32>() / n as f32;
        for c in 0..n {
            let want = (wdy[c] - (xh[c] * c1 + c2)) * rstd[r];
            assert!(close(dx[r * n + c], want), "dx[{r},{c}]");
        }
    }

    // Stage 2: sum the partial sums.
    let dwdb = kernel(LAYER_NORM, "_layer_norm_bwd_dwdb");
    let mut args = vec![ptr(F32); 4];
    args.extend([scalar(I32), scalar(I32), cint(32), cint(128)]);
    let (f, _) = lower_ok(&dwdb, &args);
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            Arg::Buf(pdw, F32),
            Arg::Buf(pdb, F32),
            buf(&vec![0.0; n]),
            buf(&vec![0.0; n]),
            Arg::Int(group as i64),
            Arg::Int(n as i64),
            Arg::Absent,
            Arg::Absent,
        ],
    );
    let (dw, db) = (f32s(&bufs[2]), f32s(&bufs[3]));
    for c in 0..n {
        let want_dw: f32 = (0..m).map(|r| dy[r * n + c] * xhat[r * n + c]).sum();
        let want_db: f32 = (0..m).map(|r| dy[r * n + c]).sum();
        assert!(close(dw[c], want_dw), "dw[{c}] {} vs {want_dw}", dw[c]);
        assert!(close(db[c], want_db), "db[{c}]");
    }
}

const ATOMICS: &str = r#"
@triton.jit
def atomics(p_ptr, i_ptr, old_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    old = tl.atomic_add(p_ptr + offs, 1.5, mask=offs < 3)
    tl.store(old_ptr + offs, old)
    tl.atomic_max(i_ptr + offs, offs * 2 - 3, sem="relaxed", scope="cta")
    tl.atomic_min(i_ptr + N, offs)
    tl.atomic_and(i_ptr + N + 1, 6)
    tl.atomic_or(i_ptr + N + 2, offs)
    tl.atomic_xor(i_ptr + N + 3, 5)
    o = tl.atomic_cas(i_ptr + N + 4, 7, 9)
    tl.store(i_ptr + N + 5, o)
"#;

#[test]
fn atomic_ops_run_and_return_old_values() {
    let k = kernel(ATOMICS, "atomics");
    let (f, text) = lower_ok(&k, &[ptr(F32), ptr(I32), ptr(F32), cint(4)]);
    let mut kinds = Vec::new();
    f.walk(|op| kinds.push(f.ops[op].kind.clone()));
    assert!(
        kinds.contains(&OpKind::AtomicRmw {
            op: AtomicOp::Max,
            has_mask: false,
            sem: tm_tile::MemSem::Relaxed,
            scope: tm_tile::MemScope::Cta
        }),
        "{text}"
    );
    insta::assert_snapshot!(text);
    let p = [1.0f32, 2.0, 3.0, 4.0];
    let ints = [0i32, 0, 10, 0, 100, 7, 3, 1, 7, 0];
    let (bufs, _) = interpret(
        &f,
        [1, 1, 1],
        vec![
            buf(&p),
            Arg::Buf(bytes_of(&ints), I32),
            buf(&[0.0; 4]),
            Arg::Absent,
        ],
    );
    assert_eq!(f32s(&bufs[0]), vec![2.5, 3.5, 4.5, 4.0]);
    assert_eq!(f32s(&bufs[2])[..3], [1.0, 2.0, 3.0]);
    // max(0,-3)=0, max(0,-1)=0, max(10,1)=10, max(0,3)=3; min(100, 0..3) = 0;
    // 7 & 6 = 6; 3 | 0|1|2|3 = 3; 1 ^ 5 = 4 (a scalar pointer: one op); cas 7 -> 9, old 7.
    assert_eq!(i32s(&bufs[1]), vec![0, 0, 10, 3, 0, 6, 3, 4, 9, 7]);
}

#[test]
fn atomic_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "tl.atomic_and(f_ptr, 1.0)",
            "atomic_and does not support fp32",
        ),
        (
            "tl.atomic_add(b_ptr, 1)",
            "atomic_add does not support int8",
        ),
        (
            "tl.atomic_add(f_ptr, 1.0, sem='sometimes')",
            "Memory semantic sometimes not supported",
        ),
        (
            "tl.atomic_add(f_ptr, 1.0, scope='galaxy')",
            "Memory scope galaxy not supported",
        ),
        (
            "tl.atomic_cas(b_ptr, 0, 1)",
            "atomic_cas only supports elements with width",
        ),
        ("tl.atomic_add(n, 1)", "Unsupported ptr type"),
    ];
    for (expr, want) in cases {
        let src = format!("@triton.jit\ndef k(f_ptr, b_ptr, n):\n    x = 1\n    z = {expr}\n");
        let e = lower_err(&kernel(&src, "k"), &[ptr(F32), ptr(I8), scalar(I32)]);
        let msg = e.to_string();
        assert!(msg.contains(want), "{expr}: {msg}");
        assert!(msg.contains(":4:"), "{expr}: {msg}");
    }
}
