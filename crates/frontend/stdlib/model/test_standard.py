"""The standard library's Triton-language source, run eagerly on the numpy model of `tl`
(eager.py), against numpy: the algorithms (bitonic sort, xor flips, argmax ties, dtype
rules) independently of the compiler. Run with `pytest crates/frontend/stdlib/model`."""

import numpy as np
import pytest

from eager import T, load, tl, un

S = load("standard")
RNG = np.random.default_rng(0)


def same(got, want):
    got, want = un(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_array_equal(got, want)


def sample(shape, dt):
    if np.dtype(dt).kind == "f":
        return RNG.standard_normal(shape).astype(dt)
    lo = 0 if np.dtype(dt).kind == "u" else -50
    # Few distinct values: ties everywhere.
    return RNG.integers(lo, lo + 20, size=shape).astype(dt)


SHAPES = [(2,), (16,), (4, 8), (2, 4, 16), (64,)]
DTYPES = [np.float32, np.float16, np.int16, np.uint8, np.int32, np.int64]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("descending", [False, True, 0, 1])
def test_sort(shape, dt, descending):
    x = sample(shape, dt)
    want = np.sort(x, axis=-1)
    if descending:
        want = want[..., ::-1]
    same(S.sort(T(x), descending=descending), want)


@pytest.mark.parametrize("k", [1, 2, 4, 16])
def test_topk(k):
    x = sample((4, 16), np.float32)
    same(S.topk(T(x), k), np.sort(x, -1)[..., ::-1][..., :k])


def test_bitonic_merge_of_a_bitonic_sequence():
    a = np.sort(sample(8, np.float32))
    b = np.sort(sample(8, np.float32))[::-1]
    x = np.concatenate([a, b])
    same(S.bitonic_merge(T(x)), np.sort(x))
    same(S.bitonic_merge(T(x), descending=True), np.sort(x)[::-1])


@pytest.mark.parametrize(
    "shape, dim",
    [((16,), None), ((16,), 0), ((4, 8), 0), ((4, 8), 1), ((4, 8), -1), ((2, 4, 8), 1), ((2, 4, 8), -3)],
)
@pytest.mark.parametrize("dt", [np.float32, np.float16, np.uint8, np.int64])
def test_flip(shape, dim, dt):
    x = sample(shape, dt)
    d = len(shape) - 1 if dim is None else dim
    same(S.flip(T(x), dim), np.flip(x, d))


def test_argmax_argmin_break_ties_to_the_smallest_index():
    x = np.array([3, 7, 1, 7, 0, 7, 1, 0], dtype=np.float32)
    same(S.argmax(T(x), 0), np.int32(1))
    same(S.argmin(T(x), 0), np.int32(4))


@pytest.mark.parametrize("dt", [np.int8, np.float32, np.uint16])
@pytest.mark.parametrize("axis", [0, 1, -1, None])
@pytest.mark.parametrize("keep_dims", [False, True])
def test_argmax_argmin_match_numpy(dt, axis, keep_dims):
    x = sample((4, 8), dt)
    for fn, ref in [(S.argmax, np.argmax), (S.argmin, np.argmin)]:
        want = np.asarray(ref(x, axis=axis, keepdims=keep_dims)).astype(np.int32)
        same(fn(T(x), axis, keep_dims=keep_dims), want)


def test_max_min_with_indices_and_widening():
    x = sample((4, 8), np.int8)
    v, i = S.max(T(x), 1, return_indices=True)
    same(v, x.max(1))
    same(i, np.argmax(x, 1).astype(np.int32))
    v, i = S.min(T(x), 0, return_indices=True, keep_dims=True)
    same(v, x.min(0, keepdims=True))
    same(i, np.argmin(x, 0, keepdims=True).astype(np.int32))
    # Narrow types reduce in 32 bits: ints in int32, floats in f32.
    same(S.max(T(x), 1), x.max(1).astype(np.int32))
    same(S.min(T(x.astype(np.float16))), np.float32(x.min()))
    same(S.max(T(x.astype(np.uint8))), np.int32(x.astype(np.uint8).max()))


def test_sum_picks_tritons_accumulator_types():
    b = RNG.integers(0, 2, 40).astype(bool)
    same(S.sum(T(b)), np.uint32(b.sum()))  # int1 is unsigned in Triton
    same(S.sum(T(np.full(64, 100, np.int8))), np.int32(6400))
    same(S.sum(T(np.full(8, 60000, np.uint16))), np.uint32(480000))
    same(S.sum(T(np.full(64, 100, np.int8)), 0, dtype=tl.int8), np.int8(6400 % 256))
    x = sample((4, 8), np.float32)
    np.testing.assert_allclose(un(S.sum(T(x), 1, keep_dims=True)), x.sum(1, keepdims=True), rtol=1e-6)


def test_scans():
    b = RNG.integers(0, 2, 16).astype(bool)
    same(S.cumsum(T(b)), np.cumsum(b).astype(np.uint32))
    x = np.full(4, 100, np.int8)
    same(S.cumsum(T(x), 0, reverse=True), np.array([400, 300, 200, 100], np.int32))
    same(S.cumprod(T(np.array([1.0, 2.0, 3.0, 4.0], np.float32))), np.array([1, 2, 6, 24], np.float32))
    m = sample((4, 8), np.int32)
    same(S.cumsum(T(m), 1), np.cumsum(m, 1).astype(np.int32))
    same(S.cumprod(T(m), 0, True), np.cumprod(m[::-1], 0)[::-1].astype(np.int32))


def test_bitwise_reductions():
    same(S.xor_sum(T(np.array([1, 2, 4, 7], np.int32))), np.int32(0))
    same(S.xor_sum(T(np.array([[1, 2], [4, 8]], np.uint8)), 0), np.array([5, 10], np.uint8))
    same(S.reduce_or(T(np.array([[1, 2], [4, 8]], np.uint8)), 1), np.array([3, 12], np.uint8))
    with pytest.raises(AssertionError):
        S.xor_sum(T(np.ones(4, np.float32)))


def test_softmax():
    x = sample((8,), np.float32)
    e = np.exp(x - x.max())
    np.testing.assert_allclose(un(S.softmax(T(x))), e / e.sum(), rtol=1e-6)
    m = sample((4, 8), np.float32)
    e = np.exp(m - m.max(1, keepdims=True))
    got = un(S.softmax(T(m), dim=1, keep_dims=True))
    np.testing.assert_allclose(got, e / e.sum(1, keepdims=True), rtol=1e-6)


def test_shapes_and_elementwise():
    a = np.arange(8, dtype=np.int32).reshape(2, 4)
    same(S.interleave(T(a), T(a + 100)), np.stack([a, a + 100], -1).reshape(2, 8))
    same(S.ravel(T(a)), a.reshape(-1))
    same(S.zeros_like(T(a)), np.zeros_like(a))
    same(S.zeros((2, 3), tl.float16), np.zeros((2, 3), np.float16))
    same(S.cdiv(T(np.array([0, 1, 4, 5], np.int32)), 4), np.array([0, 1, 1, 2], np.int32))
    x = sample((8,), np.float32)
    np.testing.assert_allclose(un(S.sigmoid(T(x))), 1 / (1 + np.exp(-x)), rtol=1e-6)


def test_swizzle2d_is_tritons_documented_example():
    i, j = np.meshgrid(np.arange(4, dtype=np.int32), np.arange(4, dtype=np.int32), indexing="ij")
    ni, nj = S.swizzle2d(T(i), T(j), 4, 4, 2)
    out = np.zeros((4, 4), np.int32)
    out[un(ni), un(nj)] = i * 4 + j
    same(out, np.array([[0, 2, 4, 6], [1, 3, 5, 7], [8, 10, 12, 14], [9, 11, 13, 15]], np.int32))
