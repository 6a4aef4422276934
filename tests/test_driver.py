"""triton.runtime.driver.active: device properties with honest values for each engine, the
current device and target, and what tutorial 02's launch code touches."""

import numpy as np

import triton_metal as triton
import triton_metal.language as tl
from triton_metal.runtime import driver


def test_device_properties(engine):
    dev = driver.active.get_current_device()
    assert dev == 0
    props = driver.active.utils.get_device_properties(dev)
    raw = triton.runtime.driver.active.utils.get_device_properties(None)
    assert props == raw
    for key in ("max_shared_mem", "multiprocessor_count", "max_num_regs", "warpSize"):
        assert isinstance(props[key], int) and props[key] > 0, key
    target = driver.active.get_current_target()
    if engine == "gpu":
        info = triton.device_info()
        if "llvmpipe" in info:
            assert props["warpSize"] == 8  # lavapipe's subgroup width
            assert props["max_shared_mem"] == 32 * 1024
        assert target.backend in ("metal", "wgpu")
    elif engine == "msl-emu":
        assert props["warpSize"] == 32 and props["max_shared_mem"] == 32 * 1024
        assert target.backend == "metal" and target.arch == "msl-emu"
    else:
        assert target.backend == "interpreter"
    assert target.warp_size == props["warpSize"]


def test_active_torch_device_is_host():
    d = driver.active.get_active_torch_device()
    assert getattr(d, "type", None) == "cpu"


@triton.jit
def _rowsum(x_ptr, y_ptr, n, BLOCK: tl.constexpr, num_stages: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + tl.program_id(0) * n + offs, mask=offs < n, other=0.0)
    tl.store(y_ptr + tl.program_id(0) + offs * 0, x + num_stages, mask=offs < 1)


def test_warmup_kernel_metadata_and_launch(engine):
    x = np.ones((4, 8), dtype=np.float32)
    y = np.zeros(4, dtype=np.float32)
    kernel = _rowsum.warmup(x, y, 8, BLOCK=8, num_stages=2, num_warps=1, grid=(1,))
    kernel._init_handles()
    assert kernel.n_regs > 0
    assert isinstance(kernel.metadata.shared, int) and kernel.metadata.shared >= 0
    assert kernel.metadata["num_warps"] == 1 and kernel.metadata.num_stages == 2
    # The compiled kernel launches with the JIT function's arguments, constexprs included.
    kernel[(4, 1, 1)](x, y, 8, 8, 2)
    np.testing.assert_array_equal(y, np.full(4, 3.0, dtype=np.float32))


def test_compiled_kernel_refuses_other_specialization(interpreter):
    x = np.ones((4, 8), dtype=np.float32)
    y = np.zeros(4, dtype=np.float32)
    kernel = _rowsum.warmup(x, y, 8, BLOCK=8, num_stages=2, grid=(1,))
    try:
        kernel[(4,)](x, y.astype(np.int32), 8, 8, 2)
    except ValueError as e:
        assert "specialize differently" in str(e)
    else:
        raise AssertionError("a launch with another dtype must be refused")
