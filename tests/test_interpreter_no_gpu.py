"""The interpreter needs no GPU and no driver: it runs with every Vulkan driver hidden."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import triton_metal as triton
    import triton_metal.language as tl

    @triton.jit
    def add_kernel(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
        pid = tl.program_id(axis=0)
        offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
        mask = offsets < n_elements
        x = tl.load(x_ptr + offsets, mask=mask)
        y = tl.load(y_ptr + offsets, mask=mask)
        tl.store(output_ptr + offsets, x + y, mask=mask)

    n = 98432
    rng = np.random.default_rng(0)
    x = rng.random(n, dtype=np.float32)
    y = rng.random(n, dtype=np.float32)
    out = np.zeros_like(x)
    add_kernel[(triton.cdiv(n, 1024),)](x, y, out, n, BLOCK_SIZE=1024)
    assert np.array_equal(out, x + y)
    print("interpreted:", triton.device_info())

    # The same process cannot reach a GPU: the driver really is hidden.
    try:
        with triton.device("default"):
            add_kernel[(1,)](x, y, out, 16, BLOCK_SIZE=16)
    except Exception as e:
        print("gpu refused:", type(e).__name__)
    else:
        raise SystemExit("a GPU device opened although no driver is visible")
    """
)


def test_interpreter_runs_with_no_vulkan_driver(tmp_path):
    env = dict(os.environ)
    missing = str(tmp_path / "no-such-icd.json")
    # Both the current and the legacy loader variables, so no installed driver is found.
    env.update(
        VK_DRIVER_FILES=missing,
        VK_ICD_FILENAMES=missing,
        TRITON_METAL_INTERPRET="1",
        TRITON_METAL_DEVICE="",
    )
    env.pop("TRITON_METAL_REQUIRE_GPU", None)
    # Kernels are read from their file, as Triton reads them.
    script = tmp_path / "interpret_without_gpu.py"
    script.write_text(SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "interpreted:" in proc.stdout and "interpreter" in proc.stdout.lower()
    assert "gpu refused:" in proc.stdout, proc.stdout
