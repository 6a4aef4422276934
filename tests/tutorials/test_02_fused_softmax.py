"""Triton's tutorial 02 (fused softmax): kernel unchanged apart from the import; the
tutorial's persistent launch (warmup, occupancy from the device properties) with numpy."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl
from triton_metal.runtime import driver

DEVICE = triton.runtime.driver.active.get_active_torch_device()


@triton.jit
def softmax_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_rows, n_cols, BLOCK_SIZE: tl.constexpr,
                   num_stages: tl.constexpr):
    # starting row of the program
    row_start = tl.program_id(0)
    row_step = tl.num_programs(0)
    for row_idx in tl.range(row_start, n_rows, row_step, num_stages=num_stages):
        # The stride represents how much we need to increase the pointer to advance 1 row
        row_start_ptr = input_ptr + row_idx * input_row_stride
        # The block size is the next power of two greater than n_cols, so we can fit each
        # row in a single block
        col_offsets = tl.arange(0, BLOCK_SIZE)
        input_ptrs = row_start_ptr + col_offsets
        # Load the row into SRAM, using a mask since BLOCK_SIZE may be > than n_cols
        mask = col_offsets < n_cols
        row = tl.load(input_ptrs, mask=mask, other=-float('inf'))
        # Subtract maximum for numerical stability
        row_minus_max = row - tl.max(row, axis=0)
        # Note that exponentiation in Triton is fast but approximate (i.e., think __expf in CUDA)
        numerator = tl.exp(row_minus_max)
        denominator = tl.sum(numerator, axis=0)
        softmax_output = numerator / denominator
        # Write back output to DRAM
        output_row_start_ptr = output_ptr + row_idx * output_row_stride
        output_ptrs = output_row_start_ptr + col_offsets
        tl.store(output_ptrs, softmax_output, mask=mask)


def softmax(x, num_warps=8):
    # The tutorial's host function with numpy; the properties are read per call because the
    # engine changes between test cases.
    properties = driver.active.utils.get_device_properties(DEVICE.index)
    NUM_SM = properties["multiprocessor_count"]
    NUM_REGS = properties["max_num_regs"]
    SIZE_SMEM = properties["max_shared_mem"]
    WARP_SIZE = properties["warpSize"]
    n_rows, n_cols = x.shape
    BLOCK_SIZE = triton.next_power_of_2(n_cols)
    num_stages = 4 if SIZE_SMEM > 200000 else 2
    y = np.empty_like(x)
    stride = x.strides[0] // x.itemsize
    kernel = softmax_kernel.warmup(y, x, stride, stride, n_rows, n_cols, BLOCK_SIZE=BLOCK_SIZE,
                                   num_stages=num_stages, num_warps=num_warps, grid=(1, ))
    kernel._init_handles()
    n_regs = kernel.n_regs
    size_smem = kernel.metadata.shared
    occupancy = NUM_REGS // (n_regs * WARP_SIZE * num_warps)
    # A kernel may declare no threadgroup memory (the interpreter's never do).
    if size_smem:
        occupancy = min(occupancy, SIZE_SMEM // size_smem)
    num_programs = NUM_SM * max(occupancy, 1)
    num_programs = min(num_programs, n_rows)
    kernel[(num_programs, 1, 1)](y, x, stride, stride, n_rows, n_cols, BLOCK_SIZE, num_stages)
    return y, num_programs


def _reference(x):
    z = x.astype(np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("shape", [(23, 81), (7, 256)])
def test_softmax(engine, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    y_triton, num_programs = softmax(x)
    assert 1 <= num_programs <= shape[0]
    np.testing.assert_allclose(y_triton, _reference(x), rtol=1e-5, atol=1e-6)


def test_softmax_persistent_loop_covers_every_row(engine):
    # Fewer programs than rows: each program loops over rows with a stride of num_programs.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((9, 33), dtype=np.float32)
    y = np.zeros_like(x)
    softmax_kernel[(2, 1, 1)](y, x, 33, 33, 9, 33, 64, 1, num_warps=2)
    np.testing.assert_allclose(y, _reference(x), rtol=1e-5, atol=1e-6)
