"""One array passed as two pointer arguments, on every engine: as on Triton's GPUs, both
parameters see one memory. Only what GPUs define is tested: in-place kernels, one program
reading back through one pointer what it stored through the other after a barrier, writes
through both pointers to disjoint elements, and atomics through both pointers.

Each case runs with numpy arrays (copied in and out around the launch: the engines must
give an array passed twice one buffer) and with device tensors (on the GPU engine one
resident buffer bound twice). Identity is the same data pointer and length: partially
overlapping views are not merged, and are not tested here."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

KINDS = ["numpy", "tensor"]


def _make(arr, kind):
    return arr if kind == "numpy" else triton.tensor(arr)


def _host(x):
    return x if isinstance(x, np.ndarray) else x.numpy()


@triton.jit
def scale_kernel(X, OUT, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(OUT + offs, tl.load(X + offs, mask=mask) * 2, mask=mask)


@pytest.mark.parametrize("kind", KINDS)
def test_in_place_elementwise(engine, kind):
    n, block = 1000, 128
    data = np.arange(n, dtype=np.float32) - 300.5
    x = _make(data.copy(), kind)
    scale_kernel[(triton.cdiv(n, block),)](x, x, n, BLOCK=block)
    np.testing.assert_array_equal(_host(x), data * 2)


@triton.jit
def store_then_load_kernel(A, B, OUT, BLOCK: tl.constexpr):
    # Lanes read back what other lanes of the same program stored through the other pointer.
    base = tl.program_id(0) * BLOCK
    offs = base + tl.arange(0, BLOCK)
    tl.store(A + offs, offs * 3 + 1)
    tl.debug_barrier()
    tl.store(OUT + offs, tl.load(B + base + (BLOCK - 1 - tl.arange(0, BLOCK))))


@pytest.mark.parametrize("kind", KINDS)
def test_a_store_through_one_pointer_is_seen_through_the_other(engine, kind):
    programs, block = 4, 64
    n = programs * block
    x = _make(np.full(n, -7, np.int32), kind)
    out = _make(np.zeros(n, np.int32), kind)
    store_then_load_kernel[(programs,)](x, x, out, BLOCK=block)
    stored = np.arange(n, dtype=np.int32) * 3 + 1
    np.testing.assert_array_equal(_host(x), stored)
    reversed_in_block = stored.reshape(programs, block)[:, ::-1].reshape(n)
    np.testing.assert_array_equal(_host(out), reversed_in_block)


@triton.jit
def interleave_kernel(A, B, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(A + 2 * offs, offs + 1000)
    tl.store(B + 2 * offs + 1, -offs)


@pytest.mark.parametrize("kind", KINDS)
def test_writes_through_both_pointers_are_all_kept(engine, kind):
    programs, block = 8, 32
    n = programs * block
    x = _make(np.zeros(2 * n, np.int32), kind)
    interleave_kernel[(programs,)](x, x, BLOCK=block)
    want = np.empty(2 * n, np.int32)
    want[0::2] = np.arange(n) + 1000
    want[1::2] = -np.arange(n)
    np.testing.assert_array_equal(_host(x), want)


@triton.jit
def two_counters_kernel(A, B, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    tl.atomic_add(A + off % 4, 1)
    tl.atomic_add(B + off % 4, 1000)


@pytest.mark.parametrize("kind", KINDS)
def test_atomics_through_both_pointers_hit_one_counter(engine, kind):
    programs, block = 32, 64
    c = _make(np.full(4, 5, np.int32), kind)
    two_counters_kernel[(programs,)](c, c, BLOCK=block)
    np.testing.assert_array_equal(_host(c), np.full(4, 5 + programs * block // 4 * 1001, np.int32))
