"""Triton's tutorial 04 (low-memory dropout): both kernels unchanged apart from the import.
The seeded kernel's mask is checked bit for bit against a numpy model of Triton's
``tl.rand`` (Philox 4x32-10)."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

DEVICE = triton.runtime.driver.active.get_active_torch_device()


@triton.jit
def _dropout(
    x_ptr,  # pointer to the input
    x_keep_ptr,  # pointer to a mask of 0s and 1s
    output_ptr,  # pointer to the output
    n_elements,  # number of elements in the `x` tensor
    p,  # probability that an element of `x` is changed to zero
    BLOCK_SIZE: tl.constexpr,
):
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    # Load data
    x = tl.load(x_ptr + offsets, mask=mask)
    x_keep = tl.load(x_keep_ptr + offsets, mask=mask)
    # The line below is the crucial part, described in the paragraph above!
    output = tl.where(x_keep, x / (1 - p), 0.0)
    # Write-back output
    tl.store(output_ptr + offsets, output, mask=mask)


def dropout(x, x_keep, p):
    output = np.empty_like(x)
    n_elements = x.size
    grid = lambda meta: (triton.cdiv(n_elements, meta['BLOCK_SIZE']), )  # noqa: E731
    _dropout[grid](x, x_keep, output, n_elements, p, BLOCK_SIZE=1024)
    return output


@triton.jit
def _seeded_dropout(
    x_ptr,
    output_ptr,
    n_elements,
    p,
    seed,
    BLOCK_SIZE: tl.constexpr,
):
    # compute memory offsets of elements handled by this instance
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    # load data from x
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    # randomly prune it
    random = tl.rand(seed, offsets)
    x_keep = random > p
    # write-back
    output = tl.where(x_keep, x / (1 - p), 0.0)
    tl.store(output_ptr + offsets, output, mask=mask)


def seeded_dropout(x, p, seed):
    output = np.empty_like(x)
    n_elements = x.size
    grid = lambda meta: (triton.cdiv(n_elements, meta['BLOCK_SIZE']), )  # noqa: E731
    _seeded_dropout[grid](x, output, n_elements, p, seed, BLOCK_SIZE=1024)
    return output


# -- a numpy model of triton.language.random (Philox 4x32, 10 rounds) ------------------------

_KEY_A, _KEY_B = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
_ROUND_A, _ROUND_B = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)


def _philox(seed, c0, n_rounds=10):
    c0 = c0.astype(np.uint32)
    c1 = np.zeros_like(c0)
    c2 = np.zeros_like(c0)
    c3 = np.zeros_like(c0)
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    k0 = np.uint32(seed & 0xFFFFFFFF)
    k1 = np.uint32(seed >> 32)
    with np.errstate(over="ignore"):
        for _ in range(n_rounds):
            p0 = _ROUND_A * c0.astype(np.uint64)
            p2 = _ROUND_B * c2.astype(np.uint64)
            n0 = (p2 >> np.uint64(32)).astype(np.uint32) ^ c1 ^ k0
            n2 = (p0 >> np.uint64(32)).astype(np.uint32) ^ c3 ^ k1
            c1 = p2.astype(np.uint32)
            c3 = p0.astype(np.uint32)
            c0, c2 = n0, n2
            k0 = np.uint32(k0 + _KEY_A)
            k1 = np.uint32(k1 + _KEY_B)
    return c0, c1, c2, c3


def _rand(seed, offsets):
    x = _philox(seed, offsets.astype(np.int32).view(np.uint32))[0].view(np.int32)
    x = np.where(x < 0, -x - 1, x)
    return x.astype(np.float32) * np.float32(4.6566127342e-10)


def test_dropout_with_mask(engine):
    rng = np.random.default_rng(0)
    n = 1500
    x = rng.standard_normal(n).astype(np.float32)
    p = 0.5
    x_keep = (rng.random(n) > p).astype(np.int32)
    output = dropout(x, x_keep=x_keep, p=p)
    expected = np.where(x_keep != 0, x / np.float32(1 - p), np.float32(0.0))
    np.testing.assert_array_equal(output, expected)


def test_seeded_dropout(engine):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(1500).astype(np.float32) + 3.0  # no zeros in the input
    output = seeded_dropout(x, p=0.5, seed=123)
    output2 = seeded_dropout(x, p=0.5, seed=123)
    output3 = seeded_dropout(x, p=0.5, seed=512)
    # The same seed gives the same mask; another seed another one.
    np.testing.assert_array_equal(output, output2)
    assert not np.array_equal(output, output3)
    kept = output != 0
    np.testing.assert_allclose(output[kept], x[kept] / 0.5, rtol=1e-6)
    assert 0.4 < kept.mean() < 0.6


@pytest.mark.parametrize("seed", [123, 512])
def test_seeded_dropout_matches_philox(engine, seed):
    x = np.ones(1500, dtype=np.float32)
    output = seeded_dropout(x, p=0.5, seed=seed)
    keep = _rand(seed, np.arange(1500)) > 0.5
    np.testing.assert_array_equal(output != 0, keep)
