"""Triton's counter-based random numbers (``triton.language.random``), written again for
triton-metal from their documented semantics: Philox4x32-10 (Salmon et al., "Parallel random
numbers: as easy as 1, 2, 3", SC 2011) keyed by the seed and counting by the offset, so that
results match Triton's bit for bit.

Compiled like any user ``@triton.jit`` function and inlined at each call; see
``standard.py`` for how names are bound.
"""

import triton
import triton.language as tl

# Rounds of Philox when the caller does not say; Random123's recommended 10.
N_ROUNDS_DEFAULT = 10


@triton.jit
def _u64(hi: tl.constexpr, lo: tl.constexpr):
    # A 64-bit unsigned constant from its halves: integer constants of the frontend are
    # signed 64-bit, and Philox4x64's constants do not fit.
    return (tl.to_tensor(hi).to(tl.uint64) << 32) | lo


@triton.jit
def philox_impl(c0, c1, c2, c3, k0, k1, n_rounds: tl.constexpr = N_ROUNDS_DEFAULT):
    # `n_rounds` rounds of Philox on the counter (c0, c1, c2, c3) with key (k0, k1), all
    # uint32 (Philox4x32) or all uint64 (Philox4x64).
    if c0.dtype == tl.uint32:
        # Weyl key increments (golden ratio, sqrt(3) - 1) and round multipliers.
        PHILOX_KEY_A: tl.constexpr = 0x9E3779B9
        PHILOX_KEY_B: tl.constexpr = 0xBB67AE85
        PHILOX_ROUND_A: tl.constexpr = 0xD2511F53
        PHILOX_ROUND_B: tl.constexpr = 0xCD9E8D57
    else:
        tl.static_assert(c0.dtype == tl.uint64, "dtype not supported in philox_impl")
        PHILOX_KEY_A = _u64(0x9E3779B9, 0x7F4A7C15)
        PHILOX_KEY_B = _u64(0xBB67AE85, 0x84CAA73B)
        PHILOX_ROUND_A = _u64(0xD2E7470E, 0xE14C6C93)
        PHILOX_ROUND_B = _u64(0xCA5A8263, 0x95121157)
    for _ in tl.static_range(n_rounds):
        A = PHILOX_ROUND_A
        B = PHILOX_ROUND_B
        _c0, _c2 = c0, c2
        c0 = tl.umulhi(B, _c2) ^ c1 ^ k0
        c2 = tl.umulhi(A, _c0) ^ c3 ^ k1
        c1 = B * _c2
        c3 = A * _c0
        # Bump the key. Random123 skips the bump after the last round; it is never read.
        k0 = k0 + PHILOX_KEY_A
        k1 = k1 + PHILOX_KEY_B
    return c0, c1, c2, c3


@triton.jit
def philox(seed, c0, c1, c2, c3, n_rounds: tl.constexpr = N_ROUNDS_DEFAULT):
    seed = tl.to_tensor(seed)
    c0 = tl.to_tensor(c0)
    c1 = tl.to_tensor(c1)
    c2 = tl.to_tensor(c2)
    c3 = tl.to_tensor(c3)
    # The seed is sign-extended to 64 bits whatever its type: its halves are the key.
    seed = seed.to(tl.uint64)
    if c0.dtype.primitive_bitwidth == 32:
        int_dtype = tl.uint32
        seed_hi = ((seed >> 32) & 0xFFFFFFFF).to(tl.uint32)
        seed_lo = (seed & 0xFFFFFFFF).to(tl.uint32)
    else:
        tl.static_assert(c0.dtype.primitive_bitwidth == 64, "bitwidth not supported in philox")
        int_dtype = tl.uint64
        seed_hi = tl.full((1,), 0, dtype=int_dtype)
        seed_lo = seed
    c0 = c0.to(int_dtype, bitcast=True)
    c1 = c1.to(int_dtype, bitcast=True)
    c2 = c2.to(int_dtype, bitcast=True)
    c3 = c3.to(int_dtype, bitcast=True)
    return philox_impl(c0, c1, c2, c3, seed_lo, seed_hi, n_rounds)


@triton.jit
def randint(seed, offset, n_rounds: tl.constexpr = N_ROUNDS_DEFAULT):
    ret, _, _, _ = randint4x(seed, offset, n_rounds)
    return ret


@triton.jit
def randint4x(seed, offset, n_rounds: tl.constexpr = N_ROUNDS_DEFAULT):
    # The counter is (offset, 0, 0, 0): four independent words per offset.
    _0 = offset * 0
    return philox(seed, offset, _0, _0, _0, n_rounds)


@triton.jit
def uint_to_uniform_float(x):
    # A random 32- or 64-bit word to a float in [0, 1): fold the sign (x < 0 maps to -x - 1,
    # i.e. ~x) and scale by the largest factor that keeps the maximum below 1.0 in f32.
    if (x.dtype == tl.uint32) or (x.dtype == tl.int32):
        x = x.to(tl.int32, bitcast=True)
        scale = 4.6566127342e-10
    else:
        tl.static_assert((x.dtype == tl.uint64) or (x.dtype == tl.int64), "uint_to_uniform_float takes 32- or 64-bit integers")
        x = x.to(tl.int64, bitcast=True)
        scale = 1.0842020432385337e-19
    x = tl.where(x < 0, -x - 1, x)
    return x * scale


@triton.jit
def rand(seed, offset, n_rounds: tl.constexpr = N_ROUNDS_DEFAULT):
    source = randint(seed, offset, n_rounds)
    return uint_to_uniform_float(source)


@triton.jit
def rand4x(seed, offsets, n_rounds: tl.constexpr = N_ROUNDS_DEFAULT):
    i1, i2, i3, i4 = randint4x(seed, offsets, n_rounds)
    u1 = uint_to_uniform_float(i1)
    u2 = uint_to_uniform_float(i2)
    u3 = uint_to_uniform_float(i3)
    u4 = uint_to_uniform_float(i4)
    return u1, u2, u3, u4


@triton.jit
def pair_uniform_to_normal(u1, u2):
    # Box-Muller; u1 is kept away from 0, where log diverges.
    u1 = tl.maximum(1.0e-7, u1)
    th = 6.283185307179586 * u2
    r = tl.sqrt(-2.0 * tl.log(u1))
    return r * tl.cos(th), r * tl.sin(th)


@triton.jit
def randn(seed, offset, n_rounds: tl.constexpr = N_ROUNDS_DEFAULT):
    i1, i2, _, _ = randint4x(seed, offset, n_rounds)
    u1 = uint_to_uniform_float(i1)
    u2 = uint_to_uniform_float(i2)
    n1, _ = pair_uniform_to_normal(u1, u2)
    return n1


@triton.jit
def randn4x(seed, offset, n_rounds: tl.constexpr = N_ROUNDS_DEFAULT):
    u1, u2, u3, u4 = rand4x(seed, offset, n_rounds)
    n1, n2 = pair_uniform_to_normal(u1, u2)
    n3, n4 = pair_uniform_to_normal(u3, u4)
    return n1, n2, n3, n4
