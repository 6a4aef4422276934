"""Atomics, after Triton's test_core (test_atomic_rmw, test_tensor_atomic_rmw, test_atomic_cas):
every program of a grid updates the same addresses, so the final values test atomicity and
the returned old values test the "returns the previous value" contract."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

from conformance_helpers import assert_close, kernel_from_template, np_dtype, random_array, rng

PROGRAMS = 32

SCALAR_RMW = """
@triton.jit
def conformance_kernel(Z, OLD, X):
    pid = tl.program_id(0)
    x = tl.load(X + pid)
    old = tl.atomic_OP(Z, x)
    tl.store(OLD + pid, old)
"""

RMW_DTYPES = {
    "add": ["int32", "uint32", "int64", "float32"],
    "max": ["int32", "uint32", "int64", "uint64", "float32"],
    "min": ["int32", "uint32", "int64", "uint64", "float32"],
    "and": ["int32", "uint32", "int64"],
    "or": ["int32", "uint32", "int64"],
    "xor": ["int32", "uint32", "int64"],
    "xchg": ["int32", "uint32", "int64", "float32"],
}
RMW_CASES = [(op, d) for op, ds in RMW_DTYPES.items() for d in ds]


def _fold(op, init, values):
    acc = init
    for v in values:
        acc = {
            "add": lambda a, b: a + b,
            "max": max,
            "min": min,
            "and": lambda a, b: a & b,
            "or": lambda a, b: a | b,
            "xor": lambda a, b: a ^ b,
        }[op](acc, v)
    return acc


def _values(op, dtype, n, key):
    r = rng("atomic", op, dtype, *key)
    if op == "add":
        if dtype == "float32":
            return r.integers(-8, 8, size=n).astype(np.float32) * np.float32(0.25)  # exact sums
        return random_array(r, dtype, n, 1, 1000)  # positive: old values are distinct
    return random_array(r, dtype, n)


@pytest.mark.parametrize("op, dtype", RMW_CASES)
def test_scalar_atomic_rmw_contended(engine, op, dtype):
    x = _values(op, dtype, PROGRAMS, ())
    init = x[0] if op != "add" else np.zeros(1, np_dtype(dtype))[0]
    z = np.array([init], dtype=np_dtype(dtype))
    old = np.zeros(PROGRAMS, np_dtype(dtype))
    kernel = kernel_from_template(SCALAR_RMW, OP=op)
    kernel[(PROGRAMS,)](z, old, x)
    if op == "xchg":
        # Some order of exchanges: the olds and the final value are the initial value and
        # all the values, each once.
        got = np.sort(np.concatenate([old, z]))
        want = np.sort(np.concatenate([[init], x]))
        assert_close(got, want, dtype)
        return
    with np.errstate(all="ignore"):
        final = _fold(op, init, list(x))
    assert_close(z, np.array([final], dtype=np_dtype(dtype)), dtype)
    if op == "add" and dtype != "float32":
        # Each old value is the sum of the adds that came before it, in some order: the
        # olds plus their own adds are the distinct prefix sums.
        order = np.argsort(old, kind="stable")
        prefix = np.concatenate([[0], np.cumsum(x[order])[:-1]]).astype(np_dtype(dtype))
        assert_close(old[order], prefix, dtype)


TENSOR_RMW = """
@triton.jit
def conformance_kernel(Z, OLD, X, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    off = tl.arange(0, BLOCK)
    mask = off < n
    x = tl.load(X + pid * BLOCK + off)
    old = tl.atomic_OP(Z + off, x, mask=mask, sem=SEM)
    tl.store(OLD + pid * BLOCK + off, old, mask=mask)
"""


@pytest.mark.parametrize("sem", ["'relaxed'", "'acq_rel'"])
@pytest.mark.parametrize("op, dtype", [c for c in RMW_CASES if c[0] != "xchg"])
def test_tensor_atomic_rmw_masked(engine, op, dtype, sem):
    block, n, programs = 32, 27, 8
    x = _values(op, dtype, programs * block, (sem,))
    init = _values(op, dtype, block, ("init", sem)) if op != "add" else np.zeros(block, np_dtype(dtype))
    z = init.copy()
    old = np.zeros(programs * block, np_dtype(dtype))
    kernel = kernel_from_template(TENSOR_RMW, OP=op, SEM=sem)
    kernel[(programs,)](z, old, x, n, block)
    xs = x.reshape(programs, block)
    expected = init.copy()
    with np.errstate(all="ignore"):
        for j in range(n):
            expected[j] = _fold(op, init[j], list(xs[:, j]))
    assert_close(z, expected, dtype)  # lanes >= n untouched


@triton.jit
def cas_kernel(Z, OLD, CMP, VAL, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    old = tl.atomic_cas(Z + off, tl.load(CMP + off), tl.load(VAL + off))
    tl.store(OLD + off, old)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint32", "float32"])
def test_atomic_cas_tensor(engine, dtype):
    r = rng("cas", dtype)
    z0 = random_array(r, dtype, 64, 0, 5).astype(np_dtype(dtype))
    cmp = random_array(r, dtype, 64, 0, 5).astype(np_dtype(dtype))
    val = random_array(r, dtype, 64, 10, 20).astype(np_dtype(dtype))
    z = z0.copy()
    old = np.zeros_like(z)
    cas_kernel[(1,)](z, old, cmp, val, 64)
    assert_close(old, z0, dtype)
    assert_close(z, np.where(z0 == cmp, val, z0), dtype)


@triton.jit
def cas_lock_kernel(LOCK, COUNT, ITERS: tl.constexpr):
    # A spin lock around a non-atomic read-modify-write (tutorial 05's pattern).
    for _ in tl.static_range(ITERS):
        while tl.atomic_cas(LOCK, 0, 1) == 1:
            pass
        c = tl.load(COUNT)
        tl.store(COUNT, c + 1)
        tl.atomic_xchg(LOCK, 0)


def test_atomic_cas_spin_lock(engine):
    lock = np.zeros(1, np.int32)
    count = np.zeros(1, np.int32)
    cas_lock_kernel[(16,)](lock, count, 2, num_warps=1)
    assert count[0] == 32
    assert lock[0] == 0


@triton.jit
def counter_kernel(Z, OLD):
    # Every program takes a ticket: the tickets are 0..n-1, each once.
    old = tl.atomic_add(Z, 1)
    tl.store(OLD + tl.program_id(0), old)


@pytest.mark.parametrize("programs", [1, 7, 100])
def test_atomic_ticket_counter(engine, programs):
    z = np.zeros(1, np.int32)
    old = np.full(programs, -1, np.int32)
    counter_kernel[(programs,)](z, old)
    assert z[0] == programs
    np.testing.assert_array_equal(np.sort(old), np.arange(programs))
