"""tl.dot, after Triton's test_core (test_dot): f16, f32 and i8 inputs, M, N, K >= 16, with and
without an accumulator, out_dtype, input_precision, and a batched (3-D) dot. f32 inputs with
the default precision may use tf32 in Triton: those cases get tf32's tolerance."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

from conformance_helpers import assert_close, kernel_from_template, np_dtype, random_array, rng

DOT = """
@triton.jit
def conformance_kernel(C, A, B, ACC, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr):
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    rk = tl.arange(0, K)
    a = tl.load(A + rm[:, None] * K + rk[None, :])
    b = tl.load(B + rk[:, None] * N + rn[None, :])
    acc = tl.load(ACC + rm[:, None] * N + rn[None, :])
    c = EXPR
    tl.store(C + rm[:, None] * N + rn[None, :], c)
"""

SIZES = [(16, 16, 16), (32, 16, 64), (16, 64, 32), (64, 64, 64), (32, 32, 16)]

# (input dtype, accumulator/output dtype, expression, tolerance)
MODES = {
    "f16": ("float16", "float32", "tl.dot(a, b)", (1e-2, 1e-2)),
    "f16-acc": ("float16", "float32", "tl.dot(a, b, acc)", (1e-2, 1e-2)),
    "f16-out-f16": ("float16", "float16", "tl.dot(a, b, out_dtype=tl.float16)", (2e-2, 5e-2)),
    "f32-ieee": ("float32", "float32", "tl.dot(a, b, input_precision='ieee')", (1e-5, 1e-4)),
    "f32-ieee-acc": ("float32", "float32", "tl.dot(a, b, acc=acc, input_precision='ieee')", (1e-5, 1e-4)),
    "f32-tf32": ("float32", "float32", "tl.dot(a, b)", (1e-2, 2e-2)),
    "i8": ("int8", "int32", "tl.dot(a, b)", None),
    "i8-acc": ("int8", "int32", "tl.dot(a, b, acc)", None),
}


@pytest.mark.parametrize("mnk", SIZES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("mode", list(MODES))
def test_dot(engine, mode, mnk):
    m, n, k = mnk
    din, dout, expr, tol = MODES[mode]
    r = rng("dot", mode, mnk)
    if din == "int8":
        a = random_array(r, "int8", (m, k))
        b = random_array(r, "int8", (k, n))
        acc = random_array(r, "int32", (m, n), -1000, 1000)
    else:
        a = random_array(r, din, (m, k))
        b = random_array(r, din, (k, n))
        acc = random_array(r, dout, (m, n))
    kernel = kernel_from_template(DOT, EXPR=expr)
    c = np.zeros((m, n), np_dtype(dout))
    kernel[(1,)](c, a, b, acc, m, n, k)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    if "acc" in expr:
        expected = expected + acc
    if tol is None:
        assert_close(c, expected.astype(np.int64).astype(np.int32), dout)
    else:
        assert_close(c, expected, dout, rtol=tol[0], atol=tol[1] * np.sqrt(k))


@triton.jit
def batched_dot_kernel(C, A, B, BATCH: tl.constexpr, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr):
    rb = tl.arange(0, BATCH)[:, None, None]
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    rk = tl.arange(0, K)
    a = tl.load(A + rb * M * K + rm[None, :, None] * K + rk[None, None, :])
    b = tl.load(B + rb * K * N + rk[None, :, None] * N + rn[None, None, :])
    c = tl.dot(a, b, input_precision="ieee")
    tl.store(C + rb * M * N + rm[None, :, None] * N + rn[None, None, :], c)


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("batch", [2, 4])
def test_batched_dot(engine, batch, dtype):
    r = rng("bdot", batch, dtype)
    a = random_array(r, dtype, (batch, 16, 32))
    b = random_array(r, dtype, (batch, 32, 16))
    c = np.zeros((batch, 16, 16), np.float32)
    batched_dot_kernel[(1,)](c, a, b, batch, 16, 16, 32)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    assert_close(c, expected, "float32", rtol=1e-2, atol=1e-2)


@triton.jit
def matmul_loop_kernel(C, A, B, M: tl.constexpr, N: tl.constexpr, K, BLOCK_K: tl.constexpr):
    # A K loop accumulating block products, as every matmul kernel does.
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    rk = tl.arange(0, BLOCK_K)
    acc = tl.zeros([M, N], dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        a = tl.load(A + rm[:, None] * K + (k0 + rk)[None, :])
        b = tl.load(B + (k0 + rk)[:, None] * N + rn[None, :])
        acc += tl.dot(a, b)
    tl.store(C + rm[:, None] * N + rn[None, :], acc)


@pytest.mark.parametrize("k", [16, 64, 128])
def test_matmul_k_loop(engine, k):
    r = rng("kloop", k)
    a = random_array(r, "float16", (32, k))
    b = random_array(r, "float16", (k, 32))
    c = np.zeros((32, 32), np.float32)
    matmul_loop_kernel[(1,)](c, a, b, 32, 32, k, 16)
    assert_close(c, a.astype(np.float64) @ b.astype(np.float64), "float32", rtol=1e-2, atol=1e-2 * np.sqrt(k))


@triton.jit
def acc_loop_kernel(C, A, B, M, N, K, stride_am, stride_bk, stride_cm,
                    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    # `acc = tl.dot(a, b, acc)` carried by the K loop: on matrix units the accumulator stays
    # in matrix registers across the loop. Masked edges in M, N and K; the accumulator is
    # used after the loop by arithmetic and a cast.
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    acc = tl.zeros([BLOCK_M, BLOCK_N], dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        ka = k0 + rk
        a = tl.load(A + rm[:, None] * stride_am + ka[None, :],
                    mask=(rm[:, None] < M) & (ka[None, :] < K), other=0.0)
        b = tl.load(B + ka[:, None] * stride_bk + rn[None, :],
                    mask=(ka[:, None] < K) & (rn[None, :] < N), other=0.0)
        acc = tl.dot(a, b, acc)
    out = (acc * 0.5 + 1.0).to(tl.float16)
    tl.store(C + rm[:, None] * stride_cm + rn[None, :], out, mask=(rm[:, None] < M) & (rn[None, :] < N))


def small_ints(r, shape):
    # Integers in [-3, 3]: every product and partial sum is exact in f32, so the matrix path
    # (any summation order) must equal the FMA path and the reference bit for bit.
    return r.integers(-3, 4, size=shape).astype(np.float16)


@pytest.mark.parametrize("mnk,blocks", [
    ((50, 37, 70), (32, 32, 16, 4)),
    ((64, 64, 64), (32, 32, 32, 4)),
    ((17, 80, 9), (16, 32, 16, 4)),
    # Fewer matrix tiles than simdgroups: some hold none (guarded slots).
    ((30, 20, 40), (16, 16, 16, 8)),
], ids=lambda x: "x".join(map(str, x)))
def test_acc_loop_exact_on_awkward_shapes(engine, mnk, blocks):
    m, n, k = mnk
    bm, bn, bk, warps = blocks
    r = rng("accloop", mnk)
    a = small_ints(r, (m, k))
    b = small_ints(r, (k, n))
    c = np.full((m, n), np.nan, np.float16)
    grid = ((m + bm - 1) // bm, (n + bn - 1) // bn)
    acc_loop_kernel[grid](c, a, b, m, n, k, k, n, n, bm, bn, bk, num_warps=warps)
    ref = (a.astype(np.float64) @ b.astype(np.float64)) * 0.5 + 1.0
    np.testing.assert_array_equal(c, ref.astype(np.float16))


@triton.jit
def batched_acc_loop_kernel(C, A, B, K, BATCH: tl.constexpr, M: tl.constexpr, N: tl.constexpr,
                            BLOCK_K: tl.constexpr):
    rb = tl.arange(0, BATCH)[:, None, None]
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    rk = tl.arange(0, BLOCK_K)
    acc = tl.zeros([BATCH, M, N], dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        ka = k0 + rk
        a = tl.load(A + rb * M * K + rm[None, :, None] * K + ka[None, None, :],
                    mask=ka[None, None, :] < K, other=0.0)
        b = tl.load(B + rb * K * N + ka[None, :, None] * N + rn[None, None, :],
                    mask=ka[None, :, None] < K, other=0.0)
        acc = tl.dot(a, b, acc)
    tl.store(C + rb * M * N + rm[None, :, None] * N + rn[None, None, :], acc - 3.0)


@pytest.mark.parametrize("batch", [2, 4])
def test_batched_acc_loop_exact(engine, batch):
    r = rng("baccloop", batch)
    k = 40
    a = small_ints(r, (batch, 16, k))
    b = small_ints(r, (batch, k, 16))
    c = np.full((batch, 16, 16), np.nan, np.float32)
    batched_acc_loop_kernel[(1,)](c, a, b, k, batch, 16, 16, 16)
    ref = a.astype(np.float64) @ b.astype(np.float64) - 3.0
    np.testing.assert_array_equal(c, ref.astype(np.float32))


@triton.jit
def wrapped_offsets_kernel(C, A, B, M, N, K, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                           BLOCK_K: tl.constexpr):
    # Tutorial 03's `(pid * BLOCK + arange) % size` offsets with `acc += tl.dot(a, b)`: rows
    # and columns past the end wrap to the start. Every element is stored, wrapped ones
    # included, so a vector access that ran across the wrap would show.
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    offs_am = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)) % M
    offs_bn = (pid_n * BLOCK_N + tl.arange(0, BLOCK_N)) % N
    offs_k = tl.arange(0, BLOCK_K)
    a_ptrs = A + offs_am[:, None] * K + offs_k[None, :]
    b_ptrs = B + offs_k[:, None] * N + offs_bn[None, :]
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        a = tl.load(a_ptrs, mask=offs_k[None, :] < K - k * BLOCK_K, other=0.0)
        b = tl.load(b_ptrs, mask=offs_k[:, None] < K - k * BLOCK_K, other=0.0)
        acc += tl.dot(a, b)
        a_ptrs += BLOCK_K
        b_ptrs += BLOCK_K * N
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    tl.store(C + rm[:, None] * (tl.num_programs(1) * BLOCK_N) + rn[None, :], acc)


@pytest.mark.parametrize("mnk", [(80, 48, 48), (64, 32, 32)], ids=lambda x: "x".join(map(str, x)))
def test_wrapped_offsets_plus_equals_dot_exact(engine, mnk):
    # Sizes divisible by 16, so the wrap falls on a run boundary the axis facts can prove.
    m, n, k = mnk
    bm, bn, bk = 64, 64, 16
    r = rng("wrapped", mnk)
    a = small_ints(r, (m, k))
    b = small_ints(r, (k, n))
    gm, gn = (m + bm - 1) // bm, (n + bn - 1) // bn
    c = np.full((gm * bm, gn * bn), np.nan, np.float32)
    wrapped_offsets_kernel[(gm, gn)](c, a, b, m, n, k, bm, bn, bk, num_warps=4)
    rows = np.arange(gm * bm) % m
    cols = np.arange(gn * bn) % n
    ref = a.astype(np.float64)[rows] @ b.astype(np.float64)[:, cols]
    np.testing.assert_array_equal(c, ref.astype(np.float32))
