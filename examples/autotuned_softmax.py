"""Triton's fused softmax (tutorial 02's kernel) autotuned over num_warps, timed with
triton.testing.do_bench and tabulated with perf_report. Run:
python examples/autotuned_softmax.py

TRITON_METAL_DEVICE picks the device (unset: the best GPU wgpu finds; `msl-emu`;
`interpreter`)."""

import numpy as np

import triton_metal as triton
import triton_metal.language as tl


@triton.autotune(
    configs=[triton.Config({}, num_warps=w) for w in (1, 2, 4)],
    key=["n_cols"],
    warmup=2,
    rep=5,
)
@triton.jit
def softmax_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_rows, n_cols,
                   BLOCK_SIZE: tl.constexpr):
    row_idx = tl.program_id(0)
    col_offsets = tl.arange(0, BLOCK_SIZE)
    mask = col_offsets < n_cols
    row = tl.load(input_ptr + row_idx * input_row_stride + col_offsets, mask=mask, other=-float("inf"))
    row_minus_max = row - tl.max(row, axis=0)
    numerator = tl.exp(row_minus_max)
    denominator = tl.sum(numerator, axis=0)
    tl.store(output_ptr + row_idx * output_row_stride + col_offsets, numerator / denominator, mask=mask)


def softmax(x):
    n_rows, n_cols = x.shape
    y = np.empty_like(x)
    softmax_kernel[(n_rows,)](y, x, n_cols, n_cols, n_rows, n_cols,
                              BLOCK_SIZE=triton.next_power_of_2(n_cols))
    return y


def reference(x):
    z = np.exp(x.astype(np.float64) - x.max(axis=1, keepdims=True))
    return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)


@triton.testing.perf_report(
    triton.testing.Benchmark(
        x_names=["N"],
        x_vals=[64, 200],
        line_arg="provider",
        line_vals=["triton", "numpy"],
        line_names=["Triton", "Numpy"],
        ylabel="GB/s",
        plot_name="softmax-performance",
        args={"M": 16},
    ))
def benchmark(M, N, provider):
    x = np.random.default_rng(0).standard_normal((M, N), dtype=np.float32)
    fn = (lambda: softmax(x)) if provider == "triton" else (lambda: reference(x))
    ms = triton.testing.do_bench(fn, warmup=2, rep=5)
    return 2 * x.nbytes * 1e-9 / (ms * 1e-3)


def main():
    print(f"device: {triton.device_info()}")
    rng = np.random.default_rng(0)
    for shape in ((16, 64), (16, 200)):
        x = rng.standard_normal(shape, dtype=np.float32)
        y = softmax(x)
        err = float(np.max(np.abs(y - reference(x))))
        print(f"softmax {shape} best config: {softmax_kernel.best_config}  max |error| = {err:.1e}")
        assert err < 1e-6, "results differ from numpy"
    benchmark.run(print_data=True)


if __name__ == "__main__":
    main()
