"""The examples run and report zero error on every engine."""

import pathlib
import runpy

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("name", ["vector_add.py", "matrix_copy_2d.py"])
def test_example_runs_exactly(engine, name, capsys):
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    out = capsys.readouterr().out
    assert out.startswith("device: ")
    errors = [line for line in out.splitlines() if "max |error|" in line]
    assert errors and all(line.endswith("= 0.0") for line in errors), out
