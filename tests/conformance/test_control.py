"""Control flow, calls and specialization, after Triton's test_core (test_for_iv,
test_if_else, test_static_range, test_nested_for, test_call, test_constexpr, test_value_specialization):
loop-carried tensors, runtime conditions producing values, unrolled loops, inlined @jit
calls, constexpr-driven code and the specialization of integer arguments equal to 1."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

from conformance_helpers import assert_close, np_dtype, random_array, rng

BLOCK = 128
LOOP_DTYPES = ["int32", "int64", "uint32", "float32", "float16"]

# ---------------------------------------------------------------------------------------------
# for loops
# ---------------------------------------------------------------------------------------------


@triton.jit
def loop_carried_kernel(Z, X, n, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    x = tl.load(X + off)
    acc = tl.zeros([BLOCK], dtype=x.dtype)
    for i in range(n):
        acc = acc * 2 + x
    tl.store(Z + off, acc)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
@pytest.mark.parametrize("dtype", LOOP_DTYPES)
def test_for_loop_carried_tensor(engine, dtype, n):
    x = random_array(rng("loop", dtype, n), dtype, BLOCK, 0, 5)
    z = np.full(BLOCK, 9, dtype=np_dtype(dtype))
    loop_carried_kernel[(1,)](z, x, n, BLOCK)
    acc = np.zeros(BLOCK, dtype=np_dtype(dtype))
    for _ in range(n):
        acc = (acc * 2 + x).astype(acc.dtype)
    assert_close(z, acc, dtype)


@triton.jit
def range_bounds_kernel(Z, lo, hi, STEP: tl.constexpr, BLOCK: tl.constexpr):
    # The induction variable's values, summed and counted.
    total = 0
    count = 0
    for i in range(lo, hi, STEP):
        total += i
        count += 1
    off = tl.arange(0, BLOCK)
    tl.store(Z + off, tl.where(off == 0, total, count))


@pytest.mark.parametrize("lo, hi", [(0, 10), (3, 4), (5, 5), (7, 3), (-4, 9)])
@pytest.mark.parametrize("step", [1, 2, 3])
def test_for_range_bounds(engine, lo, hi, step):
    z = np.zeros(2, dtype=np.int32)
    range_bounds_kernel[(1,)](z, lo, hi, step, 2)
    values = list(range(lo, hi, step))
    assert_close(z, np.array([sum(values), len(values)], dtype=np.int32), "int32", msg=f"range({lo}, {hi}, {step})")


@triton.jit
def range_runtime_step_kernel(Z, lo, hi, step, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    acc = tl.zeros([BLOCK], dtype=tl.int32)
    for i in range(lo, hi, step):
        acc += tl.where(off == i, 1, 0)
    tl.store(Z + off, acc)


@pytest.mark.parametrize("lo, hi, step", [(0, 16, 1), (1, 16, 4), (2, 3, 5), (0, 16, 16), (15, 0, 1)])
def test_for_runtime_step(engine, lo, hi, step):
    z = np.full(16, 7, dtype=np.int32)
    range_runtime_step_kernel[(1,)](z, lo, hi, step, 16)
    expected = np.zeros(16, dtype=np.int32)
    expected[list(range(lo, hi, step))] = 1
    assert_close(z, expected, "int32")


@triton.jit
def tl_range_kernel(Z, X, n, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    for k in tl.range(0, n, num_stages=2):
        acc += tl.load(X + k * BLOCK + off)
    tl.store(Z + off, acc)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_tl_range_accumulates_blocks(engine, n):
    x = random_array(rng("tl.range", n), "float32", max(n, 1) * 32)
    z = np.full(32, 5, dtype=np.float32)
    tl_range_kernel[(1,)](z, x, n, 32)
    expected = x[: n * 32].reshape(n, 32).sum(axis=0) if n else np.zeros(32, np.float32)
    assert_close(z, expected.astype(np.float32), "float32", rtol=1e-6, atol=1e-6)


@triton.jit
def nested_loops_kernel(Z, n, m, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    acc = tl.zeros([BLOCK], dtype=tl.int32)
    for i in range(n):
        for j in range(m):
            acc = acc + (i * 10 + j) * off
        acc = acc - i
    tl.store(Z + off, acc)


@pytest.mark.parametrize("n, m", [(0, 3), (3, 0), (1, 1), (2, 3), (4, 5)])
def test_nested_loops(engine, n, m):
    z = np.zeros(16, dtype=np.int32)
    nested_loops_kernel[(1,)](z, n, m, 16)
    off = np.arange(16, dtype=np.int32)
    acc = np.zeros(16, dtype=np.int32)
    for i in range(n):
        for j in range(m):
            acc = acc + (i * 10 + j) * off
        acc = acc - i
    assert_close(z, acc, "int32")


@triton.jit
def loop_two_carried_kernel(Z, W, n, BLOCK: tl.constexpr):
    # Two loop-carried values of different dtypes, one updated from the other.
    off = tl.arange(0, BLOCK)
    a = off.to(tl.float32)
    b = tl.zeros([BLOCK], dtype=tl.int64)
    for i in range(n):
        b = b + a.to(tl.int64)
        a = a * 0.5 + i
    tl.store(Z + off, a)
    tl.store(W + off, b)


@pytest.mark.parametrize("n", [0, 1, 4])
def test_loop_two_carried_values(engine, n):
    z = np.zeros(32, np.float32)
    w = np.zeros(32, np.int64)
    loop_two_carried_kernel[(1,)](z, w, n, 32)
    a = np.arange(32, dtype=np.float32)
    b = np.zeros(32, np.int64)
    for i in range(n):
        b = b + a.astype(np.int64)
        a = (a * np.float32(0.5) + np.float32(i)).astype(np.float32)
    assert_close(z, a, "float32")
    assert_close(w, b, "int64")


# ---------------------------------------------------------------------------------------------
# if / else on runtime values
# ---------------------------------------------------------------------------------------------


@triton.jit
def if_else_kernel(Z, X, c, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    x = tl.load(X + off)
    if c > 0:
        y = x * 2
    else:
        y = x + 1
    tl.store(Z + off, y)


@pytest.mark.parametrize("c", [-1, 0, 1, 5])
@pytest.mark.parametrize("dtype", LOOP_DTYPES)
def test_if_else_produces_value(engine, dtype, c):
    x = random_array(rng("ifelse", dtype, c), dtype, BLOCK, 0, 50)
    z = np.zeros_like(x)
    if_else_kernel[(1,)](z, x, c, BLOCK)
    expected = (x * 2 if c > 0 else x + 1).astype(x.dtype)
    assert_close(z, expected, dtype)


@triton.jit
def if_elif_kernel(Z, c, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    y = off
    if c == 0:
        y = off + 100
    elif c == 1:
        y = off * 3
    elif c < 0:
        y = -off
    tl.store(Z + off, y)


@pytest.mark.parametrize("c", [-3, 0, 1, 2])
def test_if_elif_chain(engine, c):
    z = np.zeros(16, np.int32)
    if_elif_kernel[(1,)](z, c, 16)
    off = np.arange(16, dtype=np.int32)
    expected = {0: off + 100, 1: off * 3}.get(c, -off if c < 0 else off)
    assert_close(z, expected, "int32")


@triton.jit
def if_in_loop_kernel(Z, n, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    acc = tl.zeros([BLOCK], dtype=tl.int32)
    for i in range(n):
        if i % 2 == 0:
            acc += off
        else:
            acc -= 1
        if i == 3:
            acc = acc * 2
    tl.store(Z + off, acc)


@pytest.mark.parametrize("n", [0, 1, 4, 7])
def test_if_inside_loop(engine, n):
    z = np.zeros(16, np.int32)
    if_in_loop_kernel[(1,)](z, n, 16)
    off = np.arange(16, dtype=np.int32)
    acc = np.zeros(16, np.int32)
    for i in range(n):
        acc = acc + off if i % 2 == 0 else acc - 1
        if i == 3:
            acc = acc * 2
    assert_close(z, acc, "int32")


@triton.jit
def if_on_loaded_scalar_kernel(Z, X, FLAGS, BLOCK: tl.constexpr):
    # The condition is a value loaded by each program, so programs take different branches.
    pid = tl.program_id(0)
    off = pid * BLOCK + tl.arange(0, BLOCK)
    flag = tl.load(FLAGS + pid)
    x = tl.load(X + off)
    if flag != 0:
        x = x - 1000.0
    tl.store(Z + off, x)


def test_if_on_loaded_scalar_per_program(engine):
    r = rng("if-loaded")
    x = random_array(r, "float32", 8 * 32)
    flags = np.array([1, 0, 0, 1, 1, 0, 1, 0], dtype=np.int32)
    z = np.zeros_like(x)
    if_on_loaded_scalar_kernel[(8,)](z, x, flags, 32)
    expected = x.reshape(8, 32) - 1000.0 * flags[:, None]
    assert_close(z, expected.ravel().astype(np.float32), "float32")


@triton.jit
def early_return_kernel(Z, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    if pid >= n:
        return
    off = pid * BLOCK + tl.arange(0, BLOCK)
    tl.store(Z + off, off)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_early_return(engine, n):
    z = np.full(4 * 8, -1, dtype=np.int32)
    early_return_kernel[(4,)](z, n, 8)
    expected = np.full(32, -1, dtype=np.int32)
    expected[: n * 8] = np.arange(n * 8)
    assert_close(z, expected, "int32")


# ---------------------------------------------------------------------------------------------
# static_range and constexprs
# ---------------------------------------------------------------------------------------------


@triton.jit
def static_range_kernel(Z, X, N: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    for i in tl.static_range(N):
        acc += tl.load(X + i * BLOCK + off) * (i + 1)
    tl.store(Z + off, acc)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_static_range(engine, n):
    x = random_array(rng("static", n), "float32", n * 32)
    z = np.zeros(32, np.float32)
    static_range_kernel[(1,)](z, x, n, 32)
    expected = sum(x[i * 32:(i + 1) * 32].astype(np.float64) * (i + 1) for i in range(n))
    assert_close(z, expected, "float32", rtol=1e-6, atol=1e-6)


@triton.jit
def static_range_bounds_kernel(Z, LO: tl.constexpr, HI: tl.constexpr, STEP: tl.constexpr):
    # The induction variable is a constexpr: it can shape tensors and pick branches.
    acc = tl.zeros([8], dtype=tl.int32)
    for i in tl.static_range(LO, HI, STEP):
        if i % 2 == 0:
            acc += tl.full([8], i, tl.int32)
        else:
            acc += tl.arange(0, 8) * i
    tl.store(Z + tl.arange(0, 8), acc)


@pytest.mark.parametrize("lo, hi, step", [(0, 4, 1), (1, 8, 3), (2, 3, 1), (0, 0, 1)])
def test_static_range_bounds(engine, lo, hi, step):
    z = np.full(8, 3, np.int32)
    static_range_bounds_kernel[(1,)](z, lo, hi, step)
    acc = np.zeros(8, np.int32)
    for i in range(lo, hi, step):
        acc += i if i % 2 == 0 else np.arange(8, dtype=np.int32) * i
    assert_close(z, acc, "int32")


@triton.jit
def constexpr_branch_kernel(Z, X, MODE: tl.constexpr, SCALE: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    x = tl.load(X + off)
    if MODE == 0:
        y = x * SCALE
    elif MODE == 1:
        y = x + SCALE
    else:
        y = tl.maximum(x, SCALE)
    tl.store(Z + off, y)


@pytest.mark.parametrize("scale", [2, 0.5, -3])
@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("dtype", ["float32", "int32", "float16"])
def test_constexpr_specialization(engine, dtype, mode, scale):
    x = random_array(rng("cx", dtype, mode, scale), dtype, BLOCK, -20, 20)
    if not dtype.startswith("float") and isinstance(scale, float):
        # int tensor with a float constexpr: the result is f32 (a float number is of a higher kind)
        z = np.zeros(BLOCK, np.float32)
        xs = x.astype(np.float32)
    else:
        z = np.zeros_like(x)
        xs = x
    constexpr_branch_kernel[(1,)](z, x, mode, scale, BLOCK)
    s = np.array(scale, dtype=xs.dtype)
    expected = [xs * s, xs + s, np.maximum(xs, s)][mode].astype(z.dtype)
    assert_close(z, expected, str(z.dtype))


@triton.jit
def string_constexpr_kernel(Z, X, ACT: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    x = tl.load(X + off)
    if ACT == "relu":
        x = tl.maximum(x, 0.0)
    elif ACT == "square":
        x = x * x
    tl.store(Z + off, x)


@pytest.mark.parametrize("act", ["relu", "square", ""])
def test_string_constexpr(engine, act):
    x = random_array(rng("act", act), "float32", BLOCK)
    z = np.zeros_like(x)
    string_constexpr_kernel[(1,)](z, x, act, BLOCK)
    expected = {"relu": np.maximum(x, 0), "square": x * x, "": x}[act]
    assert_close(z, expected, "float32")


OFFSET = tl.constexpr(7)
FACTOR = tl.constexpr(3)


@triton.jit
def module_constexpr_kernel(Z, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    tl.store(Z + off, off * FACTOR + OFFSET)


def test_module_level_constexpr(engine):
    z = np.zeros(64, np.int32)
    module_constexpr_kernel[(1,)](z, 64)
    assert_close(z, np.arange(64, dtype=np.int32) * 3 + 7, "int32")


@triton.jit
def constexpr_shape_kernel(Z, BLOCK: tl.constexpr, REPS: tl.constexpr):
    # A constexpr computed from constexprs is a valid shape.
    off = tl.arange(0, BLOCK * REPS)
    tl.store(Z + off, off)


@pytest.mark.parametrize("block, reps", [(1, 1), (4, 2), (16, 8), (64, 4)])
def test_constexpr_arithmetic_shape(engine, block, reps):
    z = np.full(block * reps, -1, np.int32)
    constexpr_shape_kernel[(1,)](z, block, reps)
    assert_close(z, np.arange(block * reps, dtype=np.int32), "int32")


# ---------------------------------------------------------------------------------------------
# integer arguments equal to 1 (specialized) and divisible by 16
# ---------------------------------------------------------------------------------------------


@triton.jit
def stride_kernel(Z, X, n, stride, scale, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    mask = off < n
    x = tl.load(X + off * stride, mask=mask)
    tl.store(Z + off, x * scale, mask=mask)


@pytest.mark.parametrize("stride", [1, 2, 16, 17])
@pytest.mark.parametrize("scale", [1, 3, 32])
@pytest.mark.parametrize("n", [1, 16, 33])
def test_int_args_equal_to_one(engine, n, stride, scale):
    # 1 is specialized into the kernel (as Triton does): the result must not change.
    x = random_array(rng("one", n, stride, scale), "int32", n * stride, -100, 100)
    z = np.full(64, -7, np.int32)
    stride_kernel[(1,)](z, x, n, stride, scale, 64)
    expected = np.full(64, -7, np.int32)
    expected[:n] = x[::stride][:n] * scale
    assert_close(z, expected, "int32")


def test_value_specializations_compile_separately(engine):
    x = np.arange(8 * 16, dtype=np.int32)
    z = np.zeros(64, np.int32)
    k_one = stride_kernel[(1,)](z, x, 8, 1, 2, 64)
    k_two = stride_kernel[(1,)](z, x, 8, 2, 2, 64)
    k_three = stride_kernel[(1,)](z, x, 8, 3, 2, 64)
    k_sixteen = stride_kernel[(1,)](z, x, 8, 16, 2, 64)
    assert k_one is not k_two
    assert k_two is k_three
    assert k_sixteen is not k_two


# ---------------------------------------------------------------------------------------------
# calls to @jit functions
# ---------------------------------------------------------------------------------------------


@triton.jit
def _axpy(a, x, y):
    return a * x + y


@triton.jit
def _twice(x):
    return _axpy(2, x, 0)


@triton.jit
def _pair(x):
    return x + 1, x - 1


@triton.jit
def _scaled(x, FACTOR: tl.constexpr):
    if FACTOR == 1:
        return x
    return x * FACTOR


@triton.jit
def _store_block(ptr, value, BLOCK: tl.constexpr):
    tl.store(ptr + tl.arange(0, BLOCK), value)


@triton.jit
def call_kernel(Z, X, WHICH: tl.constexpr, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    x = tl.load(X + off)
    if WHICH == 0:
        z = _axpy(3, x, x)
    elif WHICH == 1:
        z = _twice(x)
    elif WHICH == 2:
        a, b = _pair(x)
        z = a * b
    elif WHICH == 3:
        z = _scaled(x, 1) + _scaled(x, 4)
    else:
        z = _twice(_twice(x))
    tl.store(Z + off, z)


CALL_REFS = {
    0: lambda x: 3 * x + x,
    1: lambda x: 2 * x,
    2: lambda x: (x + 1) * (x - 1),
    3: lambda x: x + 4 * x,
    4: lambda x: 4 * x,
}


@pytest.mark.parametrize("dtype", ["int32", "float32", "int64", "float16"])
@pytest.mark.parametrize("which", list(CALL_REFS))
def test_call_jit_function(engine, which, dtype):
    x = random_array(rng("call", which, dtype), dtype, BLOCK, -10, 10)
    z = np.zeros_like(x)
    call_kernel[(1,)](z, x, which, BLOCK)
    assert_close(z, CALL_REFS[which](x).astype(x.dtype), dtype)


@triton.jit
def call_store_kernel(Z, BLOCK: tl.constexpr):
    _store_block(Z, tl.arange(0, BLOCK) * 5, BLOCK)


def test_call_with_side_effect(engine):
    z = np.zeros(32, np.int32)
    call_store_kernel[(1,)](z, 32)
    assert_close(z, np.arange(32, dtype=np.int32) * 5, "int32")


@triton.jit
def call_in_loop_kernel(Z, n, BLOCK: tl.constexpr):
    off = tl.arange(0, BLOCK)
    acc = off
    for _ in range(n):
        acc = _axpy(1, acc, 1)
    tl.store(Z + off, acc)


@pytest.mark.parametrize("n", [0, 3])
def test_call_in_loop(engine, n):
    z = np.zeros(16, np.int32)
    call_in_loop_kernel[(1,)](z, n, 16)
    assert_close(z, np.arange(16, dtype=np.int32) + n, "int32")


# ---------------------------------------------------------------------------------------------
# program ids and grids
# ---------------------------------------------------------------------------------------------


@triton.jit
def grid_ids_kernel(Z):
    p0 = tl.program_id(0)
    p1 = tl.program_id(1)
    p2 = tl.program_id(2)
    n0 = tl.num_programs(0)
    n1 = tl.num_programs(1)
    n2 = tl.num_programs(2)
    linear = p0 + n0 * (p1 + n1 * p2)
    tl.store(Z + linear * 4 + tl.arange(0, 4), tl.where(tl.arange(0, 4) == 0, p0,
             tl.where(tl.arange(0, 4) == 1, p1, tl.where(tl.arange(0, 4) == 2, p2, n0 * n1 * n2))))


@pytest.mark.parametrize("grid", [(1,), (5,), (3, 4), (2, 3, 4), (1, 1, 7)])
def test_program_ids(engine, grid):
    g = grid + (1,) * (3 - len(grid))
    total = g[0] * g[1] * g[2]
    z = np.full(total * 4, -1, np.int32)
    grid_ids_kernel[grid](z)
    expected = np.array(
        [[i, j, k, total] for k in range(g[2]) for j in range(g[1]) for i in range(g[0])], dtype=np.int32
    ).ravel()
    assert_close(z, expected, "int32")


@triton.jit
def kernel(Z, BLOCK: tl.constexpr):
    # Users name kernels `kernel` (Triton's own tests do): a reserved word of a target
    # language must not leak into the kernel's name.
    off = tl.arange(0, BLOCK)
    tl.store(Z + off, off)


def test_kernel_named_kernel(engine):
    z = np.zeros(16, np.int32)
    kernel[(1,)](z, 16)
    assert_close(z, np.arange(16, dtype=np.int32), "int32")
