"""Triton's random numbers (`tl.randint`, `tl.randint4x`, `tl.philox`, `tl.rand`, `tl.randn`)
against a numpy Philox written from the published algorithm (Salmon et al. 2011, Random123)
and checked here against Random123's known-answer vectors. Integers must match bit for bit,
`rand` exactly (one int-to-float conversion and one multiply, both correctly rounded), `randn`
to the precision of the device's log/sqrt/cos.

The functions themselves are the Triton-language standard library of the frontend
(crates/frontend/stdlib/random.py), compiled and inlined like user @jit functions.
"""

import importlib.util
import pathlib

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

# Philox4x32 round multipliers and Weyl key increments (Random123's philox.h).
ROUND_A_32, ROUND_B_32 = 0xD2511F53, 0xCD9E8D57
KEY_A_32, KEY_B_32 = 0x9E3779B9, 0xBB67AE85
# Philox4x64.
ROUND_A_64, ROUND_B_64 = 0xD2E7470EE14C6C93, 0xCA5A826395121157
KEY_A_64, KEY_B_64 = 0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B

MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF


def philox4x32(c0, c1, c2, c3, k0, k1, n_rounds=10):
    """Philox4x32 on uint32 arrays (broadcast together); returns four uint32 arrays."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint32) for c in (c0, c1, c2, c3))
    c0, c1, c2, c3 = np.broadcast_arrays(c0, c1, c2, c3)
    k0 = np.full(c0.shape, k0, dtype=np.uint32)
    k1 = np.full(c0.shape, k1, dtype=np.uint32)
    with np.errstate(over="ignore"):  # the key schedule wraps by design
        for _ in range(n_rounds):
            prod_a = c0.astype(np.uint64) * np.uint64(ROUND_A_32)
            prod_b = c2.astype(np.uint64) * np.uint64(ROUND_B_32)
            c0, c1, c2, c3 = (
                (prod_b >> np.uint64(32)).astype(np.uint32) ^ c1 ^ k0,
                (prod_b & np.uint64(MASK32)).astype(np.uint32),
                (prod_a >> np.uint64(32)).astype(np.uint32) ^ c3 ^ k1,
                (prod_a & np.uint64(MASK32)).astype(np.uint32),
            )
            k0 = k0 + np.uint32(KEY_A_32)
            k1 = k1 + np.uint32(KEY_B_32)
    return c0, c1, c2, c3


def philox4x64_scalar(c, k, n_rounds=10):
    """Philox4x64 on Python ints (one counter), for the 64-bit offsets path."""
    c0, c1, c2, c3 = c
    k0, k1 = k
    for _ in range(n_rounds):
        prod_a = c0 * ROUND_A_64
        prod_b = c2 * ROUND_B_64
        c0, c1, c2, c3 = (
            (prod_b >> 64) ^ c1 ^ k0,
            prod_b & MASK64,
            (prod_a >> 64) ^ c3 ^ k1,
            prod_a & MASK64,
        )
        k0 = (k0 + KEY_A_64) & MASK64
        k1 = (k1 + KEY_B_64) & MASK64
    return c0, c1, c2, c3


def seed_key(seed):
    """Triton widens the seed to uint64 (sign-extending) and keys with its halves."""
    s = seed & MASK64
    return s & MASK32, s >> 32


def randint4x_ref(seed, offsets, n_rounds=10):
    k0, k1 = seed_key(seed)
    offs = np.asarray(offsets).astype(np.int64).astype(np.uint32)  # bitcast of int32
    return philox4x32(offs, 0, 0, 0, k0, k1, n_rounds)


def uint_to_uniform_float_ref(x):
    x = np.asarray(x, dtype=np.uint32).view(np.int32)
    x = np.where(x < 0, ~x, x)  # -x - 1, without overflow at INT_MIN
    return x.astype(np.float32) * np.float32(4.6566127342e-10)


def pair_uniform_to_normal_ref(u1, u2):
    u1 = np.maximum(np.float32(1.0e-7), u1)
    th = np.float32(6.283185307179586) * u2
    r = np.sqrt(np.float32(-2.0) * np.log(u1))
    return r * np.cos(th), r * np.sin(th)


# --- the reference itself -------------------------------------------------------------

KAT_4X32_10 = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    (
        (MASK32, MASK32, MASK32, MASK32),
        (MASK32, MASK32),
        (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD),
    ),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]

KAT_4X64_10 = [
    (
        (0, 0, 0, 0),
        (0, 0),
        (0x16554D9ECA36314C, 0xDB20FE9D672D0FDC, 0xD7E772CEE186176B, 0x7E68B68AEC7BA23B),
    ),
    (
        (0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89),
        (0x452821E638D01377, 0xBE5466CF34E90C6C),
        (0xA528F45403E61D95, 0x38C72DBD566E9788, 0xA5A1610E72FD18B5, 0x57BD43B5E52B7FE6),
    ),
]


@pytest.mark.parametrize("ctr, key, want", KAT_4X32_10)
def test_reference_philox4x32_known_answers(ctr, key, want):
    got = philox4x32(*ctr, *key)
    assert tuple(int(g) for g in got) == want


@pytest.mark.parametrize("ctr, key, want", KAT_4X64_10)
def test_reference_philox4x64_known_answers(ctr, key, want):
    assert philox4x64_scalar(ctr, key) == want


# --- the stdlib's own source, run eagerly on numpy (no compiler involved) -----------------


def _eager_random():
    path = pathlib.Path(__file__).resolve().parent.parent / "crates/frontend/stdlib/model/eager.py"
    spec = importlib.util.spec_from_file_location("stdlib_eager_model", path)
    eager = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(eager)
    return eager, eager.load("random")


@pytest.mark.parametrize("seed", [0, 42, 0xFFFFFFFF, 0x0000000FCAFEB0BA, -7])
def test_stdlib_source_is_the_reference(seed):
    eager, rnd = _eager_random()
    offs = np.arange(1000, dtype=np.int32)
    want = randint4x_ref(seed, offs)
    got = rnd.randint4x(seed, eager.T(offs))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(eager.un(g), w)
    np.testing.assert_array_equal(eager.un(rnd.randint(seed, eager.T(offs))), want[0])
    np.testing.assert_array_equal(eager.un(rnd.rand(seed, eager.T(offs))), uint_to_uniform_float_ref(want[0]))
    n1, _ = pair_uniform_to_normal_ref(uint_to_uniform_float_ref(want[0]), uint_to_uniform_float_ref(want[1]))
    np.testing.assert_allclose(eager.un(rnd.randn(seed, eager.T(offs))), n1, rtol=1e-6, atol=1e-6)
    # Fewer rounds are a different function, still Philox's.
    got7 = rnd.randint(seed, eager.T(offs), 7)
    np.testing.assert_array_equal(eager.un(got7), randint4x_ref(seed, offs, n_rounds=7)[0])


def test_stdlib_source_64_bit_offsets_are_philox4x64():
    eager, rnd = _eager_random()
    seed = 0x0000000FCAFEB0BA
    offs = np.arange(40, dtype=np.int64) * 0x100000001
    got = eager.un(rnd.randint(seed, eager.T(offs)))
    want = [philox4x64_scalar((int(o), 0, 0, 0), (seed, 0))[0] for o in offs]
    np.testing.assert_array_equal(got.reshape(-1), np.array(want, dtype=np.uint64))


# --- kernels ----------------------------------------------------------------------------

BLOCK = 128


@triton.jit
def randint_kernel(X, N, seed, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offset = pid * BLOCK + tl.arange(0, BLOCK)
    rand = tl.randint(seed, offset)
    tl.store(X + offset, rand, mask=offset < N)


@triton.jit
def randint_const_seed_kernel(X, N, seed: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offset = pid * BLOCK + tl.arange(0, BLOCK)
    rand = tl.randint(seed, offset)
    tl.store(X + offset, rand, mask=offset < N)


@triton.jit
def randint4x_kernel(X0, X1, X2, X3, N, seed, BLOCK: tl.constexpr):
    offset = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    r0, r1, r2, r3 = tl.randint4x(seed, offset)
    mask = offset < N
    tl.store(X0 + offset, r0, mask=mask)
    tl.store(X1 + offset, r1, mask=mask)
    tl.store(X2 + offset, r2, mask=mask)
    tl.store(X3 + offset, r3, mask=mask)


@triton.jit
def philox_kernel(X0, X1, X2, X3, N, seed, n_rounds: tl.constexpr, BLOCK: tl.constexpr):
    offset = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    r0, r1, r2, r3 = tl.philox(seed, offset, offset * 3, offset ^ 5, 7, n_rounds)
    mask = offset < N
    tl.store(X0 + offset, r0, mask=mask)
    tl.store(X1 + offset, r1, mask=mask)
    tl.store(X2 + offset, r2, mask=mask)
    tl.store(X3 + offset, r3, mask=mask)


@triton.jit
def rand_kernel(X, N, seed, BLOCK: tl.constexpr):
    offset = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    rand = tl.rand(seed, offset)
    tl.store(X + offset, rand, mask=offset < N)


@triton.jit
def randn_kernel(X, N, seed, BLOCK: tl.constexpr):
    offset = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    rand = tl.randn(seed, offset)
    tl.store(X + offset, rand, mask=offset < N)


@triton.jit
def randint64_kernel(X, N, seed, BLOCK: tl.constexpr):
    offset = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    rand = tl.randint(seed, offset)
    tl.store(X + offset, rand, mask=offset < N)


SEEDS = [0, 42, 124, 54, 0xFFFFFFFF, 0x0000000FCAFEB0BA, -7]
SIZES = [10, 1000, 4 * BLOCK + 3]


def _grid(n):
    return (triton.cdiv(n, BLOCK),)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("size", SIZES)
def test_randint_is_bit_exact(engine, size, seed):
    x = np.zeros(size, dtype=np.uint32)
    randint_kernel[_grid(size)](x, size, seed, BLOCK=BLOCK)
    want, _, _, _ = randint4x_ref(seed, np.arange(size))
    np.testing.assert_array_equal(x, want)


@pytest.mark.parametrize("seed", [0, 42, 0x0000000FCAFEB0BA, -7])
def test_randint_with_constexpr_seed(engine, seed):
    size = 300
    x = np.zeros(size, dtype=np.uint32)
    randint_const_seed_kernel[_grid(size)](x, size, seed, BLOCK=BLOCK)
    want, _, _, _ = randint4x_ref(seed, np.arange(size))
    np.testing.assert_array_equal(x, want)


@pytest.mark.parametrize("seed", [1, 0xFFFFFFFF, -123456789])
def test_randint4x_is_bit_exact(engine, seed):
    size = 2 * BLOCK + 17
    outs = [np.zeros(size, dtype=np.uint32) for _ in range(4)]
    randint4x_kernel[_grid(size)](*outs, size, seed, BLOCK=BLOCK)
    want = randint4x_ref(seed, np.arange(size))
    for got, w in zip(outs, want):
        np.testing.assert_array_equal(got, w)
    # The four words are different streams.
    assert len({int(o[5]) for o in outs}) == 4


@pytest.mark.parametrize("n_rounds", [10, 7])
def test_philox_with_a_full_counter(engine, n_rounds):
    size, seed = 500, 0x123456789
    outs = [np.zeros(size, dtype=np.uint32) for _ in range(4)]
    philox_kernel[_grid(size)](*outs, size, seed, n_rounds=n_rounds, BLOCK=BLOCK)
    offs = np.arange(size, dtype=np.int64)
    k0, k1 = seed_key(seed)
    want = philox4x32(offs, offs * 3, offs ^ 5, 7, k0, k1, n_rounds)
    for got, w in zip(outs, want):
        np.testing.assert_array_equal(got, w)


@pytest.mark.parametrize("seed", [0, 42, 0x0000000FCAFEB0BA])
def test_rand_matches_the_reference_and_stays_in_unit_interval(engine, seed):
    size = 10 * BLOCK
    x = np.zeros(size, dtype=np.float32)
    rand_kernel[_grid(size)](x, size, seed, BLOCK=BLOCK)
    words, _, _, _ = randint4x_ref(seed, np.arange(size))
    np.testing.assert_array_equal(x, uint_to_uniform_float_ref(words))
    assert x.min() >= 0.0 and x.max() < 1.0
    assert abs(float(x.mean()) - 0.5) < 0.03


@pytest.mark.parametrize("seed", [0, 42, 0x0000000FCAFEB0BA])
def test_randn_matches_box_muller_of_the_reference(engine, seed):
    size = 10 * BLOCK
    x = np.zeros(size, dtype=np.float32)
    randn_kernel[_grid(size)](x, size, seed, BLOCK=BLOCK)
    i1, i2, _, _ = randint4x_ref(seed, np.arange(size))
    want, _ = pair_uniform_to_normal_ref(uint_to_uniform_float_ref(i1), uint_to_uniform_float_ref(i2))
    np.testing.assert_allclose(x, want, rtol=1e-4, atol=1e-4)
    assert abs(float(x.mean())) < 0.1
    assert abs(float(x.std()) - 1.0) < 0.1


def test_randint_with_64_bit_offsets_is_philox4x64(engine):
    size, seed = 2 * BLOCK + 5, 0x0000000FCAFEB0BA
    x = np.zeros(size, dtype=np.uint64)
    randint64_kernel[_grid(size)](x, size, seed, BLOCK=BLOCK)
    # 64-bit counters: key (seed, 0), counter (offset, 0, 0, 0).
    want = [philox4x64_scalar((i, 0, 0, 0), (seed & MASK64, 0))[0] for i in range(size)]
    np.testing.assert_array_equal(x, np.array(want, dtype=np.uint64))
