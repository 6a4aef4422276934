"""Loads and stores, after Triton's test_core (masked_load, load/store with other, strided and
gathered addresses, 2-D pointer tiles built with `[:, None]`/`[None, :]`): every dtype,
non-power-of-two sizes, several programs, several warp counts. Elements a masked store must
not touch are checked to be untouched."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

from conformance_helpers import (
    DTYPES,
    assert_close,
    is_float,
    is_unsigned,
    kernel_from_template,
    np_dtype,
    random_array,
    rng,
)

MEM_DTYPES = DTYPES + ["int1"]
SIZES = [1, 17, 100, 128]


def _sentinel(dtype):
    return np.array(True if dtype == "int1" else 5, dtype=np_dtype(dtype))


@triton.jit
def masked_load_other_kernel(Z, X, n, OTHER: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    x = tl.load(X + off, mask=off < n, other=OTHER)
    tl.store(Z + off, x)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", MEM_DTYPES)
def test_masked_load_other(engine, dtype, n):
    # `other` fills the masked-off lanes, converted to the loaded dtype.
    other = True if dtype == "int1" else (3 if not is_float(dtype) else -1.5)
    x = random_array(rng("mlo", dtype, n), dtype, n)
    z = np.zeros(128, dtype=np_dtype(dtype))
    masked_load_other_kernel[(1,)](z, x, n, other, 128)
    expected = np.full(128, other, dtype=np_dtype(dtype))
    expected[:n] = x
    assert_close(z, expected, dtype, msg=f"masked load of {n} {dtype} on {engine}")


@triton.jit
def masked_load_no_other_kernel(Z, X, n, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    mask = off < n
    x = tl.load(X + off, mask=mask)
    tl.store(Z + off, x, mask=mask)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", MEM_DTYPES)
def test_masked_load_store(engine, dtype, n):
    # The array is exactly n long: the masked-off lanes must not be read or written.
    x = random_array(rng("mls", dtype, n), dtype, n)
    z = np.full(n, _sentinel(dtype))
    masked_load_no_other_kernel[(1,)](z, x, n, 128)
    assert_close(z, x, dtype)


@triton.jit
def masked_store_kernel(Z, X, lo, hi, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    x = tl.load(X + off)
    tl.store(Z + off, x, mask=(off >= lo) & (off < hi))


@pytest.mark.parametrize("lo, hi", [(0, 0), (0, 128), (5, 77), (127, 128), (64, 32)])
@pytest.mark.parametrize("dtype", MEM_DTYPES)
def test_masked_store_leaves_other_elements(engine, dtype, lo, hi):
    x = random_array(rng("ms", dtype, lo, hi), dtype, 128)
    z = np.full(128, _sentinel(dtype))
    masked_store_kernel[(1,)](z, x, lo, hi, 128)
    expected = np.full(128, _sentinel(dtype))
    expected[lo:hi] = x[lo:hi]
    assert_close(z, expected, dtype)


@triton.jit
def strided_constexpr_kernel(Z, X, n, STRIDE: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    mask = off < n
    x = tl.load(X + off * STRIDE, mask=mask)
    tl.store(Z + off, x, mask=mask)


@triton.jit
def strided_runtime_kernel(Z, X, n, stride, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    mask = off < n
    x = tl.load(X + off * stride, mask=mask)
    tl.store(Z + off * stride, x, mask=mask)


@pytest.mark.parametrize("stride", [1, 2, 3, 7])
@pytest.mark.parametrize("dtype", MEM_DTYPES)
@pytest.mark.parametrize("form", ["constexpr", "runtime"])
def test_strided(engine, form, dtype, stride):
    n = 50
    x = random_array(rng("strided", form, dtype, stride), dtype, n * stride)
    if form == "constexpr":
        z = np.full(n, _sentinel(dtype))
        strided_constexpr_kernel[(1,)](z, x, n, stride, 64)
        assert_close(z, x[::stride], dtype)
    else:
        # Strided stores too: the gaps keep their old values.
        z = np.full(n * stride, _sentinel(dtype))
        strided_runtime_kernel[(1,)](z, x, n, stride, 64)
        expected = np.full(n * stride, _sentinel(dtype))
        expected[::stride] = x[::stride]
        assert_close(z, expected, dtype)


@triton.jit
def gather_kernel(Z, X, I, n, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    mask = off < n
    idx = tl.load(I + off, mask=mask, other=0)
    x = tl.load(X + idx, mask=mask)
    tl.store(Z + off, x, mask=mask)


@triton.jit
def scatter_kernel(Z, X, I, n, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    mask = off < n
    idx = tl.load(I + off, mask=mask, other=0)
    x = tl.load(X + off, mask=mask)
    tl.store(Z + idx, x, mask=mask)


@pytest.mark.parametrize("idx_dtype", ["int32", "int64", "uint32", "int16"])
@pytest.mark.parametrize("dtype", MEM_DTYPES)
def test_gather(engine, dtype, idx_dtype):
    n = 100
    r = rng("gather", dtype, idx_dtype)
    x = random_array(r, dtype, 300)
    idx = r.integers(0, 300, size=n).astype(np_dtype(idx_dtype))  # repeats allowed
    z = np.full(n, _sentinel(dtype))
    gather_kernel[(1,)](z, x, idx, n, 128)
    assert_close(z, x[idx.astype(np.int64)], dtype)


@pytest.mark.parametrize("idx_dtype", ["int32", "int64"])
@pytest.mark.parametrize("dtype", MEM_DTYPES)
def test_scatter(engine, dtype, idx_dtype):
    n = 100
    r = rng("scatter", dtype, idx_dtype)
    x = random_array(r, dtype, n)
    idx = r.permutation(200)[:n].astype(np_dtype(idx_dtype))  # distinct targets
    z = np.full(200, _sentinel(dtype))
    scatter_kernel[(1,)](z, x, idx, n, 128)
    expected = np.full(200, _sentinel(dtype))
    expected[idx.astype(np.int64)] = x
    assert_close(z, expected, dtype)


@triton.jit
def tile_2d_kernel(Z, X, M, N, stride_xm, stride_xn, stride_zm, stride_zn,
                   BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    rm = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    x = tl.load(X + rm[:, None] * stride_xm + rn[None, :] * stride_xn, mask=mask)
    tl.store(Z + rm[:, None] * stride_zm + rn[None, :] * stride_zn, x, mask=mask)


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (16, 16), (33, 17), (7, 64)])
@pytest.mark.parametrize("dtype", MEM_DTYPES)
@pytest.mark.parametrize("transpose", [False, True], ids=["copy", "transpose"])
def test_2d_tile(engine, dtype, shape, transpose):
    m, n = shape
    x = random_array(rng("tile", dtype, shape), dtype, (m, n))
    if transpose:
        z = np.full((n, m), _sentinel(dtype))
        strides_z = (1, m)  # z[j, i] = x[i, j]
        expected = x.T
    else:
        z = np.full((m, n), _sentinel(dtype))
        strides_z = (n, 1)
        expected = x
    grid = (triton.cdiv(m, 16), triton.cdiv(n, 8))
    tile_2d_kernel[grid](z, x, m, n, n, 1, *strides_z, BLOCK_M=16, BLOCK_N=8)
    assert_close(z, expected, dtype)


@triton.jit
def broadcast_row_col_kernel(Z, R, C, M: tl.constexpr, N: tl.constexpr):
    # z[i, j] = r[j] + c[i]: a row and a column broadcast to a tile.
    i = tl.arange(0, M)
    j = tl.arange(0, N)
    r = tl.load(R + j)
    c = tl.load(C + i)
    z = r[None, :] + c[:, None]
    tl.store(Z + i[:, None] * N + j[None, :], z)


@pytest.mark.parametrize("mn", [(1, 8), (8, 1), (4, 32), (32, 4), (16, 16)])
@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint16", "float16", "float32"])
def test_broadcast_row_plus_column(engine, dtype, mn):
    m, n = mn
    r = rng("bcast-rc", dtype, mn)
    lo, hi = (-50, 50) if not is_unsigned(dtype) else (0, 100)
    row = random_array(r, dtype, n, lo, hi)
    col = random_array(r, dtype, m, lo, hi)
    z = np.zeros((m, n), dtype=np_dtype(dtype))
    broadcast_row_col_kernel[(1,)](z, row, col, m, n)
    assert_close(z, row[None, :] + col[:, None], dtype)


@triton.jit
def multi_program_copy_kernel(Z, X, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    off = pid * BLOCK + tl.arange(0, BLOCK)
    mask = off < n
    tl.store(Z + off, tl.load(X + off, mask=mask), mask=mask)


@pytest.mark.parametrize("num_warps", [1, 2, 4, 8])
@pytest.mark.parametrize("block", [16, 64, 512])
@pytest.mark.parametrize("dtype", ["int8", "float16", "float32", "int64", "int1"])
def test_copy_blocks_and_warps(engine, dtype, block, num_warps):
    # Fewer elements than threads, as many, and more: every layout of a 1-D block.
    n = 3 * block - 5
    x = random_array(rng("copy", dtype, block, num_warps), dtype, n)
    z = np.full(n, _sentinel(dtype))
    multi_program_copy_kernel[(triton.cdiv(n, block),)](z, x, n, block, num_warps=num_warps)
    assert_close(z, x, dtype)


@triton.jit
def pointer_forms_kernel(Z, X, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    a = tl.load(off + X)          # offset on the left
    b = tl.load(X + 3)            # a scalar load
    p = X + off
    c = tl.load(p + 1 - 1)        # arithmetic on a tensor of pointers
    tl.store(off + Z, a + b + c)
    tl.store(Z + BLOCK, b)        # a scalar store


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float16", "uint8"])
def test_pointer_arithmetic_forms(engine, dtype):
    x = random_array(rng("ptr", dtype), dtype, 64, 0, 40)
    z = np.zeros(65, dtype=np_dtype(dtype))
    pointer_forms_kernel[(1,)](z, x, 64)
    expected = np.empty(65, dtype=np_dtype(dtype))
    expected[:64] = x + x[3] + x
    expected[64] = x[3]
    assert_close(z, expected, dtype)


@triton.jit
def int64_offsets_kernel(Z, X, base, BLOCK: tl.constexpr):
    off = base + tl.arange(0, BLOCK).to(tl.int64)
    tl.store(Z + off, tl.load(X + off) * 2)


@pytest.mark.parametrize("dtype", ["int32", "float32", "int8"])
def test_int64_offsets(engine, dtype):
    x = random_array(rng("i64off", dtype), dtype, 200, -50, 50)
    z = np.zeros(200, dtype=np_dtype(dtype))
    int64_offsets_kernel[(1,)](z, x, 64, 128)
    expected = np.zeros(200, dtype=np_dtype(dtype))
    expected[64:192] = x[64:192] * 2
    assert_close(z, expected, dtype)
