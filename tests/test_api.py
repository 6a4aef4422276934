"""The Python surface: warmup().asm, devices, jit options, name resolution, tl."""

import math

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl
from triton_metal.language.extra import libdevice

SCALE = tl.constexpr(3)
OFFSET = 0.5
OUT_DTYPE = tl.float32


@triton.jit
def scale_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, _affine(x).to(OUT_DTYPE), mask=mask)


@triton.jit
def _affine(v):
    # Module constants, a constexpr wrapper and a call into another @jit function.
    return v * SCALE + OFFSET


def test_warmup_asm_has_every_stage(engine):
    x = np.zeros(100, np.float32)
    k = scale_kernel.warmup(x, x, 100, BLOCK=128, grid=(1,))
    assert isinstance(k, triton.CompiledKernel)
    assert set(k.asm.keys()) == {"tile", "simt", "msl", "wgsl"}
    assert "scale_kernel" in k.asm["tile"]
    assert k.asm["simt"].strip()
    assert "kernel void" in k.asm["msl"] and "metal_stdlib" in k.asm["msl"]
    assert "@compute" in k.asm["wgsl"]
    with pytest.raises(KeyError):
        k.asm["ptx"]


def test_warmup_with_a_signature_compiles_without_arrays(interpreter):
    k = scale_kernel.warmup("*fp32", "*fp32", "i32", BLOCK=64)
    assert "scale_kernel" in k.asm["tile"]


def test_warmup_then_launch_uses_the_same_compiled_kernel(engine):
    x = np.arange(10, dtype=np.float32)
    out = np.zeros_like(x)
    k = scale_kernel.warmup(x, out, 10, BLOCK=16, grid=(1,))
    assert scale_kernel[(1,)](x, out, 10, BLOCK=16) is k
    np.testing.assert_array_equal(out, x * 3 + 0.5)


def test_module_constants_and_jit_calls_resolve(engine):
    x = np.linspace(-4, 4, 300, dtype=np.float32)
    out = np.zeros_like(x)
    scale_kernel[(triton.cdiv(300, 128),)](x, out, 300, BLOCK=128)
    np.testing.assert_array_equal(out, x * np.float32(3) + np.float32(0.5))


@triton.jit(interpret=True)
def interpreted_kernel(out_ptr, v):
    tl.store(out_ptr, v + 1)


def test_jit_interpret_runs_on_the_interpreter_whatever_the_device():
    out = np.zeros(1, np.int32)
    k = interpreted_kernel[(1,)](out, 41)
    assert out[0] == 42
    assert "interpreter" in k.metadata["device"].lower()


@triton.jit(do_not_specialize=["n"])
def nospec_kernel(out_ptr, n):
    tl.store(out_ptr, n)


def test_do_not_specialize_shares_one_kernel(interpreter):
    out = np.zeros(1, np.int32)
    k1 = nospec_kernel[(1,)](out, 1)
    assert out[0] == 1
    k2 = nospec_kernel[(1,)](out, 32)
    assert out[0] == 32
    assert k1 is k2


@triton.jit
def scalar_types_kernel(out_i_ptr, out_f_ptr, a, b, c):
    tl.store(out_i_ptr, a + 1)
    tl.store(out_f_ptr, b * c)


def test_python_and_numpy_scalars(engine):
    out_i = np.zeros(1, np.int32)
    out_f = np.zeros(1, np.float32)
    scalar_types_kernel[(1,)](out_i, out_f, 41, 1.5, np.float32(4.0))
    assert out_i[0] == 42 and out_f[0] == 6.0
    scalar_types_kernel[(1,)](out_i, out_f, np.int32(-8), 2.0, 0.25)
    assert out_i[0] == -7 and out_f[0] == 0.5


def test_set_device_and_device_info():
    before = triton.device_info()
    try:
        triton.set_device("interpreter")
        assert "interpreter" in triton.device_info().lower()
        with triton.device("interpreter") as dev:
            assert dev.kind == "interpreter"
    finally:
        triton.set_device(None)
    assert isinstance(before, str) and before


def test_unknown_device_selector_fails_clearly():
    with pytest.raises(Exception, match="(?i)adapter|device"):
        triton.set_device("no-such-gpu-name-xyz")


def test_cdiv_and_next_power_of_2():
    assert triton.cdiv(10, 3) == 4 and triton.cdiv(9, 3) == 3 and triton.cdiv(0, 5) == 0
    assert [triton.next_power_of_2(n) for n in (0, 1, 2, 3, 1000, 1024, 1025)] == [
        1, 1, 2, 4, 1024, 1024, 2048]


def test_language_surface():
    assert tl.constexpr(4) == 4 and tl.constexpr(tl.constexpr(4)).value == 4
    for name in ["float32", "float16", "bfloat16", "int1", "int8", "int16", "int32", "int64",
                 "uint8", "uint16", "uint32", "uint64"]:
        assert isinstance(getattr(tl, name), tl.dtype)
    for name in ["program_id", "num_programs", "arange", "zeros", "full", "load", "store",
                 "where", "maximum", "minimum", "exp", "log", "sqrt", "abs", "cdiv",
                 "static_range"]:
        assert callable(getattr(tl, name))
    assert callable(libdevice.exp) and callable(tl.math.exp)
    assert math.pi  # Python's math is a module kernels may name


def test_launches_from_several_threads(engine):
    # Launches release the GIL while the device works; concurrent launches of one kernel
    # must neither deadlock nor mix up their arguments.
    import threading

    results = {}

    def work(t):
        x = np.full(500, t, dtype=np.float32)
        out = np.zeros_like(x)
        for _ in range(5):
            scale_kernel[(triton.cdiv(500, 128),)](x, out, 500, BLOCK=128)
        results[t] = out

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads)
    for t in range(4):
        np.testing.assert_array_equal(results[t], np.full(500, t * 3 + 0.5, dtype=np.float32))


def test_closure_variables_resolve(engine):
    width = 7
    bias = tl.constexpr(2)

    @triton.jit
    def closure_kernel(out_ptr):
        offs = tl.arange(0, 8)
        tl.store(out_ptr + offs, offs * width + bias, mask=offs < width)

    out = np.zeros(8, np.int32)
    closure_kernel[(1,)](out)
    expect = np.arange(8, dtype=np.int32) * 7 + 2
    expect[7] = 0
    np.testing.assert_array_equal(out, expect)


@triton.jit
def tuple_constexpr_kernel(out_ptr, SHAPE: tl.constexpr):
    offs = tl.arange(0, SHAPE[0])
    tl.store(out_ptr + offs, offs * SHAPE[1])


def test_tuple_constexpr_is_a_cache_key(interpreter):
    out = np.zeros(4, np.int32)
    k1 = tuple_constexpr_kernel[(1,)](out, SHAPE=(4, 3))
    np.testing.assert_array_equal(out, [0, 3, 6, 9])
    k2 = tuple_constexpr_kernel[(1,)](out, SHAPE=(4, 5))
    np.testing.assert_array_equal(out, [0, 5, 10, 15])
    assert k1 is not k2 and tuple_constexpr_kernel[(1,)](out, SHAPE=(4, 3)) is k1
