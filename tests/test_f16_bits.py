"""16-bit float bit patterns survive bitcasts, selects, masked loads with `other` and stores
on every engine: NaN payloads (quiet and signalling), -0, subnormals, infinities.

WGSL cannot reinterpret 16 integer bits as an f16 register (naga has no such bitcast, and
building the value through f32 loses payloads: lavapipe canonicalises NaNs in f32 -> f16
and quiets signalling NaNs in f16 -> f32), so there the lowering carries such values as
integer bits and reaches their f16 buffers through u32 words (crates/simt/src/lower/f16bits.rs).
Every comparison here is on the integer bits."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

# Signalling NaNs (quiet bit 0x0200 clear), quiet NaNs with payloads, both signs; -0, +-inf,
# subnormals, the largest finite, ordinary values.
PATTERNS = np.array(
    [
        0x7C01, 0x7D55, 0x7DFF, 0xFC01, 0xFD00,  # signalling NaNs
        0x7E00, 0x7E01, 0x7FFF, 0xFE00, 0xFFFF, 0xFEAB,  # quiet NaNs with payloads
        0x8000, 0x0000, 0x7C00, 0xFC00,  # zeros and infinities
        0x0001, 0x03FF, 0x8001, 0x83FF, 0x0200,  # subnormals
        0x7BFF, 0xFBFF, 0x3C00, 0xBC00, 0x3555, 0x1234,
    ],
    dtype=np.uint16,
)
N = PATTERNS.size  # odd on purpose: the last u32 word is half used


def _bits(dtype):
    return PATTERNS.view(np.int16).copy() if dtype == "int16" else PATTERNS.copy()


@triton.jit
def int_to_f16_bits(Z, X, N: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    m = off < N
    x = tl.load(X + off, mask=m)
    tl.store(Z + off, x.to(tl.float16, bitcast=True), mask=m)


@pytest.mark.parametrize("src", ["int16", "uint16"])
def test_int_bits_to_f16_store(engine, src):
    x = _bits(src)
    z = np.zeros(N, dtype=np.uint16)
    int_to_f16_bits[(1,)](z.view(np.float16), x, N, BLOCK=32)
    np.testing.assert_array_equal(z, PATTERNS)


@triton.jit
def f16_to_int_bits(Z, X, N: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    m = off < N
    x = tl.load(X + off, mask=m)
    tl.store(Z + off, x.to(tl.int16, bitcast=True), mask=m)


def test_f16_load_to_int_bits(engine):
    z = np.zeros(N, dtype=np.int16)
    f16_to_int_bits[(1,)](z, PATTERNS.view(np.float16), N, BLOCK=32)
    np.testing.assert_array_equal(z.view(np.uint16), PATTERNS)


@triton.jit
def bf16_round_trip(Z, X, Y, N: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    m = off < N
    a = tl.load(X + off, mask=m).to(tl.bfloat16, bitcast=True)
    b = tl.load(Y + off, mask=m).to(tl.bfloat16, bitcast=True)
    c = tl.where(off % 2 == 0, a, b)
    tl.store(Z + off, c.to(tl.int16, bitcast=True), mask=m)


def test_bf16_bits_through_where(engine):
    # bf16 lives as integer bits everywhere (emulated): the same patterns read as bf16
    # (0x7C01 is a finite bf16, 0x7F81 a signalling NaN) survive the select.
    pats = np.concatenate([PATTERNS, np.uint16([0x7F81, 0xFF81, 0x7FC1, 0x0001, 0x8000])])
    n = pats.size
    x = pats.view(np.int16).copy()
    y = pats[::-1].view(np.int16).copy()
    z = np.zeros(n, dtype=np.int16)
    bf16_round_trip[(1,)](z, x, y, n, BLOCK=32)
    want = np.where(np.arange(n) % 2 == 0, pats, pats[::-1])
    np.testing.assert_array_equal(z.view(np.uint16), want)


@triton.jit
def where_bits(Z, X, Y, N: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    m = off < N
    a = tl.load(X + off, mask=m).to(tl.float16, bitcast=True)
    b = tl.load(Y + off, mask=m)
    tl.store(Z + off, tl.where(off % 2 == 0, a, b), mask=m)


def test_where_of_bitcast_and_load(engine):
    # Even elements from the bitcast integers, odd ones from an f16 buffer: both exact.
    x = PATTERNS.view(np.int16).copy()
    y = PATTERNS[::-1].copy()
    z = np.zeros(N, dtype=np.uint16)
    where_bits[(1,)](z.view(np.float16), x, y.view(np.float16), N, BLOCK=32)
    want = np.where(np.arange(N) % 2 == 0, PATTERNS, y)
    np.testing.assert_array_equal(z, want)


@triton.jit
def masked_other_bits(Z, X, O, N: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    m = off < N
    keep = off % 3 != 0
    other = tl.load(O + off, mask=m).to(tl.float16, bitcast=True)
    x = tl.load(X + off, mask=m & keep, other=other)
    tl.store(Z + off, x.to(tl.int16, bitcast=True), mask=m)


def test_load_with_other_keeps_bits(engine):
    # Masked-off lanes take `other` (bitcast integers); the rest come from the f16 buffer.
    x = PATTERNS.copy()
    o = PATTERNS[::-1].view(np.int16).copy()
    z = np.zeros(N, dtype=np.int16)
    masked_other_bits[(1,)](z, x.view(np.float16), o, N, BLOCK=32)
    want = np.where(np.arange(N) % 3 != 0, PATTERNS, PATTERNS[::-1])
    np.testing.assert_array_equal(z.view(np.uint16), want)


@triton.jit
def sign_flip_bits(Z, X, N: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    m = off < N
    x = tl.load(X + off, mask=m)
    i = x.to(tl.int16, bitcast=True) ^ -32768
    tl.store(Z + off, i.to(tl.float16, bitcast=True), mask=m)


def test_integer_ops_between_bitcasts(engine):
    # f16 -> bits -> flip the sign bit -> f16 -> memory: every payload kept.
    x = PATTERNS.copy()
    z = np.zeros(N, dtype=np.uint16)
    sign_flip_bits[(1,)](z.view(np.float16), x.view(np.float16), N, BLOCK=32)
    np.testing.assert_array_equal(z, PATTERNS ^ 0x8000)


@triton.jit
def through_bf16(Z, W, X, N: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    m = off < N
    x = tl.load(X + off, mask=m)
    # int16 -> bf16 -> f16 -> memory, and f16 memory -> bf16 -> int16.
    tl.store(Z + off, x.to(tl.bfloat16, bitcast=True).to(tl.float16, bitcast=True), mask=m)
    y = tl.load(Z + off, mask=m)
    tl.store(W + off, y.to(tl.bfloat16, bitcast=True).to(tl.int16, bitcast=True), mask=m)


def test_bitcasts_between_f16_and_bf16(engine):
    z = np.zeros(N, dtype=np.uint16)
    w = np.zeros(N, dtype=np.int16)
    through_bf16[(1,)](z.view(np.float16), w, PATTERNS.view(np.int16), N, BLOCK=32)
    np.testing.assert_array_equal(z, PATTERNS)
    np.testing.assert_array_equal(w.view(np.uint16), PATTERNS)


@triton.jit
def copy_f16(Z, X, N: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    m = off < N
    x = tl.load(X + off, mask=m & (off % 2 == 0), other=-0.0)
    tl.store(Z + off, tl.where(off < 4, x, x), mask=m)


def test_plain_f16_copy_keeps_bits(engine):
    # No bitcast anywhere: the ordinary f16 path must not touch the bits either.
    x = PATTERNS.copy()
    z = np.zeros(N, dtype=np.uint16)
    copy_f16[(1,)](z.view(np.float16), x.view(np.float16), N, BLOCK=32)
    want = np.where(np.arange(N) % 2 == 0, PATTERNS, np.uint16(0x8000))
    np.testing.assert_array_equal(z, want)


@triton.jit
def scalar_bits(Z, X):
    tl.store(Z, tl.load(X).to(tl.float16, bitcast=True))


def test_scalar_bitcast_store(engine):
    for p in (0x7C01, 0xFE01, 0x8000, 0x0001):
        x = np.array([p], dtype=np.uint16).view(np.int16)
        z = np.zeros(1, dtype=np.uint16)
        scalar_bits[(1,)](z.view(np.float16), x)
        assert z[0] == p, hex(int(z[0]))


@triton.jit
def scalar_f16_to_int(Z, X):
    tl.store(Z, tl.load(X).to(tl.int16, bitcast=True))


def test_scalar_f16_load_to_int(engine):
    for p in (0x7C01, 0xFE01, 0x8000, 0x0001):
        x = np.array([p], dtype=np.uint16).view(np.float16)
        z = np.zeros(1, dtype=np.int16)
        scalar_f16_to_int[(1,)](z, x)
        assert z.view(np.uint16)[0] == p, hex(int(z.view(np.uint16)[0]))
