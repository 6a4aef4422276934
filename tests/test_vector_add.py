"""Triton's tutorial 01 (vector addition): the kernel is copied unchanged apart from the
import, and must give exact results on every engine."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl


@triton.jit
def add_kernel(x_ptr,  # *Pointer* to first input vector.
               y_ptr,  # *Pointer* to second input vector.
               output_ptr,  # *Pointer* to output vector.
               n_elements,  # Size of the vector.
               BLOCK_SIZE: tl.constexpr,  # Number of elements each program should process.
               # NOTE: `constexpr` so it can be used as a shape value.
               ):
    # There are multiple 'programs' processing different data. We identify which program
    # we are here:
    pid = tl.program_id(axis=0)  # We use a 1D launch grid so axis is 0.
    # This program will process inputs that are offset from the initial data.
    # For instance, if you had a vector of length 256 and block_size of 64, the programs
    # would each access the elements [0:64, 64:128, 128:192, 192:256].
    # Note that offsets is a list of pointers:
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    # Create a mask to guard memory operations against out-of-bounds accesses.
    mask = offsets < n_elements
    # Load x and y from DRAM, masking out any extra elements in case the input is not a
    # multiple of the block size.
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    output = x + y
    # Write x + y back to DRAM.
    tl.store(output_ptr + offsets, output, mask=mask)


def add(x: np.ndarray, y: np.ndarray, block_size=1024):
    # The tutorial's host function, with numpy arrays in place of torch tensors.
    output = np.empty_like(x)
    n_elements = output.size
    grid = lambda meta: (triton.cdiv(n_elements, meta['BLOCK_SIZE']), )  # noqa: E731
    add_kernel[grid](x, y, output, n_elements, BLOCK_SIZE=block_size)
    return output


def _inputs(size, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(size, dtype=np.float32)
    y = rng.standard_normal(size, dtype=np.float32)
    return x, y


@pytest.mark.parametrize("size", [1, 1000, 98432, 2**20 + 3])
def test_tutorial_vector_add_is_exact(engine, size):
    x, y = _inputs(size)
    out = add(x, y)
    np.testing.assert_array_equal(out, x + y)


def test_vector_add_grid_above_65535_programs(engine):
    # 70000 programs of 16 elements: past wgpu's 65535 workgroups per dimension, so the
    # grid is folded into two hardware dimensions and unfolded in the kernel.
    block = 16
    programs = 70000
    size = programs * block - 5
    x, y = _inputs(size, seed=1)
    out = np.full_like(x, np.nan)
    add_kernel[(programs,)](x, y, out, size, BLOCK_SIZE=block, num_warps=1)
    np.testing.assert_array_equal(out, x + y)


def test_inputs_are_untouched_and_output_written_in_place(engine):
    x, y = _inputs(3000, seed=2)
    x0, y0 = x.copy(), y.copy()
    out = np.zeros_like(x)
    out_id = id(out)
    add_kernel[(triton.cdiv(3000, 256),)](x, y, out, 3000, BLOCK_SIZE=256)
    assert id(out) == out_id
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(out, x0 + y0)


def test_masked_tail_leaves_memory_past_n_alone(engine):
    x, y = _inputs(300, seed=3)
    out = np.full(300, -7.0, dtype=np.float32)
    add_kernel[(1,)](x, y, out, 200, BLOCK_SIZE=256)
    np.testing.assert_array_equal(out[:200], (x + y)[:200])
    np.testing.assert_array_equal(out[200:], np.full(100, -7.0, dtype=np.float32))


def test_same_array_as_input_and_output(engine):
    x, y = _inputs(1500, seed=4)
    expect = x + y
    add_kernel[(triton.cdiv(1500, 512),)](x, y, x, 1500, BLOCK_SIZE=512)
    np.testing.assert_array_equal(x, expect)


def test_compiled_kernels_are_cached_per_specialization(engine):
    x, y = _inputs(64, seed=5)
    out = np.empty_like(x)
    k1 = add_kernel[(1,)](x, y, out, 64, BLOCK_SIZE=64)
    k2 = add_kernel[(1,)](x, y, out, 64, BLOCK_SIZE=64)
    k3 = add_kernel[(1,)](x, y, out, 63, BLOCK_SIZE=64)  # 63 is not divisible by 16
    assert k1 is k2
    assert k3 is not k1
