"""Our interpreter on the kernels and sizes of triton_interpreter.py, compiled from the
same Python source (only the import differs), launched through our Python API with numpy
arrays. Prints one line per kernel: the median wall time of a launch.

    TRITON_METAL_INTERPRET=1 python3 benchmarks/interp/ours_from_source.py 5
"""
import os
import statistics
import sys
import time

os.environ.setdefault("TRITON_METAL_INTERPRET", "1")

import numpy as np  # noqa: E402
import triton_metal as triton  # noqa: E402
import triton_metal.language as tl  # noqa: E402


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x + y, mask=mask)


@triton.jit
def softmax_kernel(out_ptr, in_ptr, stride, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(in_ptr + row * stride + cols, mask=mask, other=-float("inf"))
    z = x - tl.max(x, axis=0)
    num = tl.exp(z)
    y = num / tl.sum(num, axis=0)
    tl.store(out_ptr + row * stride + cols, y, mask=mask)


# K is a constexpr as on Triton's side, so both run the same kernel.
@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, K: tl.constexpr, N, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    rm = tl.program_id(0) * BM + tl.arange(0, BM)
    rn = tl.program_id(1) * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    a_ptrs = a_ptr + rm[:, None] * K + rk[None, :]
    b_ptrs = b_ptr + rk[:, None] * N + rn[None, :]
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, K, BK):
        acc += tl.dot(tl.load(a_ptrs), tl.load(b_ptrs))
        a_ptrs += BK
        b_ptrs += BK * N
    tl.store(c_ptr + rm[:, None] * N + rn[None, :], acc)


def bench(name, runs, fn):
    fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    print(f"ours-interpret {name}: median {statistics.median(ts) * 1e3:.3f} ms over {runs} runs")


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rng = np.random.default_rng(0)
    n = 1 << 20
    x, y, o = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32), np.empty(n, np.float32)
    bench("vector_add n=2^20 BLOCK=1024", runs, lambda: add_kernel[(n // 1024,)](x, y, o, n, BLOCK=1024))
    assert np.array_equal(o, x + y)

    rows, cols = 1024, 1024
    i, o = rng.random((rows, cols), dtype=np.float32), np.empty((rows, cols), np.float32)
    bench("softmax 1024x1024 BLOCK=1024", runs, lambda: softmax_kernel[(rows,)](o, i, cols, cols, BLOCK=1024))
    e = np.exp(i - i.max(axis=1, keepdims=True))
    assert np.allclose(o, e / e.sum(axis=1, keepdims=True), atol=1e-6)

    m = nn = k = 256
    a, b, c = rng.random((m, k), dtype=np.float32), rng.random((k, nn), dtype=np.float32), np.empty((m, nn), np.float32)
    bench("matmul 256x256x256 BLOCK=64x64x32", runs,
          lambda: matmul_kernel[(m // 64, nn // 64)](a, b, c, k, nn, BM=64, BN=64, BK=32))
    assert np.allclose(c, a @ b, rtol=1e-4, atol=1e-3)
    print("device:", triton.device_info())
    print("cpu:", open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": "))


if __name__ == "__main__":
    main()
