"""Triton's tutorial 07 (extern functions): ``libdevice.asin`` through
``triton.language.extra.libdevice``, kernel unchanged apart from the import."""

import numpy as np

import triton_metal as triton
import triton_metal.language as tl
from triton_metal.language.extra import libdevice

DEVICE = triton.runtime.driver.active.get_active_torch_device()


@triton.jit
def asin_kernel(
    x_ptr,
    y_ptr,
    n_elements,
    BLOCK_SIZE: tl.constexpr,
):
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    x = libdevice.asin(x)
    tl.store(y_ptr + offsets, x, mask=mask)


def test_asin(engine):
    rng = np.random.default_rng(0)
    size = 9843
    x = rng.random(size, dtype=np.float32)
    output_triton = np.zeros(size, dtype=np.float32)
    output_numpy = np.arcsin(x)
    n_elements = output_numpy.size
    grid = lambda meta: (triton.cdiv(n_elements, meta['BLOCK_SIZE']), )  # noqa: E731
    asin_kernel[grid](x, output_triton, n_elements, BLOCK_SIZE=1024)
    # The tutorial prints the maximum difference; a few ulp of f32.
    assert np.max(np.abs(output_numpy - output_triton)) < 2e-6


def test_libdevice_names_exist():
    # Placeholders for every libdevice function: usable in kernels, refused outside them.
    for name in ("asin", "acos", "atan", "atan2", "tanh", "pow", "exp", "log", "rint", "isnan", "isinf"):
        fn = getattr(libdevice, name)
        assert fn.__triton_metal_builtin__ == f"triton.language.extra.libdevice.{name}"
    try:
        libdevice.asin(0.5)
    except RuntimeError as e:
        assert "inside a @triton_metal.jit kernel" in str(e)
    else:
        raise AssertionError("a libdevice placeholder ran outside a kernel")
