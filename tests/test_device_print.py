"""tl.device_print reaches Python's stdout (so capsys, redirect_stdout and notebooks see it),
and TRITON_METAL_DEBUG dumps every stage of each new kernel."""

import contextlib
import io

import numpy as np

import triton_metal as triton
import triton_metal.language as tl


@triton.jit
def print_kernel(x_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    tl.device_print("x = ", x)


def test_device_print_goes_to_python_stdout(interpreter):
    x = np.array([5, 6, 7, 8], dtype=np.int32)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        print_kernel[(2,)](x, BLOCK=4)
    lines = buf.getvalue().splitlines()
    # One line per element and program, in Triton's format.
    assert len(lines) == 8, lines
    assert lines[0].startswith("pid (0, 0, 0) idx (0)") and lines[0].endswith("5")
    assert lines[-1].startswith("pid (1, 0, 0) idx (3)") and lines[-1].endswith("8")


@triton.jit
def _debug_kernel(x_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs) + 1)


def test_debug_dumps_every_stage(engine, monkeypatch, capsys):
    monkeypatch.setenv("TRITON_METAL_DEBUG", "1")
    x = np.zeros(16, dtype=np.float32)
    _debug_kernel[(1,)](x, BLOCK=16)
    np.testing.assert_array_equal(x, np.ones(16, dtype=np.float32))
    err = capsys.readouterr().err
    for stage in ("tile", "simt", "msl", "wgsl"):
        assert f"// ---- _debug_kernel: {stage} ----" in err
    # The stage each engine runs is real code, not an error placeholder.
    if engine == "msl-emu":
        assert "kernel void" in err
    if engine == "gpu":
        assert "@compute" in err
