"""Wrong launch arguments raise a clear Python exception before anything runs."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl


@triton.jit
def fill_kernel(out_ptr, n, value, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.full((BLOCK,), 0, tl.float32) + value, mask=offs < n)


def _line_of(text):
    with open(__file__) as f:
        return next(i for i, line in enumerate(f, 1) if text in line)


def _out(n=64):
    return np.full(n, -1.0, dtype=np.float32)


def test_a_good_launch_works(interpreter):
    out = _out()
    fill_kernel[(2,)](out, 64, 2.5, BLOCK=32)
    np.testing.assert_array_equal(out, np.full(64, 2.5, dtype=np.float32))


def test_missing_constexpr(interpreter):
    with pytest.raises(TypeError, match="missing constexpr argument 'BLOCK'"):
        fill_kernel[(1,)](_out(), 64, 1.0)


def test_missing_argument(interpreter):
    with pytest.raises(TypeError, match="missing argument 'value'"):
        fill_kernel[(1,)](_out(), 64, BLOCK=32)


def test_too_many_arguments(interpreter):
    with pytest.raises(TypeError, match="takes 4 arguments but 5 were given"):
        fill_kernel[(1,)](_out(), 64, 1.0, 32, 7)


def test_unknown_keyword(interpreter):
    with pytest.raises(TypeError, match="unexpected keyword argument 'BLOK'"):
        fill_kernel[(1,)](_out(), 64, 1.0, BLOCK=32, BLOK=3)


def test_argument_given_twice(interpreter):
    with pytest.raises(TypeError, match="multiple values for argument 'n'"):
        fill_kernel[(1,)](_out(), 64, 1.0, n=3, BLOCK=32)


@pytest.mark.parametrize("bad", [[1.0, 2.0], "out", object(), {"a": 1}], ids=["list", "str", "object", "dict"])
def test_non_array_for_a_pointer(interpreter, bad):
    with pytest.raises(TypeError, match="argument 'out_ptr'"):
        fill_kernel[(1,)](bad, 64, 1.0, BLOCK=32)


def test_array_where_a_scalar_is_used(interpreter):
    # `value` is added to a tensor of floats: an array there is a pointer, which the
    # compiler refuses at the use, before anything runs.
    out = _out()
    with pytest.raises(triton.CompilationError) as e:
        fill_kernel[(1,)](out, 64, np.ones(4, np.float32), BLOCK=32)
    assert e.value.lineno == _line_of("+ value, mask=offs < n)")
    np.testing.assert_array_equal(out, _out())


def test_scalar_where_a_pointer_is_used(interpreter):
    out = _out()
    with pytest.raises(triton.CompilationError):
        fill_kernel[(1,)](7, 64, 1.0, BLOCK=32)


def test_non_contiguous_array(interpreter):
    out = np.zeros(128, np.float32)[::2]
    with pytest.raises(ValueError, match="not C-contiguous"):
        fill_kernel[(1,)](out, 64, 1.0, BLOCK=32)


def test_read_only_output(engine):
    out = _out()
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fill_kernel[(2,)](out, 64, 1.0, BLOCK=32)
    np.testing.assert_array_equal(out, _out())


def test_unsupported_array_dtype(interpreter):
    with pytest.raises(TypeError, match="complex64"):
        fill_kernel[(1,)](np.zeros(4, np.complex64), 4, 1.0, BLOCK=32)


def test_non_constant_constexpr(interpreter):
    with pytest.raises(TypeError, match="constexpr argument 'BLOCK'"):
        fill_kernel[(1,)](_out(), 64, 1.0, BLOCK=[32])


@pytest.mark.parametrize("grid", [(0,), (4, 0), lambda meta: (0, 1, 1)], ids=["0", "4x0", "lambda"])
def test_empty_grid_launches_nothing(interpreter, grid):
    out = _out()
    fill_kernel[grid](out, 64, 1.0, BLOCK=32)
    np.testing.assert_array_equal(out, _out())


@pytest.mark.parametrize("grid", [(-1,), (2, -3), lambda meta: (-meta["BLOCK"],)], ids=["-1", "2x-3", "lambda"])
def test_negative_grid(interpreter, grid):
    out = _out()
    with pytest.raises(ValueError, match="must not be negative"):
        fill_kernel[grid](out, 64, 1.0, BLOCK=32)
    np.testing.assert_array_equal(out, _out())


def test_grid_with_four_dimensions(interpreter):
    with pytest.raises(ValueError, match="1, 2 or 3 dimensions"):
        fill_kernel[(1, 1, 1, 1)](_out(), 64, 1.0, BLOCK=32)


def test_grid_of_non_integers(interpreter):
    with pytest.raises(TypeError, match="grid must be"):
        fill_kernel[(1.5,)](_out(), 64, 1.0, BLOCK=32)


def test_bad_num_warps(interpreter):
    with pytest.raises(ValueError, match="num_warps"):
        fill_kernel[(1,)](_out(), 64, 1.0, BLOCK=32, num_warps=0)


def test_calling_a_kernel_directly():
    with pytest.raises(RuntimeError, match=r"fill_kernel\[grid\]"):
        fill_kernel(_out(), 64, 1.0, 32)


def test_language_functions_outside_a_kernel():
    with pytest.raises(RuntimeError, match="inside a @triton_metal.jit kernel"):
        tl.arange(0, 4)


def test_grid_lambda_sees_every_named_argument(interpreter):
    seen = {}

    def grid(meta):
        seen.update(meta)
        return (triton.cdiv(meta["n"], meta["BLOCK"]),)

    out = _out()
    fill_kernel[grid](out, 64, 3.0, BLOCK=16)
    assert seen["BLOCK"] == 16 and seen["n"] == 64 and seen["value"] == 3.0
    assert seen["out_ptr"] is out and seen["num_warps"] == 4
    np.testing.assert_array_equal(out, np.full(64, 3.0, dtype=np.float32))


@triton.jit
def overrun_kernel(out_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, 1.0)  # no mask: past the end of a short array


def test_interpreter_reports_out_of_bounds_with_position(interpreter):
    out = np.zeros(10, np.float32)
    with pytest.raises(RuntimeError) as info:
        overrun_kernel[(1,)](out, BLOCK=16)
    text = str(info.value)
    assert "tl.store(out_ptr + offs, 1.0)" in text or f":{_line_of('no mask: past the end')}:" in text
