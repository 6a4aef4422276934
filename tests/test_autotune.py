"""triton.Config, @triton.autotune and @triton.heuristics: Triton's semantics (benchmark each
config on the first call per key, cache the best, single config used as is, hooks, pruning,
stacking on @jit)."""

import numpy as np
import pytest

import triton_metal as triton
import triton_metal.language as tl



@triton.jit
def scale_kernel(x_ptr, out_ptr, n, factor, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x * factor, mask=mask)


def _launch(kernel, x, out, **kw):
    n = x.size
    kernel[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, out, n, 3.0, **kw)


def test_config_all_kwargs_and_str():
    c = triton.Config({"BLOCK": 64}, num_warps=2, num_stages=1)
    assert c.all_kwargs() == {"BLOCK": 64, "num_warps": 2, "num_stages": 1, "num_ctas": 1}
    assert "BLOCK: 64" in str(c) and "num_warps: 2" in str(c)
    assert c == triton.Config({"BLOCK": 64}, num_warps=2, num_stages=1)
    assert c != triton.Config({"BLOCK": 32}, num_warps=2, num_stages=1)


def test_single_config_is_used_without_benchmarking(engine):
    calls = []
    tuned = triton.autotune(
        configs=[triton.Config({"BLOCK": 32}, num_warps=1)],
        key=["n"],
        do_bench=lambda *a, **k: calls.append(1) or 1.0,
    )(scale_kernel)
    x = np.arange(100, dtype=np.float32)
    out = np.zeros_like(x)
    _launch(tuned, x, out)
    np.testing.assert_array_equal(out, x * 3)
    assert calls == []  # one config: no benchmark
    assert tuned.best_config.kwargs == {"BLOCK": 32}


def test_autotune_benchmarks_once_per_key_and_picks_fastest(interpreter):
    timed = []

    def fake_bench(fn, quantiles):
        fn()  # runs the kernel once, as a real benchmark would
        block = tuned.nargs_seen[-1]
        timed.append(block)
        # BLOCK=64 is the "fastest"
        return [{16: 3.0, 64: 1.0, 128: 2.0}[block]] * 3

    configs = [triton.Config({"BLOCK": b}) for b in (16, 64, 128)]

    def hook(nargs):
        tuned.nargs_seen.append(nargs["BLOCK"])

    for c in configs:
        c.pre_hook = hook
    tuned = triton.autotune(configs=configs, key=["n"], do_bench=fake_bench)(scale_kernel)
    tuned.nargs_seen = []
    x = np.arange(200, dtype=np.float32)
    out = np.zeros_like(x)
    _launch(tuned, x, out)
    assert sorted(timed) == [16, 64, 128]
    assert tuned.best_config.kwargs == {"BLOCK": 64}
    np.testing.assert_array_equal(out, x * 3)
    # Same key: cached, no new benchmark.
    _launch(tuned, x, out)
    assert len(timed) == 3
    # New key (n differs): benchmarked again.
    x2 = np.arange(300, dtype=np.float32)
    out2 = np.zeros_like(x2)
    _launch(tuned, x2, out2)
    assert len(timed) == 6
    np.testing.assert_array_equal(out2, x2 * 3)
    assert len(tuned.cache) == 2


def test_autotune_with_real_timing_caches_a_config(interpreter):
    tuned = triton.autotune(
        configs=[triton.Config({"BLOCK": 64}), triton.Config({"BLOCK": 128})],
        key=["n"],
        warmup=1,
        rep=1,
    )(scale_kernel)
    x = np.arange(256, dtype=np.float32)
    out = np.zeros_like(x)
    _launch(tuned, x, out)
    np.testing.assert_array_equal(out, x * 3)
    assert tuned.best_config in tuned.configs
    assert set(tuned.configs_timings) == set(tuned.configs)
    assert all(len(t) == 3 and t[0] > 0 for t in tuned.configs_timings.values())


def test_reset_to_zero_and_restore_value(interpreter):
    @triton.jit
    def accumulate(x_ptr, acc_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        a = tl.load(acc_ptr + offs, mask=mask)
        tl.store(acc_ptr + offs, a + tl.load(x_ptr + offs, mask=mask), mask=mask)

    seen = []

    def bench(fn, quantiles):
        fn()
        seen.append(1)
        return [1.0 + len(seen)] * 3

    tuned = triton.autotune(
        configs=[triton.Config({"BLOCK": 32}), triton.Config({"BLOCK": 64})],
        key=["n"],
        reset_to_zero=["acc_ptr"],
        do_bench=bench,
    )(accumulate)
    x = np.ones(64, dtype=np.float32)
    acc = np.full(64, 100.0, dtype=np.float32)
    tuned[lambda m: (triton.cdiv(64, m["BLOCK"]),)](x, acc, 64)
    # Zeroed before each benchmark run, then the real launch adds once more.
    np.testing.assert_array_equal(acc, np.full(64, 2.0, dtype=np.float32))

    restoring = triton.autotune(
        configs=[triton.Config({"BLOCK": 32}), triton.Config({"BLOCK": 64})],
        key=["n"],
        restore_value=["acc_ptr"],
        do_bench=bench,
    )(accumulate)
    acc = np.full(64, 100.0, dtype=np.float32)
    restoring[lambda m: (triton.cdiv(64, m["BLOCK"]),)](x, acc, 64)
    # Benchmark runs are undone; only the real launch remains.
    np.testing.assert_array_equal(acc, np.full(64, 101.0, dtype=np.float32))


def test_prune_configs_by(interpreter):
    benched = []

    def bench(fn, quantiles):
        fn()
        return [1.0] * 3

    def early(configs, nargs, **kwargs):
        assert "n" in nargs
        return [c for c in configs if c.kwargs["BLOCK"] >= 64]

    def model(**kw):
        benched.append(kw["BLOCK"])
        return kw["BLOCK"]  # smaller is "faster"

    tuned = triton.autotune(
        configs=[triton.Config({"BLOCK": b}) for b in (16, 64, 128, 256)],
        key=["n"],
        prune_configs_by={"early_config_prune": early, "perf_model": model, "top_k": 1},
        do_bench=bench,
    )(scale_kernel)
    x = np.arange(100, dtype=np.float32)
    out = np.zeros_like(x)
    _launch(tuned, x, out)
    assert sorted(benched) == [64, 128, 256]
    assert tuned.best_config.kwargs == {"BLOCK": 64}
    np.testing.assert_array_equal(out, x * 3)


def test_conflicting_meta_parameters_are_refused(interpreter):
    tuned = triton.autotune(configs=[triton.Config({"BLOCK": 32})], key=["n"])(scale_kernel)
    x = np.arange(10, dtype=np.float32)
    with pytest.raises(ValueError, match="Conflicting meta-parameters: BLOCK"):
        _launch(tuned, x, np.zeros_like(x), BLOCK=64)


def test_unknown_key_is_refused():
    with pytest.raises(ValueError, match="'nope'"):
        triton.autotune(configs=[triton.Config({"BLOCK": 32})], key=["nope"])(scale_kernel)


def test_heuristics_stack_under_autotune(engine):
    tuned = triton.autotune(configs=[triton.Config({}, num_warps=2)], key=["n"])(
        triton.heuristics({"BLOCK": lambda args: triton.next_power_of_2(args["n"]) // 2})(scale_kernel)
    )
    x = np.arange(50, dtype=np.float32)
    out = np.zeros_like(x)
    n = x.size
    tuned[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, out, n, 3.0)
    np.testing.assert_array_equal(out, x * 3)


def test_heuristics_value_reaches_the_kernel(interpreter):
    seen = {}

    @triton.heuristics({"BLOCK": lambda args: 16 if args["n"] < 32 else 64})
    @triton.jit
    def k(x_ptr, out_ptr, n, factor, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) * factor + BLOCK, mask=mask)

    def grid(meta):
        seen["BLOCK"] = meta["BLOCK"]
        return (triton.cdiv(meta["n"], meta["BLOCK"]),)

    x = np.zeros(20, dtype=np.float32)
    out = np.zeros_like(x)
    k[grid](x, out, 20, 1.0)
    assert seen["BLOCK"] == 16
    np.testing.assert_array_equal(out, np.full(20, 16.0, dtype=np.float32))
    x = np.zeros(100, dtype=np.float32)
    out = np.zeros_like(x)
    k[grid](x, out, 100, 1.0)
    np.testing.assert_array_equal(out, np.full(100, 64.0, dtype=np.float32))


def test_print_autotuning(interpreter, monkeypatch, capsys):
    monkeypatch.setenv("TRITON_PRINT_AUTOTUNING", "1")
    tuned = triton.autotune(
        configs=[triton.Config({"BLOCK": 32}), triton.Config({"BLOCK": 64})],
        key=["n"],
        do_bench=lambda fn, quantiles: [1.0] * 3,
    )(scale_kernel)
    x = np.arange(10, dtype=np.float32)
    _launch(tuned, x, np.zeros_like(x))
    assert "best config selected: BLOCK: 32" in capsys.readouterr().out
