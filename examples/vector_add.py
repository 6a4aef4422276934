"""Triton's tutorial 01, vector addition, on triton_metal: the kernel is Triton's, unchanged
apart from the import. Run: python examples/vector_add.py

TRITON_METAL_DEVICE picks the device (unset: the best GPU wgpu finds; `msl-emu`;
`interpreter`)."""

import numpy as np

import triton_metal as triton
import triton_metal.language as tl


@triton.jit
def add_kernel(x_ptr,  # *Pointer* to first input vector.
               y_ptr,  # *Pointer* to second input vector.
               output_ptr,  # *Pointer* to output vector.
               n_elements,  # Size of the vector.
               BLOCK_SIZE: tl.constexpr,  # Number of elements each program should process.
               ):
    pid = tl.program_id(axis=0)  # We use a 1D launch grid so axis is 0.
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    output = x + y
    tl.store(output_ptr + offsets, output, mask=mask)


def add(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    output = np.empty_like(x)
    n_elements = output.size
    grid = lambda meta: (triton.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    add_kernel[grid](x, y, output, n_elements, BLOCK_SIZE=1024)
    return output


def main():
    print(f"device: {triton.device_info()}")
    rng = np.random.default_rng(0)
    for size in (1, 1000, 98432, 2**20 + 3):
        x = rng.random(size, dtype=np.float32)
        y = rng.random(size, dtype=np.float32)
        out = add(x, y)
        err = float(np.max(np.abs(out - (x + y))))
        programs = triton.cdiv(size, 1024)
        print(f"vector_add n={size:>8} programs={programs:>5}  max |error| = {err}")
        assert err == 0.0, "results differ from numpy"


if __name__ == "__main__":
    main()
