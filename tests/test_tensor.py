"""triton_metal.Tensor: arrays resident on a device, passed to kernels without copies."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)


@triton.jit
def scale_kernel(x_ptr, out_ptr, n, factor, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) * factor, mask=mask)


@triton.jit
def inc_kernel(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=mask) + 1, mask=mask)


def _add(x, y, out, n, block=128):
    add_kernel[(triton.cdiv(n, block),)](x, y, out, n, BLOCK=block)


def test_vector_add_tensors_in_and_out(engine):
    rng = np.random.default_rng(0)
    n = 1000
    x = rng.standard_normal(n, dtype=np.float32)
    y = rng.standard_normal(n, dtype=np.float32)
    tx, ty = triton.tensor(x), triton.tensor(y)
    out = triton.empty((n,), np.float32)
    _add(tx, ty, out, n)
    assert isinstance(out, triton.Tensor)
    np.testing.assert_array_equal(out.numpy(), x + y)
    # The inputs were not changed by the launch.
    np.testing.assert_array_equal(tx.numpy(), x)


def test_chained_launches_without_readback(engine):
    n = 300
    x = np.arange(n, dtype=np.float32)
    t = triton.tensor(x)
    mid = triton.zeros(n, np.float32)
    out = triton.zeros(n, np.float32)
    scale_kernel[(triton.cdiv(n, 128),)](t, mid, n, 2.0, BLOCK=128)
    _add(mid, t, out, n)
    scale_kernel[(triton.cdiv(n, 128),)](out, mid, n, 0.5, BLOCK=128)
    np.testing.assert_array_equal(mid.numpy(), (x * 2 + x) * 0.5)


def test_many_in_place_launches_keep_their_order(engine):
    n = 64
    t = triton.zeros(n, np.int32)
    for _ in range(25):
        inc_kernel[(1,)](t, n, BLOCK=64)
    np.testing.assert_array_equal(t.numpy(), np.full(n, 25, np.int32))
    triton.synchronize()


def test_mixing_tensors_and_numpy(engine):
    n = 200
    x = np.arange(n, dtype=np.float32)
    y = np.full(n, 3.0, np.float32)
    tx = triton.tensor(x)
    out_np = np.zeros(n, np.float32)
    _add(tx, y, out_np, n)
    np.testing.assert_array_equal(out_np, x + 3)
    out_t = triton.zeros(n, np.float32)
    _add(y, tx, out_t, n)
    np.testing.assert_array_equal(out_t.numpy(), x + 3)
    # The same tensor twice, read and written.
    _add(out_t, tx, out_t, n)
    np.testing.assert_array_equal(out_t.numpy(), 2 * x + 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.int8, np.bool_])
def test_numpy_round_trip(engine, dtype):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((3, 5)) * 50).astype(dtype)
    t = triton.tensor(a)
    assert t.shape == (3, 5)
    assert t.dtype == np.dtype(dtype)
    assert t.numel() == 15
    assert t.stride() == (5, 1)
    assert t.stride(0) == 5
    assert len(t) == 3
    back = t.numpy()
    assert back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, a)
    np.testing.assert_array_equal(np.asarray(t), a)
    # A copy: changing it leaves the tensor as it was.
    back[...] = 0
    np.testing.assert_array_equal(t.numpy(), a)


def test_zeros_and_empty(engine):
    z = triton.zeros((4, 2), np.int32)
    assert z.shape == (4, 2) and z.dtype == np.int32
    np.testing.assert_array_equal(z.numpy(), np.zeros((4, 2), np.int32))
    e = triton.empty(7, np.float16)
    assert e.numpy().shape == (7,) and e.dtype == np.float16


def test_zero_size_tensors(engine):
    t = triton.tensor(np.zeros(0, np.float32))
    assert t.numel() == 0 and len(t) == 0
    assert t.numpy().shape == (0,)
    out = triton.empty((0,), np.float32)
    _add(t, t, out, 0)
    assert out.numpy().shape == (0,)
    assert triton.zeros((2, 0), np.int8).numpy().shape == (2, 0)


def test_data_ptr_tells_tensors_apart(engine):
    a = triton.zeros(4, np.float32)
    b = triton.zeros(4, np.float32)
    assert a.data_ptr() != b.data_ptr()
    assert a.data_ptr() == a.data_ptr()


def test_tensor_from_another_device_is_refused(engine):
    other = "interpreter" if engine != "interpreter" else "msl-emu"
    if other == "msl-emu":
        import shutil

        if shutil.which("clang-19") is None:
            pytest.skip("the MSL emulator needs clang-19")
    with triton.device(other):
        foreign = triton.zeros(16, np.float32)
    mine = triton.zeros(16, np.float32)
    with pytest.raises(ValueError, match="lives on"):
        _add(foreign, mine, mine, 16)


def test_wrong_types_are_refused(engine):
    with pytest.raises(TypeError):
        triton.Tensor()
    with pytest.raises(TypeError, match="not supported"):
        triton.zeros(4, np.complex64)
    with pytest.raises(TypeError, match="not supported"):
        triton.tensor(np.array(["a", "b"]))
    with pytest.raises(ValueError):
        triton.zeros((-1,), np.float32)
    with pytest.raises(TypeError):
        len(triton.tensor(np.float32(1.0)))
    assert triton.tensor(np.float32(1.5)).numpy() == np.float32(1.5)


def test_do_bench_with_tensors(engine):
    n = 4096
    x = triton.tensor(np.ones(n, np.float32))
    out = triton.empty(n, np.float32)
    ms = triton.testing.do_bench(lambda: _add(x, x, out, n, 1024), warmup=1, rep=5)
    assert ms > 0
    np.testing.assert_array_equal(out.numpy(), np.full(n, 2, np.float32))
    # The testing helpers take tensors like arrays.
    triton.testing.assert_close(out, np.full(n, 2.0, np.float32))


def test_tensor_of_another_dtype_specializes_another_kernel(engine):
    n = 32
    xi = triton.tensor(np.arange(n, dtype=np.int32))
    outi = triton.zeros(n, np.int32)
    _add(xi, xi, outi, n)
    np.testing.assert_array_equal(outi.numpy(), 2 * np.arange(n, dtype=np.int32))
    xf = triton.tensor(np.arange(n, dtype=np.float32))
    outf = triton.zeros(n, np.float32)
    _add(xf, xf, outf, n)
    np.testing.assert_array_equal(outf.numpy(), 2 * np.arange(n, dtype=np.float32))


def test_non_tensor_objects_are_refused_as_pointers(engine):
    out = triton.zeros(4, np.float32)
    with pytest.raises(TypeError, match="expected a numpy array"):
        _add(object(), out, out, 4)


def test_array_interop_copies(engine):
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    t = triton.tensor(a)
    np.testing.assert_array_equal(np.asarray(t, dtype=np.float32), a.astype(np.float32))
    with pytest.raises(ValueError, match="without a copy"):
        t.__array__(copy=False)


def test_tensors_dropped_with_launches_pending(engine):
    n = 256
    keep = triton.zeros(n, np.float32)
    for i in range(10):
        tmp = triton.tensor(np.full(n, float(i), np.float32))
        _add(keep, tmp, keep, n)
        del tmp
    np.testing.assert_array_equal(keep.numpy(), np.full(n, 45.0, np.float32))
