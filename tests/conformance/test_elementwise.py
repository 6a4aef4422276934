"""Elementwise semantics over the dtype matrix, after Triton's test_core (bin_op, floordiv,
bitwise_op, shift_op, compare_op, unary_op, math_op, where, maximum/minimum): every case
checks the result dtype Triton gives (`tl.static_assert` on `z.dtype`) and the values against
a numpy reference computed in that dtype, with C integer semantics (wrapping, truncating
division, `fmod` remainders)."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

from conformance_helpers import (
    ARITH_OPS,
    BITWISE_OPS,
    COMPARE_OPS,
    DTYPES,
    FLOAT_DTYPES,
    INT_DTYPES,
    INTEGRAL_DTYPES,
    SHIFT_OPS,
    TritonTypeError,
    assert_close,
    binary_reference,
    binary_result_dtype,
    bits,
    computation_type,
    exact_int_range,
    is_float,
    is_signed,
    kernel_from_template,
    np_dtype,
    random_array,
    rng,
    scalar_dtype,
    tl_dtype,
)

SIZE = 128

BINARY_TEMPLATE = """
@triton.jit
def conformance_kernel(Z, X, Y, ZT: tl.constexpr, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    x = tl.load(X + off)
    y = tl.load(Y + off)
    z = EXPR
    tl.static_assert(z.dtype == ZT)
    tl.store(Z + off, z)
"""

# x is a 0-d tensor broadcast against y: tensor semantics, not scalar ones.
BROADCAST_LHS_TEMPLATE = """
@triton.jit
def conformance_kernel(Z, X, Y, ZT: tl.constexpr, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    x = tl.load(X)
    y = tl.load(Y + off)
    z = EXPR
    tl.static_assert(z.dtype == ZT)
    tl.store(Z + off, z)
"""

# y is a Python number (a constexpr): it does not widen a tensor of its kind or above.
CONSTEXPR_RHS_TEMPLATE = """
@triton.jit
def conformance_kernel(Z, X, y: tl.constexpr, ZT: tl.constexpr, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    x = tl.load(X + off)
    z = EXPR
    tl.static_assert(z.dtype == ZT)
    tl.store(Z + off, z)
"""

CONSTEXPR_LHS_TEMPLATE = """
@triton.jit
def conformance_kernel(Z, x: tl.constexpr, Y, ZT: tl.constexpr, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    y = tl.load(Y + off)
    z = EXPR
    tl.static_assert(z.dtype == ZT)
    tl.store(Z + off, z)
"""

# y is a runtime scalar argument: it has a dtype (i32 for Python ints, f32 for floats) and
# promotes like a tensor.
RUNTIME_RHS_TEMPLATE = """
@triton.jit
def conformance_kernel(Z, X, y, ZT: tl.constexpr, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    x = tl.load(X + off)
    z = EXPR
    tl.static_assert(z.dtype == ZT)
    tl.store(Z + off, z)
"""


def _inputs(op, dx, dy, key):
    """Inputs that exercise the op's full semantics but avoid undefined behaviour (division
    by zero, INT_MIN / -1, shifts past the width) and, when ints meet floats, keep the ints
    exactly representable so the case is about the op rather than conversion rounding."""
    r = rng(*key)
    xlo = xhi = ylo = yhi = None
    if not is_float(dx) and is_float(dy):
        xlo, xhi = exact_int_range(dx, dy)
    if not is_float(dy) and is_float(dx):
        ylo, yhi = exact_int_range(dy, dx)
    if op in SHIFT_OPS:
        width = min(bits(dx), bits(dy)) if is_float(dx) or is_float(dy) else bits(binary_result_dtype(op, dx, dy))
        ylo, yhi = 0, width - 1
    x = random_array(r, dx, SIZE, xlo, xhi)
    y = random_array(r, dy, SIZE, ylo, yhi)
    if op in ("/", "//", "%"):
        if not is_float(dy):
            y[y == 0] = 1
        else:
            y[np.abs(y) < np.asarray(1e-2, dtype=y.dtype)] = 1
        if is_signed(dx) and is_signed(dy):
            # INT_MIN / -1 overflows in C; Triton leaves it undefined.
            x[x == np.iinfo(x.dtype).min] += 1
    if op == "%" and is_float(dx) != is_float(dy):
        # fmod of a large integer by a small float loses all precision; Triton's test bounds
        # the integers the same way.
        if not is_float(dx):
            x = np.clip(x, -100, 100).astype(x.dtype)
        else:
            y = np.clip(y, -100, 100).astype(y.dtype)
    return x, y


def _tolerance(op, dz):
    if dz in ("float16", "bfloat16") or op not in ("%",):
        return {}
    # frem of floats: Triton's own test accepts this much.
    return {"rtol": 1e-2, "atol": 7e-3}


def _run_binary(engine, template, op, dx, dy, x, y, x_scalar=False, y_scalar=False):
    expr = f"x {op} y"
    kernel = kernel_from_template(template, EXPR=expr)
    try:
        expected, dz = binary_reference(op, x, y, dx, dy, x_scalar, y_scalar)
    except TritonTypeError:
        dz = None
    if dz is None:
        z = np.zeros(SIZE, dtype=np.float32)
        with pytest.raises(triton.CompilationError):
            kernel[(1,)](z, x, y, tl.float32, SIZE)
        return
    z = np.zeros(SIZE, dtype=np_dtype(dz))
    kernel[(1,)](z, x, y, tl_dtype(dz), SIZE)
    assert_close(z, expected, dz, msg=f"{dx} {op} {dy} -> {dz} on {engine}", **_tolerance(op, dz))


PAIRS = [(dx, dy) for dx in DTYPES for dy in DTYPES]


@pytest.mark.parametrize("dx, dy", PAIRS)
@pytest.mark.parametrize("op", ARITH_OPS)
def test_arith(engine, op, dx, dy):
    x, y = _inputs(op, dx, dy, ("arith", op, dx, dy))
    _run_binary(engine, BINARY_TEMPLATE, op, dx, dy, x, y)


@pytest.mark.parametrize("dx, dy", PAIRS)
def test_floordiv(engine, dx, dy):
    x, y = _inputs("//", dx, dy, ("floordiv", dx, dy))
    _run_binary(engine, BINARY_TEMPLATE, "//", dx, dy, x, y)


@pytest.mark.parametrize("dx, dy", PAIRS)
@pytest.mark.parametrize("op", BITWISE_OPS)
def test_bitwise(engine, op, dx, dy):
    x, y = _inputs(op, dx, dy, ("bitwise", op, dx, dy))
    _run_binary(engine, BINARY_TEMPLATE, op, dx, dy, x, y)


@pytest.mark.parametrize("dx, dy", [(a, b) for a in INTEGRAL_DTYPES for b in INTEGRAL_DTYPES])
@pytest.mark.parametrize("op", SHIFT_OPS)
def test_shift(engine, op, dx, dy):
    x, y = _inputs(op, dx, dy, ("shift", op, dx, dy))
    _run_binary(engine, BINARY_TEMPLATE, op, dx, dy, x, y)


@pytest.mark.parametrize("dx, dy", PAIRS)
@pytest.mark.parametrize("op", COMPARE_OPS)
def test_compare(engine, op, dx, dy):
    x, y = _inputs(op, dx, dy, ("compare", op, dx, dy))
    # Equal elements too, so == and <= see both outcomes.
    if np_dtype(dx) == np_dtype(dy):
        y[::3] = x[::3]
    _run_binary(engine, BINARY_TEMPLATE, op, dx, dy, x, y)


@pytest.mark.parametrize("mode", ["nan-lhs", "nan-rhs", "nan-both"])
@pytest.mark.parametrize("op", COMPARE_OPS)
def test_compare_nan(engine, op, mode):
    # Ordered comparisons are false on NaN; != is true (fcmp UNE).
    x, y = _inputs(op, "float32", "float32", ("compare-nan", op, mode))
    if mode in ("nan-lhs", "nan-both"):
        x[::2] = np.nan
    if mode in ("nan-rhs", "nan-both"):
        y[::3] = np.nan
    _run_binary(engine, BINARY_TEMPLATE, op, "float32", "float32", x, y)


@pytest.mark.parametrize("dx, dy", PAIRS)
@pytest.mark.parametrize("op", ["+", "*", "<"])
def test_broadcast_0d_lhs(engine, op, dx, dy):
    x, y = _inputs(op, dx, dy, ("bcast", op, dx, dy))
    kernel = kernel_from_template(BROADCAST_LHS_TEMPLATE, EXPR=f"x {op} y")
    expected, dz = binary_reference(op, np.repeat(x[:1], SIZE), y, dx, dy)
    z = np.zeros(SIZE, dtype=np_dtype(dz))
    kernel[(1,)](z, x, y, tl_dtype(dz), SIZE)
    assert_close(z, expected, dz, msg=f"{dx}[0] {op} {dy} on {engine}")


SCALAR_OPS = ["+", "-", "*", "/", "%", "//", "&", "|", "^", "<<", ">>", "<", "==", ">="]
SCALARS = [3, -2, 2.5, 2**31 + 5]
SCALAR_CASES = [(op, s) for op in SCALAR_OPS for s in (SCALARS if op not in SHIFT_OPS else [1, 3, 7])]


def _scalar_case(op, dtensor, scalar, scalar_on_left):
    """(expected, dz) for a tensor/constexpr-number case, or TritonTypeError as Triton does:
    a negative number with an unsigned result, or an integer out of the result's range."""
    ds = scalar_dtype(scalar)
    if scalar_on_left:
        dz = binary_result_dtype(op, ds, dtensor, a_scalar=True)
        ct = computation_type(ds, dtensor, op in ("/", "//", "%"), a_scalar=True)
    else:
        dz = binary_result_dtype(op, dtensor, ds, b_scalar=True)
        ct = computation_type(dtensor, ds, op in ("/", "//", "%"), b_scalar=True)
    if not is_float(ct) and isinstance(scalar, int):
        info = np.iinfo(np_dtype(ct))
        if scalar < 0 and info.min == 0:
            raise TritonTypeError("negative scalar with an unsigned tensor")
        if not info.min <= scalar <= info.max:
            raise TritonTypeError("scalar out of range")
    return dz


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op, scalar", SCALAR_CASES, ids=[f"{o}-s{s!r}" for o, s in SCALAR_CASES])
def test_constexpr_rhs(engine, op, dtype, scalar):
    x, _ = _inputs(op, dtype, "float32" if isinstance(scalar, float) else "int32", ("c-rhs", op, dtype, scalar))
    kernel = kernel_from_template(CONSTEXPR_RHS_TEMPLATE, EXPR=f"x {op} y")
    try:
        dz = _scalar_case(op, dtype, scalar, scalar_on_left=False)
    except TritonTypeError:
        with pytest.raises(triton.CompilationError):
            kernel[(1,)](np.zeros(SIZE, np.float32), x, scalar, tl.float32, SIZE)
        return
    ds = scalar_dtype(scalar)
    ct = computation_type(dtype, ds, op in ("/", "//", "%"), b_scalar=True)
    # The number is converted straight to the computation type.
    y = np.full(SIZE, scalar, dtype=np_dtype(ct))
    expected, dz2 = binary_reference(op, x, y, dtype, ct)
    assert dz2 == dz
    z = np.zeros(SIZE, dtype=np_dtype(dz))
    kernel[(1,)](z, x, scalar, tl_dtype(dz), SIZE)
    assert_close(z, expected, dz, msg=f"{dtype} {op} {scalar!r} on {engine}", **_tolerance(op, dz))


@pytest.mark.parametrize("scalar", [3, 2.5], ids=lambda s: f"s{s!r}")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["-", "/", "<", "//"])
def test_constexpr_lhs(engine, op, dtype, scalar):
    _, y = _inputs(op, "float32" if isinstance(scalar, float) else "int32", dtype, ("c-lhs", op, dtype, scalar))
    kernel = kernel_from_template(CONSTEXPR_LHS_TEMPLATE, EXPR=f"x {op} y")
    try:
        dz = _scalar_case(op, dtype, scalar, scalar_on_left=True)
    except TritonTypeError:
        with pytest.raises(triton.CompilationError):
            kernel[(1,)](np.zeros(SIZE, np.float32), scalar, y, tl.float32, SIZE)
        return
    ds = scalar_dtype(scalar)
    ct = computation_type(ds, dtype, op in ("/", "//", "%"), a_scalar=True)
    x = np.full(SIZE, scalar, dtype=np_dtype(ct))
    expected, _ = binary_reference(op, x, y, ct, dtype)
    z = np.zeros(SIZE, dtype=np_dtype(dz))
    kernel[(1,)](z, scalar, y, tl_dtype(dz), SIZE)
    assert_close(z, expected, dz, msg=f"{scalar!r} {op} {dtype} on {engine}")


@pytest.mark.parametrize("scalar", [3, 2.5], ids=lambda s: f"s{s!r}")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["+", "*", "<"])
def test_runtime_scalar_rhs(engine, op, dtype, scalar):
    # A runtime int argument is an i32 value and a float argument an f32 value: they take
    # part in promotion as tensors do (i8 tensor + i32 argument is i32).
    ds = scalar_dtype(scalar)
    x, _ = _inputs(op, dtype, ds, ("rt-rhs", op, dtype, scalar))
    kernel = kernel_from_template(RUNTIME_RHS_TEMPLATE, EXPR=f"x {op} y")
    y = np.full(SIZE, scalar, dtype=np_dtype(ds))
    expected, dz = binary_reference(op, x, y, dtype, ds)
    z = np.zeros(SIZE, dtype=np_dtype(dz))
    kernel[(1,)](z, x, scalar, tl_dtype(dz), SIZE)
    assert_close(z, expected, dz, msg=f"{dtype} {op} arg {scalar!r} on {engine}")


# ---------------------------------------------------------------------------------------------
# unary ops
# ---------------------------------------------------------------------------------------------

UNARY_TEMPLATE = """
@triton.jit
def conformance_kernel(Z, X, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    x = tl.load(X + off)
    z = EXPR
    tl.static_assert(z.dtype == x.dtype)
    tl.store(Z + off, z)
"""


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("expr", ["-x", "~x", "tl.abs(x)", "+x"])
def test_unary_op(engine, expr, dtype):
    x = random_array(rng("unary", expr, dtype), dtype, SIZE)
    kernel = kernel_from_template(UNARY_TEMPLATE, EXPR=expr)
    z = np.zeros_like(x)
    if expr == "~x" and is_float(dtype):
        with pytest.raises(triton.CompilationError):
            kernel[(1,)](z, x, SIZE)
        return
    with np.errstate(all="ignore"):
        expected = {"-x": lambda: -x, "~x": lambda: ~x, "tl.abs(x)": lambda: np.abs(x), "+x": lambda: x}[expr]()
    kernel[(1,)](z, x, SIZE)
    assert_close(z, expected.astype(x.dtype), dtype, msg=f"{expr} on {dtype} ({engine})")


# Triton checks these take fp32 (or fp64) only: on fp16 it raises "Expected dtype ['fp32',
# 'fp64'] but got fp16"; users write `x.to(tl.float32)` first.
F32_ONLY_MATH = {"exp", "exp2", "log", "log2", "sqrt", "sqrt_rn", "rsqrt", "sin", "cos", "floor", "ceil", "erf"}

# name -> (numpy reference, input domain, f32 tolerance (rtol, atol))
MATH_FUNCS = {
    "exp": (np.exp, (-5, 5), (1e-5, 1e-6)),
    "exp2": (np.exp2, (-5, 5), (1e-5, 1e-6)),
    "log": (np.log, (0.01, 50), (1e-5, 1e-6)),
    "log2": (np.log2, (0.01, 50), (1e-5, 1e-6)),
    "sqrt": (np.sqrt, (0, 50), (1e-6, 1e-7)),
    "sqrt_rn": (np.sqrt, (0, 50), (1e-6, 1e-7)),
    "rsqrt": (lambda v: 1 / np.sqrt(v), (0.01, 50), (1e-5, 1e-6)),
    "sin": (np.sin, (-3, 3), (1e-4, 5e-4)),
    "cos": (np.cos, (-3, 3), (1e-4, 5e-4)),
    "floor": (np.floor, (-10, 10), (0, 0)),
    "ceil": (np.ceil, (-10, 10), (0, 0)),
    "abs": (np.abs, (-10, 10), (0, 0)),
    "erf": (None, (-3, 3), (1e-5, 1e-5)),
}


def _erf(v):
    import math

    return np.array([math.erf(float(t)) for t in v.ravel()]).reshape(v.shape)


@pytest.mark.parametrize("form", ["tl", "tl.math", "method"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("fn", list(MATH_FUNCS))
def test_math(engine, fn, dtype, form):
    ref, (lo, hi), (rtol, atol) = MATH_FUNCS[fn]
    ref = _erf if fn == "erf" else ref
    expr = {"tl": f"tl.{fn}(x)", "tl.math": f"tl.math.{fn}(x)", "method": f"x.{fn}()"}[form]
    x = random_array(rng("math", fn, dtype), dtype, SIZE, lo, hi)
    kernel = kernel_from_template(UNARY_TEMPLATE, EXPR=expr)
    z = np.zeros_like(x)
    if dtype != "float32" and fn in F32_ONLY_MATH:
        with pytest.raises(triton.CompilationError, match="Expected dtype"):
            kernel[(1,)](z, x, SIZE)
        return
    kernel[(1,)](z, x, SIZE)
    expected = ref(x.astype(np.float64))
    if dtype == "float16":
        rtol, atol = max(rtol, 2e-3), max(atol, 2e-3)
    assert_close(z, expected, dtype, rtol=rtol, atol=atol, msg=f"{expr} on {dtype} ({engine})")


# ---------------------------------------------------------------------------------------------
# where, maximum, minimum
# ---------------------------------------------------------------------------------------------

WHERE_TEMPLATE = """
@triton.jit
def conformance_kernel(Z, C, X, Y, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    c = tl.load(C + off)
    x = tl.load(X + off)
    y = tl.load(Y + off)
    z = tl.where(EXPR, x, y)
    tl.store(Z + off, z)
"""


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cond", ["c", "c != 0", "x > y"])
def test_where(engine, dtype, cond):
    r = rng("where", dtype, cond)
    c = random_array(r, "int1", SIZE)
    x = random_array(r, dtype, SIZE)
    y = random_array(r, dtype, SIZE)
    kernel = kernel_from_template(WHERE_TEMPLATE, EXPR=cond)
    z = np.zeros_like(x)
    kernel[(1,)](z, c, x, y, SIZE)
    mask = c if cond != "x > y" else x > y
    assert_close(z, np.where(mask, x, y), dtype, msg=f"where({cond}) on {dtype} ({engine})")


WHERE_SCALAR_TEMPLATE = """
@triton.jit
def conformance_kernel(Z, X, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    x = tl.load(X + off)
    z = tl.where(x > 0, x, 0)
    tl.static_assert(z.dtype == x.dtype)
    tl.store(Z + off, z)
"""


@pytest.mark.parametrize("dtype", [d for d in DTYPES if d not in ("uint8", "uint16", "uint32", "uint64")])
def test_where_scalar_other(engine, dtype):
    x = random_array(rng("where-scalar", dtype), dtype, SIZE)
    kernel = kernel_from_template(WHERE_SCALAR_TEMPLATE)
    z = np.zeros_like(x)
    kernel[(1,)](z, x, SIZE)
    assert_close(z, np.where(x > 0, x, np.zeros_like(x)), dtype)


MINMAX_TEMPLATE = """
@triton.jit
def conformance_kernel(Z, X, Y, ZT: tl.constexpr, SIZE: tl.constexpr):
    off = tl.arange(0, SIZE)
    x = tl.load(X + off)
    y = tl.load(Y + off)
    z = tl.FN(x, y)
    tl.static_assert(z.dtype == ZT)
    tl.store(Z + off, z)
"""


@pytest.mark.parametrize("dx, dy", PAIRS)
@pytest.mark.parametrize("fn", ["maximum", "minimum"])
def test_maximum_minimum(engine, fn, dx, dy):
    x, y = _inputs("+", dx, dy, ("minmax", fn, dx, dy))
    dz = computation_type(dx, dy)
    with np.errstate(all="ignore"):
        xs = x.astype(np_dtype(dz))
        ys = y.astype(np_dtype(dz))
    expected = np.maximum(xs, ys) if fn == "maximum" else np.minimum(xs, ys)
    kernel = kernel_from_template(MINMAX_TEMPLATE, FN=fn)
    z = np.zeros(SIZE, dtype=np_dtype(dz))
    kernel[(1,)](z, x, y, tl_dtype(dz), SIZE)
    assert_close(z, expected, dz, msg=f"{fn}({dx}, {dy}) on {engine}")


@pytest.mark.parametrize("fn", ["maximum", "minimum"])
def test_maximum_minimum_nan_default_ignores_nan(engine, fn):
    # The default propagate_nan=NONE is maxnum/minnum: a NaN operand yields the other one.
    r = rng("minmax-nan", fn)
    x = random_array(r, "float32", SIZE)
    y = random_array(r, "float32", SIZE)
    x[::4] = np.nan
    y[1::4] = np.nan
    kernel = kernel_from_template(MINMAX_TEMPLATE, FN=fn)
    z = np.zeros(SIZE, dtype=np.float32)
    kernel[(1,)](z, x, y, tl.float32, SIZE)
    expected = np.fmax(x, y) if fn == "maximum" else np.fmin(x, y)
    assert_close(z, expected, "float32")
