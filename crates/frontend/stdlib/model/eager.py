"""An eager numpy model of the `tl` builtins the standard library uses, to run the
stdlib's Triton-language source as plain Python and check its algorithms against numpy,
independently of the compiler.

Tensors are `T` (a numpy array with Triton's `.dtype`, `.shape` list, `.numel` and `.to`);
arithmetic follows numpy's weak-scalar rules, which match Triton's for the operations the
stdlib performs (integers wrap, a Python float with an integer tensor computes in f32).
Reductions and scans fold left to right: the combine functions are associative, and the
left fold fixes the order ties are broken in.
"""

import builtins
import math
import operator
import pathlib
import types

import numpy as np

STDLIB = pathlib.Path(__file__).resolve().parent.parent


class DType:
    def __init__(self, np_dtype, name):
        self.np = np.dtype(np_dtype)
        self.name = name

    def __eq__(self, other):
        return isinstance(other, DType) and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return self.name

    @property
    def primitive_bitwidth(self):
        return 1 if self.name == "int1" else self.np.itemsize * 8

    def is_floating(self):
        return self.np.kind == "f"

    def is_int_signed(self):
        return self.name in ("int8", "int16", "int32", "int64")

    def is_int_unsigned(self):
        # Triton counts int1 among the unsigned types.
        return self.name in ("int1", "uint8", "uint16", "uint32", "uint64")

    def is_int(self):
        return self.is_int_signed() or self.is_int_unsigned()


DTYPES = {
    n: DType(t, n)
    for n, t in [
        ("int1", np.bool_),
        ("int8", np.int8),
        ("int16", np.int16),
        ("int32", np.int32),
        ("int64", np.int64),
        ("uint8", np.uint8),
        ("uint16", np.uint16),
        ("uint32", np.uint32),
        ("uint64", np.uint64),
        ("float16", np.float16),
        ("float32", np.float32),
        ("float64", np.float64),
    ]
}


def dtype_of(a):
    for d in DTYPES.values():
        if d.np == a.dtype:
            return d
    raise TypeError(f"no tl dtype for {a.dtype}")


def un(x):
    return x.a if isinstance(x, T) else x


class T:
    """A tensor."""

    __hash__ = None

    def __init__(self, a):
        self.a = np.asarray(a)

    @property
    def dtype(self):
        return dtype_of(self.a)

    @property
    def shape(self):
        return list(self.a.shape)

    @property
    def numel(self):
        return int(self.a.size)

    def to(self, dtype, bitcast=False):
        if bitcast:
            return T(self.a.view(dtype.np))
        with np.errstate(all="ignore"):
            return T(self.a.astype(dtype.np))

    def __neg__(self):
        return T(np.negative(self.a))

    def __repr__(self):
        return f"T({self.a!r})"


def _floatify(a, other):
    # Triton: an integer tensor with a Python float computes in f32 (numpy would use f64).
    if isinstance(other, float) and a.dtype.kind in "iub":
        return a.astype(np.float32)
    return a


def _binary(op):
    def forward(self, other):
        with np.errstate(all="ignore"):
            return T(op(_floatify(self.a, other), un(other)))

    def reflected(self, other):
        with np.errstate(all="ignore"):
            return T(op(un(other), _floatify(self.a, other)))

    return forward, reflected


for _name, _op in [
    ("add", operator.add),
    ("sub", operator.sub),
    ("mul", operator.mul),
    ("truediv", operator.truediv),
    ("floordiv", operator.floordiv),
    ("mod", operator.mod),
    ("xor", operator.xor),
    ("and", operator.and_),
    ("or", operator.or_),
    ("lshift", operator.lshift),
    ("rshift", operator.rshift),
]:
    _f, _r = _binary(_op)
    setattr(T, f"__{_name}__", _f)
    setattr(T, f"__r{_name}__", _r)
for _name, _op in [
    ("lt", operator.lt),
    ("le", operator.le),
    ("gt", operator.gt),
    ("ge", operator.ge),
    ("eq", operator.eq),
    ("ne", operator.ne),
]:
    setattr(T, f"__{_name}__", _binary(_op)[0])


def to_tensor(x):
    if isinstance(x, T):
        return x
    if isinstance(x, bool):
        return T(np.array(x))
    if isinstance(x, int):
        for lo, hi, t in [
            (-(2**31), 2**31, np.int32),
            (2**31, 2**32, np.uint32),
            (-(2**63), 2**63, np.int64),
        ]:
            if lo <= x < hi:
                return T(np.array(x, t))
        return T(np.array(x, np.uint64))
    return T(np.array(x, np.float32))


def umulhi(a, b):
    if not isinstance(a, T):
        a = T(np.array(a, dtype=un(b).dtype))
    if not isinstance(b, T):
        b = T(np.array(b, dtype=un(a).dtype))
    if a.a.dtype == np.uint32:
        p = a.a.astype(np.uint64) * b.a.astype(np.uint64)
        return T((p >> np.uint64(32)).astype(np.uint32))
    if a.a.dtype == np.uint64:
        hi = np.frompyfunc(lambda x, y: (int(x) * int(y)) >> 64, 2, 1)
        return T(hi(a.a, b.a).astype(np.uint64))
    raise TypeError(f"umulhi of {a.a.dtype}")


def _fold(xs, axis, combine, keep_dims):
    xs = [un(x) for x in xs]
    ndim = xs[0].ndim
    if axis is None:
        xs = [x.reshape(-1) for x in xs]
        ax = 0
    else:
        ax = axis % ndim
    xs = [np.moveaxis(x, ax, -1) for x in xs]
    acc = [T(x[..., 0]) for x in xs]
    for i in range(1, xs[0].shape[-1]):
        r = combine(*acc, *[T(x[..., i]) for x in xs])
        acc = list(r) if isinstance(r, tuple) else [r]
    out = [a.a for a in acc]
    if keep_dims:
        if axis is None:
            out = [o.reshape([1] * ndim) for o in out]
        else:
            out = [np.expand_dims(o, ax) for o in out]
    return out


def reduce(input, axis, combine_fn, keep_dims=False):
    if isinstance(input, tuple):
        return tuple(T(o) for o in _fold(list(input), axis, combine_fn, keep_dims))
    return T(_fold([input], axis, combine_fn, keep_dims)[0])


def associative_scan(input, axis, combine_fn, reverse=False):
    x = np.moveaxis(un(input), axis % un(input).ndim, -1)
    if reverse:
        x = x[..., ::-1]
    acc = T(x[..., 0])
    outs = [acc.a]
    for i in range(1, x.shape[-1]):
        acc = combine_fn(acc, T(x[..., i]))
        outs.append(acc.a)
    o = np.stack(outs, axis=-1)
    if reverse:
        o = o[..., ::-1]
    return T(np.moveaxis(o, -1, axis % o.ndim))


def static_assert(cond, msg=""):
    assert cond, msg


def _unary(f):
    return lambda x: T(f(un(x)))


tl = types.ModuleType("triton.language")
for _n, _d in DTYPES.items():
    setattr(tl, _n, _d)
# Only compared against, never computed with.
tl.bfloat16 = DType(np.float32, "bfloat16")
tl.constexpr = lambda x: x
tl.static_range = lambda *a: range(*a)
tl.static_assert = static_assert
tl.arange = lambda start, end: T(np.arange(start, end, dtype=np.int32))
tl.full = lambda shape, value, dtype: T(np.full(tuple(shape), value, dtype=dtype.np))
tl.reshape = lambda x, shape, can_reorder=False: T(un(x).reshape(tuple(shape)))
tl.expand_dims = lambda x, axis: T(np.expand_dims(un(x), axis))
tl.broadcast_to = lambda x, shape: T(np.broadcast_to(un(x), tuple(shape)))
tl.join = lambda a, b: T(np.stack([un(a), un(b)], axis=-1))
tl.where = lambda c, x, y: T(np.where(un(c), un(x), un(y)))
tl.maximum = lambda a, b: T(np.maximum(un(a), un(b)))
tl.minimum = lambda a, b: T(np.minimum(un(a), un(b)))
for _n in ["exp", "log", "sqrt", "sin", "cos"]:
    setattr(tl, _n, _unary(getattr(np, _n)))
tl.fdiv = lambda a, b, ieee_rounding=False: T(un(a) / un(b))
tl.to_tensor = to_tensor
tl.umulhi = umulhi
tl.reduce = reduce
tl.associative_scan = associative_scan

triton = types.ModuleType("triton")
triton.jit = lambda f: f
triton.language = tl


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    if name == "triton.language" and fromlist:
        return tl
    if name in ("triton", "triton.language"):
        return triton
    return builtins.__import__(name, globals, locals, fromlist, level)


def load(name):
    """Execute `crates/frontend/stdlib/<name>.py` with the model's `triton` and `tl`."""
    path = STDLIB / f"{name}.py"
    ns = {"__builtins__": {**vars(builtins), "__import__": _import}, "__name__": name}
    exec(compile(path.read_text(), str(path), "exec"), ns)
    return types.SimpleNamespace(**ns)


__all__ = ["T", "tl", "load", "un", "math"]
