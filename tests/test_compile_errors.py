"""Malformed, ill-typed or unsupported kernels raise triton_metal.CompilationError pointing at
the right line (marked `# ERR` in each source), with Triton's message format; none panics.

Each kernel is written to a file and imported, as a user's kernel would be, so that the
source positions are real file positions."""

import importlib.util
import textwrap

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl

HEADER = """\
import math
import triton_metal as triton
import triton_metal.language as tl

NOT_A_KERNEL_CONSTANT = [1, 2, 3]

def plain_python_helper(x):
    return x

@triton.jit
def helper(x, y):
    return x + y

"""

# name -> body of `def kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr)`; the line that must
# be reported ends with `# ERR`.
CASES = {
    "unknown_name": """
        offs = tl.arange(0, BLOCK)
        y = undefined_name + offs  # ERR
    """,
    "unknown_tl_function": """
        x = tl.no_such_function(n)  # ERR
    """,
    "plain_python_function_call": """
        y = plain_python_helper(n)  # ERR
    """,
    "non_constant_global": """
        y = NOT_A_KERNEL_CONSTANT[0] + n  # ERR
    """,
    "arange_not_power_of_two": """
        offs = tl.arange(0, 100)  # ERR
        tl.store(out_ptr + offs, offs)
    """,
    "arange_runtime_bound": """
        offs = tl.arange(0, n)  # ERR
        tl.store(out_ptr + offs, offs)
    """,
    "load_from_non_pointer": """
        x = tl.load(n)  # ERR
        tl.store(out_ptr, x)
    """,
    "store_to_non_pointer": """
        tl.store(n, 1.0)  # ERR
    """,
    "shape_mismatch": """
        a = tl.arange(0, 16)
        b = tl.arange(0, 32)
        c = a + b  # ERR
        tl.store(out_ptr + a, c)
    """,
    "zeros_shape_not_constexpr": """
        z = tl.zeros((n,), dtype=tl.float32)  # ERR
        tl.store(out_ptr, z)
    """,
    "program_id_axis_out_of_range": """
        pid = tl.program_id(3)  # ERR
        tl.store(out_ptr + pid, 1.0)
    """,
    "try_statement": """
        try:  # ERR
            x = 1
        except Exception:
            x = 2
    """,
    "with_statement": """
        with open("f") as f:  # ERR
            x = 1
    """,
    "lambda_expression": """
        f = lambda v: v + 1  # ERR
    """,
    "list_comprehension": """
        xs = [i for i in range(4)]  # ERR
    """,
    "import_inside_kernel": """
        import os  # ERR
    """,
    "global_statement": """
        global n2  # ERR
    """,
    "nested_def": """
        def inner(v):  # ERR
            return v
    """,
    "del_statement": """
        x = 1
        del x  # ERR
    """,
    "unknown_load_keyword": """
        offs = tl.arange(0, BLOCK)
        x = tl.load(x_ptr + offs, no_such_keyword=1)  # ERR
    """,
    "jit_call_wrong_arity": """
        y = helper(n)  # ERR
    """,
    "bitwise_and_on_float": """
        offs = tl.arange(0, BLOCK)
        x = tl.load(x_ptr + offs)
        y = x & 1  # ERR
        tl.store(out_ptr + offs, y)
    """,
    "string_arithmetic": """
        y = "a" + n  # ERR
    """,
    "unknown_math_attribute": """
        y = math.no_such_constant + n  # ERR
    """,
    "unknown_dtype_attribute": """
        offs = tl.arange(0, BLOCK)
        x = tl.load(x_ptr + offs).to(tl.float128)  # ERR
    """,
}


def _write_kernel(tmp_path, name, body):
    body = textwrap.dedent(body).strip("\n")
    src = HEADER + "@triton.jit\ndef kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):\n"
    src += textwrap.indent(body, "    ") + "\n"
    path = tmp_path / f"bad_{name}.py"
    path.write_text(src)
    lines = src.splitlines()
    err_line = next(i for i, line in enumerate(lines, 1) if line.rstrip().endswith("# ERR"))
    return path, err_line, lines[err_line - 1]


def _import(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", list(CASES))
def test_bad_kernel_raises_compilation_error_at_the_line(interpreter, tmp_path, name):
    path, err_line, line_text = _write_kernel(tmp_path, name, CASES[name])
    kernel = _import(path).kernel
    x = np.zeros(64, np.float32)
    out = np.zeros(64, np.float32)
    with pytest.raises(triton.CompilationError) as info:
        kernel[(1,)](x, out, 64, BLOCK=64)
    err = info.value
    assert err.lineno == err_line, str(err)
    assert err.path == str(path)
    text = str(err)
    assert text.startswith(f"at {path}:{err_line}:{err.col}:\n"), text
    assert line_text in text
    assert err.reason and err.reason in text
    # The caret is under the reported column.
    shown = text.splitlines()
    assert shown[2].index("^") == err.col - 1
    # Nothing was written.
    np.testing.assert_array_equal(out, np.zeros(64, np.float32))


def test_syntax_error_in_kernel_source(interpreter, tmp_path):
    # Python cannot import a file with a syntax error, so the kernel's source is swapped after
    # the fact: the compiler reads the text it is given, as it does in the CLI.
    @triton.jit
    def kernel(out_ptr):
        tl.store(out_ptr, 1.0)

    text = "@triton.jit\ndef kernel(out_ptr):\n    x = = 1\n    tl.store(out_ptr, x)\n"
    kernel._src = (str(tmp_path / "syntax.py"), text, 10, "")
    with pytest.raises(triton.CompilationError) as info:
        kernel[(1,)](np.zeros(1, np.float32))
    assert info.value.lineno == 12
    assert "x = = 1" in str(info.value)


def test_there_are_at_least_20_bad_kernels():
    assert len(CASES) >= 20


def test_compile_errors_in_a_called_jit_function_point_into_it(interpreter, tmp_path):
    src = HEADER + textwrap.dedent("""\
        @triton.jit
        def broken(v):
            return v + undefined_in_callee  # ERR

        @triton.jit
        def kernel(out_ptr):
            tl.store(out_ptr, broken(1.0))
        """)
    path = tmp_path / "bad_callee.py"
    path.write_text(src)
    err_line = next(i for i, ln in enumerate(src.splitlines(), 1) if ln.endswith("# ERR"))
    kernel = _import(path).kernel
    with pytest.raises(triton.CompilationError) as info:
        kernel[(1,)](np.zeros(1, np.float32))
    assert info.value.lineno == err_line


def test_indented_kernel_reports_file_columns(interpreter):
    # A kernel defined inside a function is indented in its file; positions are the file's.
    @triton.jit
    def nested(out_ptr):
        tl_missing.store(out_ptr, 1.0)  # noqa: F821

    with pytest.raises(triton.CompilationError) as info:
        nested[(1,)](np.zeros(1, np.float32))
    err = info.value
    with open(__file__) as f:
        lines = f.read().splitlines()
    assert lines[err.lineno - 1].strip() == "tl_missing.store(out_ptr, 1.0)  # noqa: F821"
    assert err.col == lines[err.lineno - 1].index("tl_missing") + 1
    assert str(err).splitlines()[1] == lines[err.lineno - 1]


def test_compilation_error_is_importable_where_triton_has_it():
    from triton_metal.compiler.errors import CompilationError

    assert CompilationError is triton.CompilationError
    assert issubclass(CompilationError, Exception)
