"""``triton.testing``: timing (``do_bench``), comparison (``assert_close``) and the
``perf_report``/``Benchmark`` tables of Triton's tutorials, with numpy in place of torch.
Plots are drawn only when matplotlib is installed."""

from __future__ import annotations

import math
import os
import time

import numpy as np

from . import _devices


def synchronize():
    """Waits until every kernel launched on the current device has finished."""
    _devices.current_device().synchronize()


def _summarize(times, quantiles, return_mode):
    times = np.asarray(times, dtype=np.float64)
    if quantiles is not None:
        ret = np.quantile(times, list(quantiles)).tolist()
        return ret[0] if len(ret) == 1 else ret
    if return_mode == "all":
        return times.tolist()
    return float(getattr(np, return_mode)(times))


def do_bench(fn, warmup=25, rep=100, grad_to_none=None, quantiles=None, return_mode="mean"):
    """Milliseconds per call of ``fn``, as Triton's ``do_bench``: ``warmup`` and ``rep`` are
    time budgets in ms, each timed call is bracketed by device synchronizations. Triton also
    flushes the L2 cache before each call; no device here exposes a cache to flush, so calls
    may run warm."""
    if return_mode not in ("min", "max", "mean", "median", "all"):
        raise ValueError(f"return_mode must be min, max, mean, median or all, got {return_mode!r}")
    fn()
    synchronize()
    # Estimate the run time from five calls, to size the warm-up and the timed repetitions.
    start = time.perf_counter()
    for _ in range(5):
        fn()
    synchronize()
    estimate_ms = max((time.perf_counter() - start) * 1000.0 / 5, 1e-6)
    n_warmup = max(1, int(warmup / estimate_ms))
    n_repeat = max(1, int(rep / estimate_ms))
    for _ in range(n_warmup):
        fn()
    times = []
    for _ in range(n_repeat):
        if grad_to_none is not None:
            for x in grad_to_none:
                try:
                    x.grad = None
                except AttributeError:  # numpy arrays carry no gradient
                    pass
        synchronize()
        t0 = time.perf_counter()
        fn()
        synchronize()
        times.append((time.perf_counter() - t0) * 1000.0)
    return _summarize(times, quantiles, return_mode)


def do_bench_cudagraph(fn, rep=20, grad_to_none=None, quantiles=None, return_mode="mean"):
    """No graphs here: the same as ``do_bench`` with no warm-up budget beyond one call."""
    return do_bench(fn, warmup=1, rep=rep, grad_to_none=grad_to_none, quantiles=quantiles,
                    return_mode=return_mode)


def _as_numpy(x):
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach()
        if hasattr(x, "cpu"):
            x = x.cpu()
        if str(getattr(x, "dtype", "")) == "torch.bfloat16":
            x = x.float()
        x = x.numpy()
    x = np.asarray(x)
    if x.dtype.name == "bfloat16":
        x = x.astype(np.float32)
    return x


def assert_close(x, y, atol=None, rtol=None, err_msg=""):
    """Triton's ``assert_close``: ``atol`` defaults to 1e-2 and ``rtol`` to 0; either may be a
    function of the dtype of ``x``; NaNs in the same places compare equal."""
    x = _as_numpy(x)
    y = _as_numpy(y)
    if atol is None:
        atol = 1e-2
    atol = atol(x.dtype) if callable(atol) else atol
    if rtol is None:
        rtol = 0.0
    rtol = rtol(x.dtype) if callable(rtol) else rtol
    if x.size > 1 or y.size > 1:
        np.testing.assert_allclose(x, y, atol=atol, rtol=rtol, equal_nan=True, err_msg=err_msg)
        return
    if not np.allclose(x, y, atol=atol, rtol=rtol, equal_nan=True):
        raise AssertionError(f"{err_msg} {x} is not close to {y} (atol={atol}, rtol={rtol})")


class Benchmark:
    """One benchmark table: ``x_names`` take each of ``x_vals``; ``line_arg`` takes each of
    ``line_vals`` (one column per value, named by ``line_names``); ``args`` are fixed."""

    def __init__(
        self,
        x_names,
        x_vals,
        line_arg,
        line_vals,
        line_names,
        plot_name,
        args,
        xlabel="",
        ylabel="",
        x_log=False,
        y_log=False,
        styles=None,
        color=None,
    ):
        self.x_names = list(x_names)
        self.x_vals = list(x_vals)
        self.x_log = x_log
        self.line_arg = line_arg
        self.line_vals = list(line_vals)
        self.line_names = list(line_names)
        self.y_log = y_log
        self.styles = styles
        self.xlabel = xlabel
        self.ylabel = ylabel
        self.plot_name = plot_name
        self.args = dict(args)


class Table:
    """Rows of a benchmark, with column names; ``to_string`` and ``to_csv`` as in pandas.
    ``perf_report(...).run(return_df=True)`` returns a pandas DataFrame instead when pandas
    is installed."""

    def __init__(self, columns, rows):
        self.columns = list(columns)
        self.rows = [list(r) for r in rows]

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, column):
        i = self.columns.index(column)
        return [r[i] for r in self.rows]

    def _cell(self, v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "NaN"
        if isinstance(v, float):
            return f"{v:.6g}"
        return str(v)

    def to_string(self):
        cells = [[""] + self.columns] + [[str(i)] + [self._cell(v) for v in r] for i, r in enumerate(self.rows)]
        widths = [max(len(row[j]) for row in cells) for j in range(len(cells[0]))]
        return "\n".join(" ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells)

    def to_csv(self, path):
        with open(path, "w") as f:
            f.write(",".join(self.columns) + "\n")
            for r in self.rows:
                f.write(",".join("" if v is None else str(v) for v in r) + "\n")

    def __str__(self):
        return self.to_string()


class Mark:
    """What ``perf_report`` returns: call it like the function, or ``.run()`` the tables."""

    def __init__(self, fn, benchmarks):
        self.fn = fn
        self.benchmarks = benchmarks

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def _run(self, bench, save_path, show_plots, print_data, diff_col=False, save_precision=6, **kwargs):
        y_mean = bench.line_names
        y_min = [f"{y}-min" for y in bench.line_names]
        y_max = [f"{y}-max" for y in bench.line_names]
        columns = list(bench.x_names) + y_mean + y_min + y_max
        rows = []
        for x in bench.x_vals:
            if not isinstance(x, (list, tuple)):
                x = [x] * len(bench.x_names)
            if len(x) != len(bench.x_names):
                raise ValueError(f"expected {len(bench.x_names)} values, got {x}")
            x_args = dict(zip(bench.x_names, x))
            means, mins, maxs = [], [], []
            for y in bench.line_vals:
                ret = self.fn(**x_args, **{bench.line_arg: y}, **bench.args, **kwargs)
                try:
                    m, lo, hi = ret
                except TypeError:
                    m, lo, hi = ret, None, None
                means.append(m)
                mins.append(lo)
                maxs.append(hi)
            rows.append(list(x) + means + mins + maxs)
        table = Table(columns, rows)
        # Like Triton, drop the min/max columns nobody filled in.
        keep = [i for i, c in enumerate(columns) if i < len(bench.x_names) + len(y_mean)
                or any(r[i] is not None for r in rows)]
        table = Table([columns[i] for i in keep], [[r[i] for i in keep] for r in rows])
        if bench.plot_name:
            self._plot(bench, table, save_path, show_plots)
        if print_data:
            print(bench.plot_name + ":")
            print(table.to_string())
        if save_path:
            table.to_csv(os.path.join(save_path, f"{bench.plot_name}.csv"))
        return table

    def _plot(self, bench, table, save_path, show_plots):
        if not (show_plots or save_path):
            return
        try:
            import matplotlib.pyplot as plt
        except ImportError:  # plotting is optional
            return
        plt.figure()
        ax = plt.subplot()
        x = table[bench.x_names[0]]
        for i, name in enumerate(bench.line_names):
            style = bench.styles[i] if bench.styles else None
            kw = {"color": style[0], "ls": style[1]} if style else {}
            ax.plot(x, table[name], label=name, **kw)
        ax.legend()
        ax.set_xlabel(bench.xlabel or bench.x_names[0])
        ax.set_ylabel(bench.ylabel)
        if bench.x_log:
            ax.set_xscale("log")
        if bench.y_log:
            ax.set_yscale("log")
        if show_plots:
            plt.show()
        if save_path:
            plt.savefig(os.path.join(save_path, f"{bench.plot_name}.png"))
        plt.close()

    def run(self, show_plots=False, print_data=False, save_path="", return_df=False, **kwargs):
        benchmarks = [self.benchmarks] if isinstance(self.benchmarks, Benchmark) else self.benchmarks
        tables = [self._run(b, save_path, show_plots, print_data, **kwargs) for b in benchmarks]
        if save_path:
            with open(os.path.join(save_path, "results.html"), "w") as html:
                html.write("<html><body>\n")
                for b in benchmarks:
                    html.write(f'<image src="{b.plot_name}.png"/>\n')
                html.write("</body></html>\n")
        if return_df:
            tables = [_to_dataframe(t) for t in tables]
            return tables[0] if isinstance(self.benchmarks, Benchmark) else tables
        return None


def _to_dataframe(table):
    try:
        import pandas as pd
    except ImportError:
        return table
    return pd.DataFrame(table.rows, columns=table.columns)


def perf_report(benchmarks):
    """Decorator: ``@perf_report(Benchmark(...))`` over a function returning a time or a
    (mean, min, max) triple."""

    def wrapper(fn):
        return Mark(fn, benchmarks)

    return wrapper
