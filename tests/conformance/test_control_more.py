"""Control flow of issue 5 beyond the foundation: `while` loops with loop-carried values,
`range` with a negative constexpr step (Triton swaps the bounds), and the refusal of
`break`/`continue` with Triton's error."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

from conformance_helpers import assert_close


@triton.jit
def while_kernel(Z, n, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    acc = tl.zeros([BLOCK], dtype=tl.int32)
    i = 0
    while i < n:
        acc = acc * 2 + off
        i += 1
    tl.store(Z + off, acc)


@pytest.mark.parametrize("n", [0, 1, 5])
def test_while_loop(engine, n):
    z = np.full(16, -1, np.int32)
    while_kernel[(1,)](z, n, 16)
    acc = np.zeros(16, np.int32)
    for _ in range(n):
        acc = acc * 2 + np.arange(16, dtype=np.int32)
    assert_close(z, acc, "int32")


@triton.jit
def while_data_dependent_kernel(Z, X, BLOCK: tl.constexpr):
    # Halve until below a threshold: the trip count depends on loaded data.
    x = tl.load(X)
    steps = 0
    while x > 1.0:
        x = x * 0.5
        steps += 1
    off = tl.arange(0, BLOCK)
    tl.store(Z + off, tl.where(off == 0, steps, 0))


@pytest.mark.parametrize("value", [0.5, 1.0, 3.0, 1000.0])
def test_while_data_dependent(engine, value):
    z = np.full(2, -1, np.int32)
    while_data_dependent_kernel[(1,)](z, np.array([value], np.float32), 2)
    steps, v = 0, np.float32(value)
    while v > 1.0:
        v = v * np.float32(0.5)
        steps += 1
    assert_close(z, np.array([steps, 0], np.int32), "int32")


@triton.jit
def negative_step_kernel(Z, LO: tl.constexpr, HI: tl.constexpr, STEP: tl.constexpr):
    acc = 0
    count = 0
    for i in range(LO, HI, STEP):
        acc = acc * 3 + i
        count += 1
    off = tl.arange(0, 2)
    tl.store(Z + off, tl.where(off == 0, acc, count))


@pytest.mark.parametrize("lo, hi, step", [(10, 0, -1), (10, 0, -3), (5, 5, -1), (0, 4, -1)])
def test_range_negative_step(engine, lo, hi, step):
    z = np.full(2, -1, np.int32)
    negative_step_kernel[(1,)](z, lo, hi, step)
    acc = 0
    for i in range(lo, hi, step):
        acc = acc * 3 + i
    assert_close(z, np.array([acc, len(range(lo, hi, step))], np.int32), "int32")


@triton.jit
def break_kernel(Z, n):
    for i in range(n):
        if i > 2:
            break
    tl.store(Z, n)


@triton.jit
def continue_kernel(Z, n):
    for i in range(n):
        if i > 2:
            continue
    tl.store(Z, n)


@pytest.mark.parametrize("kernel", [break_kernel, continue_kernel], ids=["break", "continue"])
def test_break_continue_refused(engine, kernel):
    with pytest.raises(triton.CompilationError):
        kernel[(1,)](np.zeros(1, np.int32), 4)
