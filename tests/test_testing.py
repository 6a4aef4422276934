"""triton.testing: do_bench times with device synchronization, assert_close, and the
perf_report/Benchmark tables the tutorials print."""

import time

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl


@triton.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


def test_do_bench_measures_a_sleep():
    ms = triton.testing.do_bench(lambda: time.sleep(0.002), warmup=5, rep=20)
    assert 1.9 <= ms < 50


def test_do_bench_quantiles_and_modes():
    q = triton.testing.do_bench(lambda: time.sleep(0.001), warmup=1, rep=10, quantiles=[0.5, 0.2, 0.8])
    assert len(q) == 3 and q[1] <= q[0] <= q[2]
    single = triton.testing.do_bench(lambda: None, warmup=1, rep=1, quantiles=[0.5])
    assert isinstance(single, float)
    times = triton.testing.do_bench(lambda: None, warmup=1, rep=1, return_mode="all")
    assert isinstance(times, list) and len(times) >= 1
    assert triton.testing.do_bench(lambda: None, warmup=1, rep=1, return_mode="min") >= 0
    with pytest.raises(ValueError):
        triton.testing.do_bench(lambda: None, return_mode="average")


def test_do_bench_runs_a_kernel_and_synchronizes(engine):
    x = np.arange(4096, dtype=np.float32)
    y = np.zeros_like(x)
    calls = []

    def fn():
        calls.append(1)
        copy_kernel[(triton.cdiv(x.size, 1024),)](x, y, x.size, BLOCK=1024)

    ms = triton.testing.do_bench(fn, warmup=1, rep=5)
    assert ms > 0 and len(calls) >= 1 + 5 + 1 + 1
    np.testing.assert_array_equal(y, x)
    triton.synchronize()  # nothing pending: returns


def test_assert_close():
    triton.testing.assert_close(np.array([1.0, 2.0]), np.array([1.005, 2.0]))
    with pytest.raises(AssertionError):
        triton.testing.assert_close(np.array([1.0, 2.0]), np.array([1.1, 2.0]))
    triton.testing.assert_close(np.array([1.0, 2.0]), np.array([1.1, 2.0]), atol=0.2)
    triton.testing.assert_close(1.0, 1.5, atol=0, rtol=0.5)
    with pytest.raises(AssertionError, match="scalar"):
        triton.testing.assert_close(1.0, 2.0, err_msg="scalar")
    triton.testing.assert_close(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))
    triton.testing.assert_close(np.float16([1.0]), np.float16([1.001]), atol=lambda dt: 1e-2 if dt == np.float16 else 0)


def test_perf_report_runs_and_prints(capsys, tmp_path):
    @triton.testing.perf_report(
        triton.testing.Benchmark(
            x_names=["size"],
            x_vals=[2**i for i in range(4, 7)],
            x_log=True,
            line_arg="provider",
            line_vals=["a", "b"],
            line_names=["A", "B"],
            styles=[("blue", "-"), ("green", "-")],
            ylabel="GB/s",
            plot_name="toy-performance",
            args={"scale": 2},
        ))
    def bench(size, provider, scale):
        v = size * scale + (0 if provider == "a" else 1)
        return v, v - 1, v + 1

    df = bench.run(print_data=True, save_path=str(tmp_path), return_df=True)
    out = capsys.readouterr().out
    assert out.startswith("toy-performance:")
    lines = out.splitlines()
    assert lines[1].split() == ["size", "A", "B", "A-min", "B-min", "A-max", "B-max"]
    assert lines[2].split()[1:4] == ["16", "32", "33"]
    assert (tmp_path / "toy-performance.csv").read_text().splitlines()[1].startswith("16,32,33")
    assert list(df["A"]) == [32, 64, 128]
    # The decorated function stays callable.
    assert bench(size=4, provider="a", scale=1) == (4, 3, 5)


def test_perf_report_single_values(capsys):
    @triton.testing.perf_report(
        triton.testing.Benchmark(x_names=["N"], x_vals=[1, 2], line_arg="p", line_vals=["t"],
                                 line_names=["Triton"], plot_name="single", args={"M": 3}))
    def bench(M, N, p):
        return float(M * N)

    bench.run(print_data=True, show_plots=True)
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["N", "Triton"]
    assert out[3].split() == ["1", "2", "6"]
