"""The parts of ``triton.language`` that Triton writes in the Triton language itself
(``triton.language.standard``), written again for triton-metal from their documented
semantics.

Every function here is compiled like a user ``@triton.jit`` function: the frontend inlines
it at each call. ``crates/frontend/src/stdlib.rs`` binds the free names of each function:
the modules imported below, the other top-level functions of this file and its top-level
constants. Nothing else is visible, so this file must only use what a kernel may use.

Conventions of this file:
- Public functions keep Triton's signatures and defaults exactly.
- ``sum``, ``max`` and ``min`` shadow Python builtins, which a bare name would reach inside
  a kernel: the other functions call their private implementations (``_sum``, ...).
- Dtype-dependent code is a constexpr ``if`` on ``x.dtype``: only the taken branch is
  compiled.
"""

import math

import triton
import triton.language as tl

# -----------------------------------------------------------------------------
# Compile-time helpers: constexpr in, constexpr out
# -----------------------------------------------------------------------------


@triton.jit
def _log2(n: tl.constexpr):
    # floor(log2(n)) for n >= 1. Tensor sizes are far below 2**52, so the float result is
    # exact for powers of two and never rounds up to the next integer otherwise.
    return int(math.log2(n))


@triton.jit
def _is_power_of_two(n: tl.constexpr):
    return ((n & (n - 1)) == 0) and (n != 0)


@triton.jit
def _wrap_axis(axis: tl.constexpr, ndim: tl.constexpr):
    if axis < 0:
        a: tl.constexpr = axis + ndim
    else:
        a: tl.constexpr = axis
    tl.static_assert((a >= 0) and (a < ndim), "axis out of range")
    return a


@triton.jit
def _signed_int_dtype(bits: tl.constexpr):
    # The signed integer type of a width, for bitcasts of floats.
    if bits == 8:
        d = tl.int8
    elif bits == 16:
        d = tl.int16
    elif bits == 32:
        d = tl.int32
    else:
        tl.static_assert(bits == 64, "no integer type of this width")
        d = tl.int64
    return d


@triton.jit
def _to_int_bits(x):
    # Floats as the integers of their bits, so that xor can move them around exactly.
    if x.dtype.is_floating():
        y = x.to(_signed_int_dtype(x.dtype.primitive_bitwidth), bitcast=True)
    else:
        y = x
    return y


@triton.jit
def _from_int_bits(y, dtype: tl.constexpr):
    if dtype.is_floating():
        x = y.to(dtype, bitcast=True)
    else:
        x = y
    return x


@triton.jit
def _promote_bfloat16_to_float32(t):
    # bf16 has no native min/max/compare on most hardware: Triton reduces it in f32.
    if t.dtype == tl.bfloat16:
        t = t.to(tl.float32)
    return t


# -----------------------------------------------------------------------------
# Elementwise helpers
# -----------------------------------------------------------------------------


@triton.jit
def cdiv(x, div):
    return (x + div - 1) // div


@triton.jit
def sigmoid(x):
    return 1 / (1 + tl.exp(-x))


@triton.jit
def softmax(x, dim=None, keep_dims=False, ieee_rounding=False):
    if dim is None:
        _dim: tl.constexpr = 0
    else:
        _dim: tl.constexpr = dim
    z = x - _max(x, _dim, False, True, keep_dims)
    num = tl.exp(z)
    den = _sum(num, _dim, keep_dims, None)
    return tl.fdiv(num, den, ieee_rounding)


@triton.jit
def ravel(x, can_reorder=False):
    return tl.reshape(x, [x.numel], can_reorder=can_reorder)


@triton.jit
def swizzle2d(i, j, size_i, size_j, size_g):
    # Row-major (i, j) of a size_i x size_j grid to the column-major order of each group of
    # size_g rows: consecutive programs share rows of one operand (tutorial 03).
    ij = i * size_j + j
    size_gj = size_g * size_j
    group_id = ij // size_gj
    off_i = group_id * size_g
    # The last group may have fewer rows.
    size_g = tl.minimum(size_i - off_i, size_g)
    ij = ij % size_gj
    new_i = off_i + ij % size_g
    new_j = ij // size_g
    return new_i, new_j


@triton.jit
def zeros(shape, dtype):
    return tl.full(shape, 0, dtype)


@triton.jit
def zeros_like(input):
    return zeros(input.shape, input.dtype)


# -----------------------------------------------------------------------------
# Reductions
# -----------------------------------------------------------------------------


@triton.jit
def _reduce_with_indices(input, axis, combine_fn, keep_dims):
    # Reduce (value, index) pairs. With no axis the index is the flat (row-major) one, as
    # numpy's argmax gives.
    if axis is None:
        index = tl.reshape(tl.arange(0, input.numel), input.shape)
        ret = tl.reduce((input, index), None, combine_fn, keep_dims=keep_dims)
    else:
        _axis: tl.constexpr = _wrap_axis(axis, len(input.shape))
        index = tl.arange(0, input.shape[_axis])
        for d in tl.static_range(len(input.shape)):
            if d != _axis:
                index = tl.expand_dims(index, d)
        index = tl.broadcast_to(index, input.shape)
        ret = tl.reduce((input, index), _axis, combine_fn, keep_dims=keep_dims)
    return ret


@triton.jit
def _argmax_combine(value1, index1, value2, index2, tie_break_left: tl.constexpr):
    gt = value1 > value2
    if tie_break_left:
        gt = gt | ((value1 == value2) & (index1 < index2))
    return tl.where(gt, value1, value2), tl.where(gt, index1, index2)


@triton.jit
def _argmax_combine_tie_break_left(value1, index1, value2, index2):
    return _argmax_combine(value1, index1, value2, index2, True)


@triton.jit
def _argmax_combine_tie_break_fast(value1, index1, value2, index2):
    return _argmax_combine(value1, index1, value2, index2, False)


@triton.jit
def _argmin_combine(value1, index1, value2, index2, tie_break_left: tl.constexpr):
    lt = value1 < value2
    if tie_break_left:
        lt = lt | ((value1 == value2) & (index1 < index2))
    return tl.where(lt, value1, value2), tl.where(lt, index1, index2)


@triton.jit
def _argmin_combine_tie_break_left(value1, index1, value2, index2):
    return _argmin_combine(value1, index1, value2, index2, True)


@triton.jit
def _argmin_combine_tie_break_fast(value1, index1, value2, index2):
    return _argmin_combine(value1, index1, value2, index2, False)


@triton.jit
def _elementwise_max(a, b):
    return tl.maximum(a, b)


@triton.jit
def _elementwise_min(a, b):
    return tl.minimum(a, b)


@triton.jit
def _widen_for_minmax(input):
    # Narrow types are compared in 32 bits: floats in f32, integers (bools too) in int32.
    if input.dtype.primitive_bitwidth < 32:
        if input.dtype.is_floating():
            input = input.to(tl.float32)
        else:
            tl.static_assert(input.dtype.is_int(), "Expecting input to be integer type")
            input = input.to(tl.int32)
    return input


@triton.jit
def _max(input, axis, return_indices, tie_break_left, keep_dims):
    input = _promote_bfloat16_to_float32(input)
    if return_indices:
        if tie_break_left:
            ret = _reduce_with_indices(input, axis, _argmax_combine_tie_break_left, keep_dims)
        else:
            ret = _reduce_with_indices(input, axis, _argmax_combine_tie_break_fast, keep_dims)
    else:
        ret = tl.reduce(_widen_for_minmax(input), axis, _elementwise_max, keep_dims=keep_dims)
    return ret


@triton.jit
def _min(input, axis, return_indices, tie_break_left, keep_dims):
    input = _promote_bfloat16_to_float32(input)
    if return_indices:
        if tie_break_left:
            ret = _reduce_with_indices(input, axis, _argmin_combine_tie_break_left, keep_dims)
        else:
            ret = _reduce_with_indices(input, axis, _argmin_combine_tie_break_fast, keep_dims)
    else:
        ret = tl.reduce(_widen_for_minmax(input), axis, _elementwise_min, keep_dims=keep_dims)
    return ret


@triton.jit
def max(input, axis=None, return_indices=False, return_indices_tie_break_left=True, keep_dims=False):
    return _max(input, axis, return_indices, return_indices_tie_break_left, keep_dims)


@triton.jit
def argmax(input, axis, tie_break_left=True, keep_dims=False):
    _, ret = _max(input, axis, True, tie_break_left, keep_dims)
    return ret


@triton.jit
def min(input, axis=None, return_indices=False, return_indices_tie_break_left=True, keep_dims=False):
    return _min(input, axis, return_indices, return_indices_tie_break_left, keep_dims)


@triton.jit
def argmin(input, axis, tie_break_left=True, keep_dims=False):
    _, ret = _min(input, axis, True, tie_break_left, keep_dims)
    return ret


@triton.jit
def _sum_combine(a, b):
    return a + b


@triton.jit
def _pick_sum_dtype(in_dtype: tl.constexpr, dtype: tl.constexpr):
    # Integers narrower than 32 bits accumulate in 32 bits of their signedness. Triton
    # counts int1 among the unsigned types, so bools sum to uint32.
    out_dtype = dtype
    if dtype is None:
        if in_dtype.is_int_signed():
            if in_dtype.primitive_bitwidth < 32:
                out_dtype = tl.int32
        elif in_dtype.is_int_unsigned():
            if in_dtype.primitive_bitwidth < 32:
                out_dtype = tl.uint32
    return out_dtype


@triton.jit
def _sum(input, axis, keep_dims, dtype: tl.constexpr):
    out_dtype: tl.constexpr = _pick_sum_dtype(input.dtype, dtype)
    if out_dtype is not None:
        input = input.to(out_dtype)
    return tl.reduce(input, axis, _sum_combine, keep_dims=keep_dims)


@triton.jit
def sum(input, axis=None, keep_dims=False, dtype: tl.constexpr = None):
    return _sum(input, axis, keep_dims, dtype)


@triton.jit
def _xor_combine(a, b):
    return a ^ b


@triton.jit
def xor_sum(input, axis=None, keep_dims=False):
    tl.static_assert(input.dtype.is_int(), "xor_sum only supported for integers")
    return tl.reduce(input, axis, _xor_combine, keep_dims=keep_dims)


@triton.jit
def _or_combine(x, y):
    return x | y


@triton.jit
def reduce_or(input, axis, keep_dims=False):
    tl.static_assert(input.dtype.is_int(), "reduce_or only supported for integers")
    return tl.reduce(input, axis, _or_combine, keep_dims=keep_dims)


# -----------------------------------------------------------------------------
# Scans
# -----------------------------------------------------------------------------


@triton.jit
def cumsum(input, axis=0, reverse=False, dtype: tl.constexpr = None):
    input = _promote_bfloat16_to_float32(input)
    out_dtype: tl.constexpr = _pick_sum_dtype(input.dtype, dtype)
    if out_dtype is not None:
        input = input.to(out_dtype)
    return tl.associative_scan(input, axis, _sum_combine, reverse)


@triton.jit
def _prod_combine(a, b):
    return a * b


@triton.jit
def cumprod(input, axis=0, reverse=False):
    input = _promote_bfloat16_to_float32(input)
    return tl.associative_scan(input, axis, _prod_combine, reverse)


# -----------------------------------------------------------------------------
# Sorting. A tensor of 2**n elements is viewed as a hypercube [2, 2, ..., 2]: bit b of the
# flat index is axis n - 1 - b. The partner of an element across bit b is reached without
# any data movement primitive: xor-reducing the bits over that axis of size 2 gives a ^ b,
# and a ^ (a ^ b) = b.
# -----------------------------------------------------------------------------


@triton.jit
def _indicator(n_dims: tl.constexpr, j: tl.constexpr):
    # 0, 1 along the j-th innermost of n_dims axes, size 1 on the others: whether an element
    # sits on the right of its pair across bit j.
    ar = tl.arange(0, 2)
    for d in tl.static_range(n_dims):
        if d != n_dims - 1 - j:
            ar = tl.expand_dims(ar, d)
    return ar


@triton.jit
def _compare_and_swap(x, flip, i: tl.constexpr):
    # One step of a bitonic network across bit i; `flip` (0, 1 or an indicator tensor)
    # selects descending order where it is 1.
    n_dims: tl.constexpr = _log2(x.numel)
    ix = _to_int_bits(x)
    iy = ix ^ xor_sum(ix, n_dims - 1 - i, True)
    y = _from_int_bits(iy, x.dtype)
    is_right = _indicator(n_dims, i)
    return tl.where((x > y) != (flip ^ is_right), y, x)


@triton.jit
def _bitonic_merge_hypercube(x, stage: tl.constexpr, order: tl.constexpr):
    # order 0: ascending, 1: descending, 2: alternating runs of 2**stage elements (the
    # bitonic sequences the next stage merges).
    if order == 2:
        flip = _indicator(_log2(x.numel), stage)
    else:
        flip = order
    for i in tl.static_range(stage):
        x = _compare_and_swap(x, flip, stage - 1 - i)
    return x


@triton.jit
def _bitonic_merge(x, stage: tl.constexpr, order: tl.constexpr, n_dims: tl.constexpr):
    h = tl.reshape(x, [2] * _log2(x.numel))
    h = _bitonic_merge_hypercube(h, stage, order)
    x = tl.reshape(h, x.shape)
    return x


@triton.jit
def _order_of(descending: tl.constexpr):
    # `descending` may be a bool: the network wants 0 or 1.
    if descending:
        o: tl.constexpr = 1
    else:
        o: tl.constexpr = 0
    return o


@triton.jit
def sort_impl(x, k: tl.constexpr = None, dim: tl.constexpr = None, descending: tl.constexpr = 0):
    if dim is None:
        _dim: tl.constexpr = len(x.shape) - 1
    else:
        _dim: tl.constexpr = dim
    tl.static_assert(_dim == len(x.shape) - 1, "only minor dimension is currently supported")
    tl.static_assert(_is_power_of_two(x.shape[_dim]), "sort needs a power-of-two size")
    desc: tl.constexpr = _order_of(descending)
    log_n: tl.constexpr = _log2(x.shape[_dim])
    if k is None:
        log_k: tl.constexpr = log_n
    else:
        log_k: tl.constexpr = _log2(k)
    n_dims: tl.constexpr = _log2(x.numel)
    h = tl.reshape(x, [2] * n_dims)
    # Sort runs of 2**log_k elements; all but the last stage alternate their order.
    for i in tl.static_range(1, log_k + 1):
        if i < log_n:
            h = _bitonic_merge_hypercube(h, i, 2)
        else:
            h = _bitonic_merge_hypercube(h, i, desc)
    # Top-k: keep the better of each pair of sorted runs, then merge what is left.
    for i in tl.static_range(log_k + 1, log_n + 1):
        if desc:
            h = _max(h, _log2(h.numel) - 1 - log_k, False, True, False)
        else:
            h = _min(h, _log2(h.numel) - 1 - log_k, False, True, False)
        if i < log_n:
            h = _bitonic_merge_hypercube(h, log_k, 2)
        else:
            h = _bitonic_merge_hypercube(h, log_k, desc)
    if k is None:
        out = tl.reshape(h, x.shape)
    else:
        out = tl.reshape(h, x.shape[:-1] + [2**log_k])
    return out


@triton.jit
def sort(x, dim: tl.constexpr = None, descending: tl.constexpr = 0):
    return sort_impl(x, dim=dim, descending=descending)


@triton.jit
def topk(x, k: tl.constexpr, dim: tl.constexpr = None):
    return sort_impl(x, k=k, dim=dim, descending=True)


@triton.jit
def bitonic_merge(x, dim: tl.constexpr = None, descending: tl.constexpr = 0):
    if dim is None:
        _dim: tl.constexpr = len(x.shape) - 1
    else:
        _dim: tl.constexpr = dim
    tl.static_assert(_dim == len(x.shape) - 1, "only minor dimension is currently supported")
    n_dims: tl.constexpr = _log2(x.shape[-1])
    return _bitonic_merge(x, n_dims, _order_of(descending), n_dims)


# -----------------------------------------------------------------------------
# Shapes
# -----------------------------------------------------------------------------


@triton.jit
def flip(x, dim=None):
    if dim is None:
        _dim: tl.constexpr = len(x.shape) - 1
    elif dim < 0:
        _dim: tl.constexpr = dim + len(x.shape)
    else:
        _dim: tl.constexpr = dim
    tl.static_assert((_dim >= 0) and (_dim < len(x.shape)), "flip: dim out of range")
    tl.static_assert(_is_power_of_two(x.shape[_dim]), "flip needs a power-of-two size")
    steps: tl.constexpr = _log2(x.shape[_dim])
    # Split the flipped axis into `steps` axes of 2; reversing it swaps along each of them.
    y = tl.reshape(_to_int_bits(x), x.shape[:_dim] + [2] * steps + x.shape[_dim + 1:])
    for i in tl.static_range(steps):
        y = y ^ xor_sum(y, _dim + i, True)
    y = tl.reshape(y, x.shape)
    return _from_int_bits(y, x.dtype)


@triton.jit
def interleave(a, b):
    c = tl.join(a, b)
    if len(c.shape) == 1:
        # Two scalars: join already interleaved them.
        out = c
    else:
        out = tl.reshape(c, c.shape[:-2] + [2 * c.shape[-2]])
    return out
