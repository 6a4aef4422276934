"""A masked 2-D kernel: transposes a matrix of a shape that is not a multiple of the block,
with row and column masks built by `[:, None]` / `[None, :]` broadcasting.
Run: python examples/matrix_copy_2d.py"""

import numpy as np

import triton_metal as triton
import triton_metal.language as tl


@triton.jit
def copy_2d_kernel(src_ptr, dst_ptr, M, N,
                   stride_sm, stride_sn, stride_dm, stride_dn,
                   BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    x = tl.load(src_ptr + rm[:, None] * stride_sm + rn[None, :] * stride_sn, mask=mask)
    tl.store(dst_ptr + rm[:, None] * stride_dm + rn[None, :] * stride_dn, x, mask=mask)


def transpose(a: np.ndarray) -> np.ndarray:
    m, n = a.shape
    out = np.empty((n, m), dtype=a.dtype)
    grid = lambda meta: (triton.cdiv(m, meta["BLOCK_M"]), triton.cdiv(n, meta["BLOCK_N"]))  # noqa: E731
    copy_2d_kernel[grid](a, out, m, n, n, 1, 1, m, BLOCK_M=32, BLOCK_N=32)
    return out


def main():
    print(f"device: {triton.device_info()}")
    rng = np.random.default_rng(0)
    for shape in ((37, 53), (300, 129), (1000, 999)):
        for dtype in (np.float32, np.float16, np.int32):
            a = (rng.standard_normal(shape) * 100).astype(dtype)
            out = transpose(a)
            err = float(np.max(np.abs(out.astype(np.float64) - a.T.astype(np.float64))))
            print(f"transpose {shape[0]:>4}x{shape[1]:<4} {np.dtype(dtype).name:>8}  max |error| = {err}")
            assert err == 0.0, "results differ from numpy"


if __name__ == "__main__":
    main()
