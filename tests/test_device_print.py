"""tl.device_print reaches Python's stdout (so capsys, redirect_stdout and notebooks see it),
and TRITON_METAL_DEBUG dumps every stage of each new kernel."""

import contextlib
import io

import numpy as np
import pytest

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


# --- device_print and device_assert on every engine --------------------------------------
# GPUs (lavapipe, the MSL emulator) write records that the host formats with the
# interpreter's formatter; the order of lines between threads is not defined there, so the
# tests compare sorted lines, with the interpreter as the oracle.


def _printed(call):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        call()
    return sorted(buf.getvalue().splitlines())


def _oracle(call):
    with triton.device("interpreter"):
        return _printed(call)


@triton.jit
def _tensor_and_scalar_kernel(x_ptr, y_ptr, R: tl.constexpr, C: tl.constexpr):
    pid = tl.program_id(0)
    rows = tl.arange(0, R)[:, None]
    cols = tl.arange(0, C)[None, :]
    x = tl.load(x_ptr + rows * C + cols)
    y = tl.load(y_ptr + rows * C + cols)
    tl.device_print("pid", pid)
    tl.device_print("xy", x, y + pid)
    tl.device_print("")


def test_tensor_scalar_and_several_operands(engine):
    x = np.arange(32, dtype=np.float32).reshape(4, 8) * 0.5 - 3
    y = np.arange(32, dtype=np.int32).reshape(4, 8) * -7

    # num_warps=4 spreads 32 elements over 128 threads: most hold copies, one prints each.
    def call():
        _tensor_and_scalar_kernel[(2,)](x, y, R=4, C=8, num_warps=4)

    got = _printed(call)
    assert got == _oracle(call)
    assert len(got) == 2 * (1 + 2 * 32 + 1)
    assert "pid (1, 0, 0) idx (3, 7) xy: (operand 0) 12.500000" in got
    assert "pid (1, 0, 0) idx (3, 7) xy: (operand 1) -216" in got
    assert "pid (0, 0, 0) pid: 0" in got
    assert got.count("pid (1, 0, 0) ") == 1


@triton.jit
def _dtypes_kernel(i8, u8, i16, u16, i32, u32, f16, f32, b, HEX: tl.constexpr):
    offs = tl.arange(0, 4)
    f = tl.load(f32 + offs)
    tl.device_print("i8", tl.load(i8 + offs), hex=HEX)
    tl.device_print("u8", tl.load(u8 + offs), hex=HEX)
    tl.device_print("i16", tl.load(i16 + offs), hex=HEX)
    tl.device_print("u16", tl.load(u16 + offs), hex=HEX)
    tl.device_print("i32", tl.load(i32 + offs), hex=HEX)
    tl.device_print("u32", tl.load(u32 + offs), hex=HEX)
    tl.device_print("f16", tl.load(f16 + offs), hex=HEX)
    tl.device_print("f32", f, hex=HEX)
    tl.device_print("bf16", f.to(tl.bfloat16), hex=HEX)
    tl.device_print("bool", tl.load(b + offs), hex=HEX)


@pytest.mark.parametrize("hex_", [False, True])
def test_every_dtype_decimal_and_hex(engine, hex_):
    ints = [-128, -1, 0, 127]
    f = np.array([1.5, -2.25, np.inf, np.nan], dtype=np.float32)
    args = (
        np.array(ints, dtype=np.int8),
        np.array([0, 1, 200, 255], dtype=np.uint8),
        np.array([-32768, -2, 3, 32767], dtype=np.int16),
        np.array([0, 1, 40000, 65535], dtype=np.uint16),
        np.array([-(2**31), -5, 6, 2**31 - 1], dtype=np.int32),
        np.array([0, 7, 2**31, 2**32 - 1], dtype=np.uint32),
        np.array([0.5, -65504, 6e-8, -np.inf], dtype=np.float16),
        f,
        np.array([True, False, True, True]),
    )

    def call():
        _dtypes_kernel[(1,)](*args, HEX=hex_)

    got = _printed(call)
    assert got == _oracle(call)
    assert len(got) == 40
    if hex_:
        assert "pid (0, 0, 0) idx (0) i8: 0x80" in got
        assert "pid (0, 0, 0) idx (3) u32: 0xffffffff" in got
        assert "pid (0, 0, 0) idx (1) f16: 0xfbff" in got
        assert "pid (0, 0, 0) idx (0) bf16: 0x3fc0" in got
        assert "pid (0, 0, 0) idx (0) bool: 0x1" in got
    else:
        assert "pid (0, 0, 0) idx (0) i32: -2147483648" in got
        assert "pid (0, 0, 0) idx (2) f16: 0.000000" in got
        assert "pid (0, 0, 0) idx (1) bf16: -2.250000" in got
        assert "pid (0, 0, 0) idx (3) f32: nan" in got
        assert "pid (0, 0, 0) idx (2) f32: inf" in got


@triton.jit
def _loop_branch_kernel(x_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    for i in range(4):
        if i % 2 == 1:
            tl.device_print("odd", i, x * i)
        else:
            x = x + 1
    if tl.program_id(0) == 1:
        tl.device_print("one", x)


def test_prints_inside_loops_and_branches(engine):
    x = np.array([10, 20], dtype=np.int32)

    def call():
        _loop_branch_kernel[(3,)](x, N=2)

    got = _printed(call)
    assert got == _oracle(call)
    # i = 1 prints x = 11, 21 times 1; i = 3 prints x = 12, 22 times 3.
    assert "pid (2, 0, 0) idx (1) odd: (operand 1) 66" in got
    assert sum(" one: " in line for line in got) == 2
    assert all(line.startswith("pid (1, 0, 0)") for line in got if " one: " in line)


@triton.jit(debug=True)
def _assert_kernel(x_ptr, LIMIT: tl.constexpr):
    offs = tl.arange(0, 8)
    x = tl.load(x_ptr + tl.program_id(0) * 8 + offs)
    tl.device_assert(x < LIMIT, "x is too big")
    tl.store(x_ptr + tl.program_id(0) * 8 + offs, x + 1)


def _assert_error(call):
    with pytest.raises(RuntimeError) as e:
        call()
    return str(e.value)


def test_failing_assert_in_debug_mode_names_program_and_index(engine):
    x = np.zeros(24, dtype=np.int32)
    x[8 + 5] = 99  # program 1, element 5
    x[16 + 2] = 99  # program 2, element 2: the first program to fail is reported

    def call():
        _assert_kernel[(3,)](x.copy(), LIMIT=50)

    msg = _assert_error(call)
    with triton.device("interpreter"):
        assert msg == _assert_error(call)
    assert msg.startswith("device assertion failed in kernel `_assert_kernel` at ")
    assert "program_id (1, 0, 0), idx (5): x is too big" in msg
    assert 'tl.device_assert(x < LIMIT, "x is too big")' in msg


def test_passing_assert_in_debug_mode_runs_the_kernel(engine):
    x = np.arange(24, dtype=np.int32)
    _assert_kernel[(3,)](x, LIMIT=50)
    np.testing.assert_array_equal(x, np.arange(24) + 1)


@triton.jit
def _assert_nodebug_kernel(x_ptr):
    offs = tl.arange(0, 8)
    x = tl.load(x_ptr + offs)
    tl.device_assert(x < 5, "x is too big")
    tl.store(x_ptr + offs, x + 1)


def test_asserts_are_dropped_on_gpus_outside_debug_mode(engine, monkeypatch):
    monkeypatch.delenv("TRITON_DEBUG", raising=False)
    x = np.arange(8, dtype=np.int32)
    if engine == "interpreter":
        # The interpreter checks asserts whatever the mode, as Triton's does.
        _assert_error(lambda: _assert_nodebug_kernel[(1,)](x))
        return
    _assert_nodebug_kernel[(1,)](x)
    np.testing.assert_array_equal(x, np.arange(8) + 1)


def test_triton_debug_env_turns_asserts_on(engine, monkeypatch):
    monkeypatch.setenv("TRITON_DEBUG", "1")
    x = np.arange(8, dtype=np.int32)
    msg = _assert_error(lambda: _assert_nodebug_kernel[(1,)](x))
    assert "program_id (0, 0, 0), idx (5): x is too big" in msg


@triton.jit
def _flood_kernel(x_ptr, N: tl.constexpr):
    tl.device_print("v", tl.load(x_ptr + tl.arange(0, N)))


def test_records_past_the_buffer_are_counted_not_lost_silently(engine):
    x = np.arange(1024, dtype=np.int32)
    got = _printed(lambda: _flood_kernel[(40,)](x, N=1024))
    if engine == "interpreter":
        # No record buffer there: every line is printed.
        assert len(got) == 40 * 1024 and not any("dropped" in line for line in got)
        return
    # 40 programs x 1024 elements; the 1 MiB buffer holds 32767 records.
    dropped = [line for line in got if "dropped" in line]
    assert len(dropped) == 1, dropped
    assert f"{40 * 1024 - 32767} device_print/device_assert records" in dropped[0]
    assert len(got) == 32767 + 1


@triton.jit
def _grid3_kernel(x_ptr):
    v = tl.program_id(0) + 10 * tl.program_id(1) + 100 * tl.program_id(2)
    tl.device_print("v", v, tl.arange(0, 2) + v)


def test_program_ids_of_a_3d_grid(engine):
    x = np.zeros(1, dtype=np.int32)

    def call():
        _grid3_kernel[(2, 3, 2)](x)

    got = _printed(call)
    assert got == _oracle(call)
    assert len(got) == 12 * 3
    assert "pid (1, 2, 1) idx (1) v: (operand 1) 122" in got
    assert "pid (1, 2, 1) v: (operand 0) 121" in got
