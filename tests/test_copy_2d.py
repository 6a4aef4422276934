"""2-D masked kernels: a strided matrix copy and a transpose, built with `[:, None]` /
`[None, :]` broadcasting and row and column masks, on non-power-of-two shapes."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl


@triton.jit
def copy_2d_kernel(src_ptr, dst_ptr, M, N,
                   stride_sm, stride_sn, stride_dm, stride_dn,
                   BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    src = src_ptr + rm[:, None] * stride_sm + rn[None, :] * stride_sn
    x = tl.load(src, mask=mask)
    dst = dst_ptr + rm[:, None] * stride_dm + rn[None, :] * stride_dn
    tl.store(dst, x, mask=mask)


@triton.jit
def padded_copy_kernel(src_ptr, dst_ptr, M, N, FILL: tl.constexpr,
                       BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    # Reads with `other` outside the matrix and writes whole blocks into a padded output.
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    x = tl.load(src_ptr + rm[:, None] * N + rn[None, :], mask=mask, other=FILL)
    width = tl.num_programs(1) * BLOCK_N
    tl.store(dst_ptr + rm[:, None] * width + rn[None, :], x)


DTYPES = [np.float32, np.float16, np.int32]
SHAPES = [(1, 1), (37, 53), (100, 3), (65, 129)]


def _matrix(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(-(2**31), 2**31 - 1, size=shape, dtype=dtype)
    return rng.standard_normal(shape).astype(dtype)


def _fill(dtype):
    return np.full((), 99, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_strided_copy(engine, shape, dtype):
    m, n = shape
    # Every other column of a wider matrix, into every third column of another one: the
    # kernel sees strides, the arrays stay contiguous.
    wide = _matrix((m, 2 * n), dtype, seed=m * 1000 + n)
    out = np.full((m, 3 * n), _fill(dtype), dtype=dtype)
    grid = lambda META: (triton.cdiv(m, META["BLOCK_M"]), triton.cdiv(n, META["BLOCK_N"]))  # noqa: E731
    copy_2d_kernel[grid](wide, out, m, n, 2 * n, 2, 3 * n, 3, BLOCK_M=16, BLOCK_N=32)
    expect = np.full((m, 3 * n), _fill(dtype), dtype=dtype)
    expect[:, ::3] = wide[:, ::2]
    np.testing.assert_array_equal(out, expect)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_transpose(engine, shape, dtype):
    m, n = shape
    a = _matrix((m, n), dtype, seed=m * 7 + n)
    out = np.zeros((n, m), dtype=dtype)
    grid = (triton.cdiv(m, 32), triton.cdiv(n, 16))
    copy_2d_kernel[grid](a, out, m, n, n, 1, 1, m, BLOCK_M=32, BLOCK_N=16)
    np.testing.assert_array_equal(out, a.T)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_masked_load_other_fills_outside(engine, dtype):
    m, n = 19, 27
    bm, bn = 8, 16
    a = _matrix((m, n), dtype, seed=11)
    gm, gn = triton.cdiv(m, bm), triton.cdiv(n, bn)
    out = np.zeros((gm * bm, gn * bn), dtype=dtype)
    padded_copy_kernel[(gm, gn)](a, out, m, n, FILL=99, BLOCK_M=bm, BLOCK_N=bn)
    expect = np.full(out.shape, 99, dtype=dtype)
    expect[:m, :n] = a
    np.testing.assert_array_equal(out, expect)
