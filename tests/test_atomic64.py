"""64-bit atomics under contention, on every engine (lavapipe: native atomic<i64>; Metal and
the MSL emulator: a table of spin locks; the interpreter). Outside the conformance suite so
that the emulator runs every case (the suite samples its emulator cases).

Values carry across the 32-bit halves on every update, so an emulation that lost a word,
or let two updates of one element interleave, gives a wrong total or repeated old values.
The emulator's fibers step aside after every atomic operation, so inside one threadgroup
the lock is contended for real (threadgroups run one after another there); a lock left
taken is reported as a thread that spins forever."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

MASK64 = (1 << 64) - 1


@triton.jit
def hammer_kernel(Z, OLD, STEP, BINS: tl.constexpr, BLOCK: tl.constexpr):
    # Every element of every program adds to one of BINS counters: lanes of one simdgroup
    # contend for the same counter as well as programs.
    pid = tl.program_id(0)
    off = tl.arange(0, BLOCK)
    old = tl.atomic_add(Z + off % BINS, tl.load(STEP + off))
    tl.store(OLD + pid * BLOCK + off, old)


@pytest.mark.parametrize(
    "dtype, init, step",
    [
        # 2^32 - 1 from just below 2^32: both words change on every add.
        ("int64", (1 << 32) - 3, (1 << 32) - 1),
        # Wraps through 2^64 on the way; low word 1, high word all ones.
        ("uint64", (1 << 64) - (1 << 34), 0xFFFF_FFFF_0000_0001),
    ],
)
def test_many_programs_hammer_64bit_counters(engine, dtype, init, step):
    programs, block, bins = 64, 64, 2
    np_t = np.dtype(dtype)
    z = np.array([init] * bins, dtype=np.uint64).view(np_t)
    steps = np.array([step] * block, dtype=np.uint64).view(np_t)
    old = np.zeros(programs * block, np_t)
    hammer_kernel[(programs,)](z, old, steps, bins, block)
    per_bin = programs * block // bins
    want_final = (init + per_bin * step) & MASK64
    assert [int(v) & MASK64 for v in z.view(np.uint64)] == [want_final] * bins
    olds = old.view(np.uint64).reshape(programs, block)
    for b in range(bins):
        got = sorted(int(v) for v in olds[:, b::bins].ravel())
        want = sorted((init + k * step) & MASK64 for k in range(per_bin))
        assert got == want, f"counter {b}: old values repeat or are missing"


@triton.jit
def cas_increment_kernel(Z, TICKETS, ITERS: tl.constexpr):
    # A compare-and-swap loop around a 64-bit counter: each success is one ticket.
    pid = tl.program_id(0)
    for i in tl.static_range(ITERS):
        cur = tl.atomic_add(Z, 0)
        seen = tl.atomic_cas(Z, cur, cur + 1)
        while seen != cur:
            cur = seen
            seen = tl.atomic_cas(Z, cur, cur + 1)
        tl.store(TICKETS + pid * ITERS + i, cur)


@pytest.mark.parametrize("dtype", ["int64", "uint64"])
def test_cas_increments_of_a_64bit_counter_hand_out_each_ticket_once(engine, dtype):
    programs, iters = 48, 4
    start = (1 << 32) - 100  # the increments cross into the high word
    z = np.array([start], dtype)
    tickets = np.zeros(programs * iters, dtype)
    cas_increment_kernel[(programs,)](z, tickets, iters)
    n = programs * iters
    assert int(z[0]) == start + n
    np.testing.assert_array_equal(np.sort(tickets), start + np.arange(n, dtype=dtype))


@triton.jit
def aliased_kernel(A, B, BLOCK: tl.constexpr):
    # The same memory through two arguments: both paths must take the same lock.
    off = tl.arange(0, BLOCK)
    tl.atomic_add(A + off, 1)
    tl.atomic_add(B + off, 1 << 32)


def test_the_same_buffer_through_two_arguments(engine):
    x = triton.tensor(np.zeros(16, np.int64))
    aliased_kernel[(32,)](x, x, 16)
    np.testing.assert_array_equal(x.numpy(), np.full(16, 32 + (32 << 32), np.int64))
