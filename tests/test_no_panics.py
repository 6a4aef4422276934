"""No input crashes Python: Rust panics surface as RuntimeError, and mangled kernels give
CompilationError (or compile), never an internal error."""

import random

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl
from triton_metal import _core

BASE = """\
@triton.jit
def kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(axis=0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = (offs < n) & (offs >= 0)
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    y = tl.where(x > 0, tl.exp(x), -x) * 2.0 + tl.sqrt(tl.abs(x))
    for i in range(3):
        y = tl.maximum(y, x.to(tl.float16).to(tl.float32))
    if n > 4:
        y = y + 1
    tl.store(out_ptr + offs, y, mask=mask)
"""

TOKENS = ["(", ")", "[", "]", ":", ",", "+", "*", "<", "&", ".", "=", "0", "1", " ", "\n",
          "tl", "None", "BLOCK", "x", "[:, None]", "for", "if", "else", "return", "lambda",
          "'s'", "1.5", "-", "**", "//", "%", ">>", "~", "not", "and", "or", "is", "in"]


def _mutants(count, seed):
    rng = random.Random(seed)
    head = BASE.index("\n", BASE.index("def kernel")) + 1  # keep the def line
    out = []
    for _ in range(count):
        body = list(BASE[head:])
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(body))
            op = rng.random()
            if op < 0.4:
                del body[at: at + rng.randint(1, 6)]
            elif op < 0.8:
                body[at:at] = list(rng.choice(TOKENS))
            else:
                j = rng.randrange(len(body))
                body[at], body[j] = body[j], body[at]
        out.append(BASE[:head] + "".join(body))
    return out


def test_a_rust_panic_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="internal error in triton_metal"):
        _core._panic_for_tests()


@pytest.mark.parametrize("seed", range(4))
def test_mangled_kernels_never_reach_an_internal_error(interpreter, tmp_path, seed):
    x = np.linspace(-2, 2, 64, dtype=np.float32)
    for i, text in enumerate(_mutants(50, seed)):

        @triton.jit
        def kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
            pass

        kernel._src = (str(tmp_path / f"mutant_{seed}_{i}.py"), text, 1, "")
        out = np.zeros(64, np.float32)
        try:
            kernel[(1,)](x, out, 64, BLOCK=64)
        except triton.CompilationError:
            pass
        except RuntimeError as e:
            # The interpreter may refuse to run a kernel (an out-of-bounds access is a
            # RuntimeError with its position); a panic never is acceptable.
            assert "internal error" not in str(e), f"{e}\n--- kernel ---\n{text}"
