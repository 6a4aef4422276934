"""Triton's tutorial 01 (vector addition): kernel unchanged apart from the import; the
tutorial's check and its benchmark table, with numpy."""

import numpy as np

import triton_metal as triton
import triton_metal.language as tl

DEVICE = triton.runtime.driver.active.get_active_torch_device()


@triton.jit
def add_kernel(x_ptr,  # *Pointer* to first input vector.
               y_ptr,  # *Pointer* to second input vector.
               output_ptr,  # *Pointer* to output vector.
               n_elements,  # Size of the vector.
               BLOCK_SIZE: tl.constexpr,  # Number of elements each program should process.
               # NOTE: `constexpr` so it can be used as a shape value.
               ):
    # There are multiple 'programs' processing different data. We identify which program
    # we are here:
    pid = tl.program_id(axis=0)  # We use a 1D launch grid so axis is 0.
    # This program will process inputs that are offset from the initial data.
    # For instance, if you had a vector of length 256 and block_size of 64, the programs
    # would each access the elements [0:64, 64:128, 128:192, 192:256].
    # Note that offsets is a list of pointers:
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    # Create a mask to guard memory operations against out-of-bounds accesses.
    mask = offsets < n_elements
    # Load x and y from DRAM, masking out any extra elements in case the input is not a
    # multiple of the block size.
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    output = x + y
    # Write x + y back to DRAM.
    tl.store(output_ptr + offsets, output, mask=mask)


def add(x, y):
    output = np.empty_like(x)
    n_elements = output.size
    grid = lambda meta: (triton.cdiv(n_elements, meta['BLOCK_SIZE']), )  # noqa: E731
    add_kernel[grid](x, y, output, n_elements, BLOCK_SIZE=1024)
    return output


def test_vector_add(engine):
    rng = np.random.default_rng(0)
    size = 9843  # the tutorial's 98432, shrunk for the CPU engines; not a multiple of 1024
    x = rng.random(size, dtype=np.float32)
    y = rng.random(size, dtype=np.float32)
    output_numpy = x + y
    output_triton = add(x, y)
    assert np.max(np.abs(output_numpy - output_triton)) == 0.0


def test_vector_add_benchmark_table(engine, capsys):
    @triton.testing.perf_report(
        triton.testing.Benchmark(
            x_names=['size'],
            x_vals=[2**i for i in range(10, 12)],
            x_log=True,
            line_arg='provider',
            line_vals=['triton', 'numpy'],
            line_names=['Triton', 'Numpy'],
            styles=[('blue', '-'), ('green', '-')],
            ylabel='GB/s',
            plot_name='vector-add-performance',
            args={},
        ))
    def benchmark(size, provider):
        x = np.random.rand(size).astype(np.float32)
        y = np.random.rand(size).astype(np.float32)
        quantiles = [0.5, 0.2, 0.8]
        if provider == 'numpy':
            ms, min_ms, max_ms = triton.testing.do_bench(lambda: x + y, quantiles=quantiles, warmup=1, rep=2)
        if provider == 'triton':
            ms, min_ms, max_ms = triton.testing.do_bench(lambda: add(x, y), quantiles=quantiles, warmup=1, rep=2)
        gbps = lambda ms: 3 * x.size * x.itemsize * 1e-9 / (ms * 1e-3)  # noqa: E731
        return gbps(ms), gbps(max_ms), gbps(min_ms)

    benchmark.run(print_data=True, show_plots=False)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "vector-add-performance:"
    assert out[1].split()[:3] == ["size", "Triton", "Numpy"]
    rows = [line.split() for line in out[2:4]]
    assert [r[1] for r in rows] == ["1024", "2048"]
    assert all(float(v) > 0 for r in rows for v in r[2:])
