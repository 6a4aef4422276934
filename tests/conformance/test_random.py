"""Random numbers, after Triton's test_random.py: tl.randint/randint4x are bit-exact with a
numpy Philox-4x32-10 reference written from Triton's `random.py` (key = seed split into two
32-bit words, counter = (offset, 0, 0, 0)); tl.rand and tl.randn follow from it by Triton's
conversions (within float tolerance, as randn uses log/sqrt/cos)."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

from conformance_helpers import assert_close, kernel_from_template

M32 = np.uint64(0xFFFFFFFF)
ROUND_A, ROUND_B = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
KEY_A, KEY_B = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)


def philox_4x32(c0, c1, c2, c3, k0, k1, rounds=10):
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) & M32 for c in (c0, c1, c2, c3))
    k0, k1 = np.uint64(k0) & M32, np.uint64(k1) & M32
    for _ in range(rounds):
        p0 = ROUND_B * c2  # both < 2**32: the product fits in 64 bits
        p1 = ROUND_A * c0
        c0, c1, c2, c3 = (
            ((p0 >> np.uint64(32)) ^ c1 ^ k0) & M32,
            p0 & M32,
            ((p1 >> np.uint64(32)) ^ c3 ^ k1) & M32,
            p1 & M32,
        )
        k0 = (k0 + KEY_A) & M32
        k1 = (k1 + KEY_B) & M32
    return [c.astype(np.uint32) for c in (c0, c1, c2, c3)]


def randint4x_ref(seed, offsets, rounds=10):
    seed = np.uint64(seed)
    zero = np.zeros_like(offsets, dtype=np.uint64)
    return philox_4x32(offsets.astype(np.uint32).astype(np.uint64), zero, zero, zero,
                       seed & M32, seed >> np.uint64(32), rounds)


def uint_to_uniform(x):
    x = x.view(np.int32)
    x = np.where(x < 0, -x - 1, x)
    return (x.astype(np.float32) * np.float32(4.6566127342e-10)).astype(np.float32)


def randn_ref(seed, offsets):
    i1, i2, _, _ = randint4x_ref(seed, offsets)
    u1 = np.maximum(np.float32(1e-7), uint_to_uniform(i1)).astype(np.float64)
    u2 = uint_to_uniform(i2).astype(np.float64)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(6.283185307179586 * u2)


RANDOM = """
@triton.jit
def conformance_kernel(Z, seed, base, BLOCK: tl.constexpr):
    off = base + tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    z = EXPR
    tl.store(Z + off - base, z)
"""

SEEDS = [0, 1, 42, 2**32 + 17, 2**40 - 3]
BASES = [0, 1000, 2**31 - 4096]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("seed", SEEDS)
def test_randint(engine, seed, base):
    kernel = kernel_from_template(RANDOM, EXPR="tl.randint(seed, off)")
    z = np.zeros(256, np.uint32)
    kernel[(2,)](z, seed, base, 128)
    expected = randint4x_ref(seed, np.arange(base, base + 256, dtype=np.int64))[0]
    np.testing.assert_array_equal(z, expected)


RANDINT4X = """
@triton.jit
def conformance_kernel(Z0, Z1, Z2, Z3, seed, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    a, b, c, d = tl.randint4x(seed, off)
    tl.store(Z0 + off, a)
    tl.store(Z1 + off, b)
    tl.store(Z2 + off, c)
    tl.store(Z3 + off, d)
"""


@pytest.mark.parametrize("seed", SEEDS)
def test_randint4x(engine, seed):
    kernel = kernel_from_template(RANDINT4X)
    outs = [np.zeros(128, np.uint32) for _ in range(4)]
    kernel[(1,)](*outs, seed, 128)
    for got, want in zip(outs, randint4x_ref(seed, np.arange(128))):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("rounds", [1, 7, 10])
def test_philox_rounds(engine, rounds):
    kernel = kernel_from_template(RANDOM, EXPR=f"tl.randint(seed, off, n_rounds={rounds})")
    z = np.zeros(128, np.uint32)
    kernel[(1,)](z, 7, 0, 128)
    np.testing.assert_array_equal(z, randint4x_ref(7, np.arange(128), rounds)[0])


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("seed", SEEDS)
def test_rand(engine, seed, base):
    kernel = kernel_from_template(RANDOM, EXPR="tl.rand(seed, off)")
    z = np.zeros(256, np.float32)
    kernel[(2,)](z, seed, base, 128)
    expected = uint_to_uniform(randint4x_ref(seed, np.arange(base, base + 256, dtype=np.int64))[0])
    assert_close(z, expected, "float32")
    assert (z >= 0).all() and (z < 1).all()


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("seed", SEEDS)
def test_randn(engine, seed, base):
    kernel = kernel_from_template(RANDOM, EXPR="tl.randn(seed, off)")
    z = np.zeros(256, np.float32)
    kernel[(2,)](z, seed, base, 128)
    expected = randn_ref(seed, np.arange(base, base + 256, dtype=np.int64))
    assert_close(z, expected, "float32", rtol=1e-4, atol=1e-4)


def test_rand_distribution(engine):
    kernel = kernel_from_template(RANDOM, EXPR="tl.rand(seed, off)")
    z = np.zeros(128 * 64, np.float32)
    kernel[(64,)](z, 123, 0, 128)
    # Uniform on [0, 1): mean 1/2, variance 1/12, and no repeated values in 8192 draws.
    assert abs(z.mean() - 0.5) < 0.02
    assert abs(z.var() - 1 / 12) < 0.01
    assert len(np.unique(z)) > 8000
