"""Shared pieces of the conformance suite: the dtype matrix, Triton's typing rules written out
as small tables (the expected result dtype of every case is computed here, never read from
the compiler), numpy references with Triton's integer semantics, input generators, kernels
generated from templates, and comparisons with dtype-appropriate tolerances.

The rules below follow `triton/language/semantic.py` (Triton 3.x): `computation_type_impl`,
`integer_promote_impl`, `to_tensor_type`, `truediv`, `floordiv`, `mod` and the bitwise ops.
"""

from __future__ import annotations

import hashlib
import importlib.util
import pathlib
import tempfile
import textwrap

import numpy as np

import triton_metal as triton
import triton_metal.language as tl

# ---------------------------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------------------------

INT_DTYPES = ["int8", "int16", "int32", "int64"]
UINT_DTYPES = ["uint8", "uint16", "uint32", "uint64"]
INTEGRAL_DTYPES = INT_DTYPES + UINT_DTYPES
FLOAT_DTYPES = ["float16", "float32"]
# bfloat16 joins the matrix once numpy can hold it here (ml_dtypes) and the engines have it.
DTYPES = INTEGRAL_DTYPES + FLOAT_DTYPES


def np_dtype(name: str) -> np.dtype:
    return np.dtype("bool" if name == "int1" else name)


def tl_dtype(name: str):
    return getattr(tl, name)


def bits(name: str) -> int:
    return 1 if name == "int1" else np_dtype(name).itemsize * 8


def is_float(name: str) -> bool:
    return name.startswith("float") or name == "bfloat16"


def is_signed(name: str) -> bool:
    return name in INT_DTYPES


def is_unsigned(name: str) -> bool:
    return name in UINT_DTYPES


def _kind(name: str) -> int:
    # Triton's dtype.kind(): bool < uint < int < float.
    if name == "int1":
        return 0
    if is_unsigned(name):
        return 1
    if is_signed(name):
        return 2
    return 3


class TritonTypeError(Exception):
    """The case is one Triton refuses at compile time; the kernel must not compile."""


def integer_promote(a: str, b: str) -> str:
    """`integer_promote_impl`: C's usual arithmetic conversions, without int promotion."""
    ua, ub = is_unsigned(a), is_unsigned(b)
    if ua == ub:
        return a if bits(a) > bits(b) else b
    if ua:
        return a if bits(a) >= bits(b) else b
    return b if bits(b) >= bits(a) else a


def scalar_dtype(value) -> str:
    """`to_tensor_type`: the dtype of a Python number in a kernel."""
    if isinstance(value, bool):
        return "int1"
    if isinstance(value, int):
        if -(2**31) <= value < 2**31:
            return "int32"
        if 2**31 <= value < 2**32:
            return "uint32"
        if -(2**63) <= value < 2**63:
            return "int64"
        return "uint64"
    return "float32"


def computation_type(a: str, b: str, div_or_mod: bool = False, a_scalar=False, b_scalar=False) -> str:
    """`computation_type_impl`. `*_scalar` marks a Python number (a constexpr), which does not
    widen a tensor of the same or a higher kind."""
    if a_scalar != b_scalar:
        s, t = (a, b) if a_scalar else (b, a)
        if _kind(s) <= _kind(t):
            if div_or_mod and t in ("float16", "bfloat16"):
                return "float32"
            return t
    if "float64" in (a, b):
        return "float64"
    if "float32" in (a, b):
        return "float32"
    if "float16" in (a, b):
        return "float32" if div_or_mod else "float16"
    if a == "bfloat16" and b == "bfloat16":
        return "float32" if div_or_mod else "bfloat16"
    if "bfloat16" in (a, b):
        return "float32"
    if div_or_mod and is_unsigned(a) != is_unsigned(b) and "int1" not in (a, b):
        raise TritonTypeError("different signedness")
    return integer_promote(a, b)


ARITH_OPS = ["+", "-", "*", "/", "%"]
COMPARE_OPS = ["==", "!=", "<", "<=", ">", ">="]
BITWISE_OPS = ["&", "|", "^"]
SHIFT_OPS = ["<<", ">>"]


def binary_result_dtype(op: str, a: str, b: str, a_scalar=False, b_scalar=False) -> str:
    """The dtype of `x op y` in Triton, or TritonTypeError when Triton refuses it."""
    div_or_mod = op in ("/", "//", "%")
    ct = computation_type(a, b, div_or_mod, a_scalar, b_scalar)
    if op == "/":
        # int / int is done in f32; float / float in the computation type.
        return ct if is_float(ct) else "float32"
    if op == "//":
        if is_float(ct):
            raise TritonTypeError("floordiv of floats")
        return ct
    if op in COMPARE_OPS:
        return "int1"
    if op in BITWISE_OPS or op in SHIFT_OPS:
        if is_float(ct):
            raise TritonTypeError("bitwise op on floats")
        return ct
    return ct


# ---------------------------------------------------------------------------------------------
# numpy references with Triton's semantics
# ---------------------------------------------------------------------------------------------


def cast_like_triton(x, src: str, dst: str) -> np.ndarray:
    """`x.to(dst)` for values already in dtype `src`: integers wrap (sign- or zero-extended by
    the source's signedness, as numpy's astype does), floats to ints truncate, to bool is
    `!= 0`."""
    x = np.asarray(x, dtype=np_dtype(src))
    if dst == "int1":
        return x != 0
    with np.errstate(all="ignore"):
        return x.astype(np_dtype(dst))


def trunc_div(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """C integer division (rounds toward zero), same dtype in and out."""
    q = x // y  # numpy floors
    if np.issubdtype(x.dtype, np.signedinteger):
        r = x - q * y
        fix = (r != 0) & ((x < 0) != (y < 0))
        q = np.where(fix, q + 1, q).astype(x.dtype)
    return q


def binary_reference(op: str, x, y, dx: str, dy: str, x_scalar=False, y_scalar=False):
    """(expected, dtype) of `x op y` computed as Triton does: both operands converted to the
    computation type first, then the op in that type (wrapping integers)."""
    dz = binary_result_dtype(op, dx, dy, x_scalar, y_scalar)
    if op in SHIFT_OPS:
        # The shift happens at the result's width; `>>` is arithmetic when x's own dtype is
        # signed (Triton picks ashr/lshr from the left operand before promotion).
        width = bits(dz)
        work = f"int{width}" if is_signed(dx) else f"uint{width}"
        xs = cast_like_triton(x, dx, work)
        ys = cast_like_triton(y, dy, work)
        z = (xs << ys) if op == "<<" else (xs >> ys)
        return cast_like_triton(z, work, dz), dz
    if op == "/":
        ct = computation_type(dx, dy, True, x_scalar, y_scalar)
        xs = cast_like_triton(cast_like_triton(x, dx, ct), ct, dz)
        ys = cast_like_triton(cast_like_triton(y, dy, ct), ct, dz)
        with np.errstate(all="ignore"):
            return (xs / ys).astype(np_dtype(dz)), dz
    ct = computation_type(dx, dy, op in ("//", "%"), x_scalar, y_scalar)
    xs = cast_like_triton(x, dx, ct)
    ys = cast_like_triton(y, dy, ct)
    with np.errstate(all="ignore"):
        if op == "+":
            z = xs + ys
        elif op == "-":
            z = xs - ys
        elif op == "*":
            z = xs * ys
        elif op == "%":
            z = np.fmod(xs, ys)  # C remainder for ints, frem for floats
        elif op == "//":
            z = trunc_div(xs, ys)
        elif op == "&":
            z = xs & ys
        elif op == "|":
            z = xs | ys
        elif op == "^":
            z = xs ^ ys
        elif op == "==":
            z = xs == ys
        elif op == "!=":
            z = xs != ys
        elif op == "<":
            z = xs < ys
        elif op == "<=":
            z = xs <= ys
        elif op == ">":
            z = xs > ys
        elif op == ">=":
            z = xs >= ys
        else:
            raise ValueError(op)
    return np.asarray(z).astype(np_dtype(dz)), dz


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------


def rng(*key) -> np.random.Generator:
    """A generator seeded from the case's parameters, so every run sees the same inputs."""
    digest = hashlib.sha256(repr(key).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def random_array(r: np.random.Generator, dtype: str, size, low=None, high=None) -> np.ndarray:
    """Integers uniform over [low, high] (default: the whole range); floats standard normal,
    or uniform over [low, high] when given; bools fair coins."""
    if dtype == "int1":
        return r.integers(0, 2, size=size).astype(np.bool_)
    npd = np_dtype(dtype)
    if np.issubdtype(npd, np.integer):
        info = np.iinfo(npd)
        lo = info.min if low is None else max(int(low), info.min)
        hi = info.max if high is None else min(int(high), info.max)
        return r.integers(lo, hi, size=size, dtype=npd, endpoint=True)
    if low is not None or high is not None:
        lo = -1.0 if low is None else low
        hi = 1.0 if high is None else high
        return r.uniform(lo, hi, size=size).astype(npd)
    return r.standard_normal(size=size).astype(npd)


def exact_int_range(int_dtype: str, float_dtype: str):
    """Bounds for integers that convert to `float_dtype` exactly (so a case about promotion
    does not also test the rounding of conversions)."""
    mant = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}[float_dtype]
    info = np.iinfo(np_dtype(int_dtype))
    return max(info.min, -(2**mant)), min(info.max, 2**mant)


# ---------------------------------------------------------------------------------------------
# comparing
# ---------------------------------------------------------------------------------------------

# (rtol, atol) for results computed by one correctly rounded IEEE op.
_EXACT_OP_TOL = {"float16": (1e-3, 1e-5), "bfloat16": (8e-3, 1e-5), "float32": (1e-6, 1e-12)}


def assert_close(actual: np.ndarray, expected: np.ndarray, dtype: str, rtol=None, atol=None, msg=""):
    """Exact for integers and bools; for floats, within tolerances (NaNs must match NaNs)."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{msg}: shape {actual.shape} != {expected.shape}"
    if dtype == "int1" or not is_float(dtype):
        np.testing.assert_array_equal(actual, expected, err_msg=msg)
        return
    r, a = _EXACT_OP_TOL.get(dtype, (1e-6, 1e-12))
    np.testing.assert_allclose(
        actual.astype(np.float64),
        expected.astype(np.float64),
        rtol=r if rtol is None else rtol,
        atol=a if atol is None else atol,
        equal_nan=True,
        err_msg=msg,
    )


# ---------------------------------------------------------------------------------------------
# kernels generated from templates
# ---------------------------------------------------------------------------------------------

_GENERATED_DIR = pathlib.Path(tempfile.mkdtemp(prefix="tm-conformance-"))
_GENERATED: dict = {}

_HEADER = """\
import triton_metal as triton
import triton_metal.language as tl
from triton_metal.language.extra import libdevice

"""


def kernel_from_template(template: str, name: str = "conformance_kernel", **subs):
    """A @jit function built from `template` with each `KEY` in `subs` replaced by its text,
    as Triton's test_core patches kernels. The source is written to a file (kernels are
    compiled from their source) and the function is made once per distinct source, so its
    compiled specializations are reused by every case that shares it."""
    src = textwrap.dedent(template)
    for key, text in subs.items():
        src = src.replace(key, text)
    fn = _GENERATED.get((src, name))
    if fn is not None:
        return fn
    digest = hashlib.sha1(src.encode()).hexdigest()[:16]
    path = _GENERATED_DIR / f"kernel_{digest}.py"
    path.write_text(_HEADER + src)
    spec = importlib.util.spec_from_file_location(f"tm_conformance_{digest}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, name)
    _GENERATED[(src, name)] = fn
    return fn


def compile_error_expected(fn, *args, **kwargs):
    """Launch and require the CompilationError Triton would raise (a TypeError or ValueError
    in Triton surfaces as a CompilationError there too)."""
    import pytest

    with pytest.raises(triton.CompilationError):
        fn(*args, **kwargs)
