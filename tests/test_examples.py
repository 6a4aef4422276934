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


def test_autotuned_softmax_example(engine, capsys):
    runpy.run_path(str(EXAMPLES / "autotuned_softmax.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "best config: num_warps:" in out
    assert "softmax-performance:" in out
    table = out.split("softmax-performance:\n", 1)[1].splitlines()
    assert table[0].split() == ["N", "Triton", "Numpy"]
    assert [row.split()[1] for row in table[1:3]] == ["64", "200"]
