"""``triton.Config``, ``@triton.autotune`` and ``@triton.heuristics``, with Triton's semantics:
an autotuned kernel benchmarks every (pruned) config the first time it sees a value of its
key, keeps the fastest for that key and launches with it from then on; a single config is
used without benchmarking. Both decorators stack on ``@jit`` and on each other."""

from __future__ import annotations

import builtins
import functools
import os
import sys
import time

import numpy as np

from ._jit import JITFunction


class Config:
    """Meta-parameters (``kwargs``) and launch options of one candidate launch."""

    def __init__(
        self,
        kwargs,
        num_warps=4,
        num_stages=3,
        num_ctas=1,
        maxnreg=None,
        pre_hook=None,
        ir_override=None,
    ):
        self.kwargs = dict(kwargs)
        self.num_warps = num_warps
        self.num_stages = num_stages
        self.num_ctas = num_ctas
        # Accepted for Triton compatibility: no backend here caps registers or takes IR.
        self.maxnreg = maxnreg
        self.ir_override = ir_override
        self.pre_hook = pre_hook

    def all_kwargs(self):
        """The meta-parameters and the launch options, as keyword arguments of a launch."""
        opts = {"num_warps": self.num_warps, "num_stages": self.num_stages, "num_ctas": self.num_ctas}
        return {**self.kwargs, **{k: v for k, v in opts.items() if v is not None}}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __repr__(self):
        return f"Config({self})"

    def __str__(self):
        parts = [f"{k}: {v}" for k, v in self.kwargs.items()]
        parts += [f"num_warps: {self.num_warps}", f"num_ctas: {self.num_ctas}", f"num_stages: {self.num_stages}"]
        if self.maxnreg is not None:
            parts.append(f"maxnreg: {self.maxnreg}")
        return ", ".join(parts)

    def __eq__(self, other):
        return isinstance(other, Config) and self.all_kwargs() == other.all_kwargs()

    def __hash__(self):
        return hash(tuple(sorted((k, repr(v)) for k, v in self.all_kwargs().items())))


class KernelInterface:
    """``kernel[grid](*args, **kwargs)`` for the decorators' wrappers."""

    def __getitem__(self, grid):
        return functools.partial(self.run, grid=grid)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            f"'{self.__name__}' is a kernel: launch it with {self.__name__}[grid](...)"
        )


def _base_jit(fn):
    while not isinstance(fn, JITFunction):
        fn = fn.fn
    return fn


class Autotuner(KernelInterface):
    def __init__(
        self,
        fn,
        arg_names,
        configs,
        key,
        reset_to_zero=None,
        restore_value=None,
        pre_hook=None,
        post_hook=None,
        prune_configs_by=None,
        warmup=None,
        rep=None,
        use_cuda_graph=False,
        do_bench=None,
        cache_results=False,
    ):
        self.fn = fn
        self.base_fn = _base_jit(fn)
        functools.update_wrapper(self, self.base_fn.fn)
        self.arg_names = list(arg_names)
        self.configs = list(configs) if configs else [Config({}, num_warps=4, num_stages=3)]
        for k in key:
            if k not in self.arg_names:
                raise ValueError(f"autotune key '{k}' is not a parameter of {self.__name__}")
        self.keys = list(key)
        self.reset_to_zero = self._arg_list(reset_to_zero, "reset_to_zero")
        self.restore_value = self._arg_list(restore_value, "restore_value")
        self.user_pre_hook = pre_hook
        self.user_post_hook = post_hook
        prune_configs_by = prune_configs_by or {}
        self.perf_model = prune_configs_by.get("perf_model")
        self.configs_top_k = prune_configs_by.get("top_k", 1.0)
        self.early_config_prune = prune_configs_by.get("early_config_prune")
        self.num_warmups = 25 if warmup is None else warmup
        self.num_reps = 100 if rep is None else rep
        self.use_cuda_graph = use_cuda_graph  # accepted; no graphs here
        self.user_do_bench = do_bench
        self.cache_results = cache_results  # accepted; the cache is per process
        self.cache = {}
        self.configs_timings = None
        self.best_config = None
        self.bench_time = 0.0
        self.nargs = None

    def _arg_list(self, names, what):
        names = list(names or [])
        for n in names:
            if n not in self.arg_names:
                raise ValueError(f"{what}: '{n}' is not a parameter of {self.__name__}")
        return names

    # -- what happens around each benchmarked launch ---------------------------------------

    def _pre_bench(self, nargs, saved):
        for name in self.reset_to_zero:
            arr = nargs.get(name)
            if arr is not None:
                np.asarray(arr)[...] = 0
        for name in self.restore_value:
            arr = nargs.get(name)
            if arr is not None:
                saved[name] = np.array(np.asarray(arr), copy=True)
        if self.user_pre_hook is not None:
            self.user_pre_hook(nargs)

    def _post_bench(self, nargs, saved, exception):
        for name, copy in saved.items():
            np.asarray(nargs[name])[...] = copy
        saved.clear()
        if self.user_post_hook is not None:
            self.user_post_hook(nargs, exception=exception)

    def _bench(self, *args, config, grid, **meta):
        from .testing import do_bench

        conflicts = set(meta) & set(config.all_kwargs())
        if conflicts:
            raise ValueError(
                f"Conflicting meta-parameters: {', '.join(sorted(conflicts))}. Make sure that you "
                "don't re-define auto-tuned symbols."
            )
        current = dict(meta, **config.all_kwargs())
        full_nargs = {**self.nargs, **current}
        saved = {}

        def kernel_call():
            if config.pre_hook is not None:
                config.pre_hook(full_nargs)
            self._pre_bench(full_nargs, saved)
            try:
                self.fn.run(*args, grid=grid, **current)
            except Exception as e:
                self._post_bench(full_nargs, saved, e)
                raise
            self._post_bench(full_nargs, saved, None)

        bench = self.user_do_bench or (
            lambda f, quantiles: do_bench(f, warmup=self.num_warmups, rep=self.num_reps, quantiles=quantiles)
        )
        try:
            return bench(kernel_call, quantiles=(0.5, 0.2, 0.8))
        except Exception as e:  # a config that fails to compile or run loses, as in Triton
            if type(e).__name__ in ("CompilationError", "OutOfResources"):
                return [float("inf")] * 3
            raise

    def _key(self, nargs):
        key = [nargs[k] for k in self.keys if k in nargs]
        for v in nargs.values():
            dt = getattr(v, "dtype", None)
            if dt is not None:
                key.append(str(dt))
        return tuple(_hashable(k) for k in key)

    # -- launch ---------------------------------------------------------------------------

    def run(self, *args, grid, **kwargs):
        self.nargs = dict(zip(self.arg_names, args))
        used_cached = True
        if len(self.configs) > 1:
            all_args = {**self.nargs, **kwargs}
            key = self._key({k: v for k, v in all_args.items() if k in self.arg_names})
            if key not in self.cache:
                used_cached = False
                pruned = self.prune_configs(kwargs)
                start = time.perf_counter()
                timings = {c: self._bench(*args, config=c, grid=grid, **kwargs) for c in pruned}
                self.bench_time = time.perf_counter() - start
                self.cache[key] = builtins.min(timings, key=lambda c: _first(timings[c]))
                self.configs_timings = timings
            config = self.cache[key]
        else:
            config = self.configs[0]
        self.best_config = config
        if _truthy("TRITON_PRINT_AUTOTUNING") and not used_cached:
            print(
                f"Triton autotuning for function {self.__name__} finished after "
                f"{self.bench_time:.2f}s; best config selected: {config};",
                file=sys.stdout,
            )
        full_nargs = {**self.nargs, **kwargs, **config.all_kwargs()}
        if config.pre_hook is not None:
            config.pre_hook(full_nargs)
        conflicts = set(kwargs) & set(config.all_kwargs())
        if conflicts:
            raise ValueError(
                f"Conflicting meta-parameters: {', '.join(sorted(conflicts))}. Make sure that you "
                "don't re-define auto-tuned symbols."
            )
        ret = self.fn.run(*args, grid=grid, **kwargs, **config.all_kwargs())
        self.nargs = None
        return ret

    def prune_configs(self, kwargs):
        pruned = self.configs
        if self.early_config_prune is not None:
            pruned = list(self.early_config_prune(self.configs, self.nargs, **kwargs))
            if not pruned:
                raise ValueError("early_config_prune returned no configs")
        if self.perf_model is not None:
            top_k = self.configs_top_k
            if isinstance(top_k, float) and top_k <= 1.0:
                top_k = int(len(pruned) * top_k)
            top_k = builtins.max(int(top_k), 1)
            if len(pruned) > top_k:
                est = {
                    c: self.perf_model(**self.nargs, **kwargs, **c.all_kwargs()) for c in pruned
                }
                pruned = sorted(est, key=est.get)[:top_k]
        return pruned

    def warmup(self, *args, **kwargs):
        """Compile every config for these arguments without launching."""
        self.nargs = dict(zip(self.arg_names, args))
        out = []
        for config in self.prune_configs(kwargs):
            out.append(self.fn.warmup(*args, **kwargs, **config.all_kwargs()))
        self.nargs = None
        return out

    def __repr__(self):
        return f"Autotuner({self.base_fn!r}, {len(self.configs)} configs)"


def autotune(
    configs,
    key,
    prune_configs_by=None,
    reset_to_zero=None,
    restore_value=None,
    pre_hook=None,
    post_hook=None,
    warmup=None,
    rep=None,
    use_cuda_graph=False,
    do_bench=None,
    cache_results=False,
):
    """Triton's ``@triton.autotune``: put it above ``@triton.jit`` (or ``@triton.heuristics``)."""

    def decorator(fn):
        return Autotuner(
            fn,
            _base_jit(fn).arg_names,
            configs,
            key,
            reset_to_zero=reset_to_zero,
            restore_value=restore_value,
            pre_hook=pre_hook,
            post_hook=post_hook,
            prune_configs_by=prune_configs_by,
            warmup=warmup,
            rep=rep,
            use_cuda_graph=use_cuda_graph,
            do_bench=do_bench,
            cache_results=cache_results,
        )

    return decorator


class Heuristics(KernelInterface):
    """Meta-parameters computed from the other arguments at each launch."""

    def __init__(self, fn, arg_names, values):
        self.fn = fn
        self.base_fn = _base_jit(fn)
        functools.update_wrapper(self, self.base_fn.fn)
        self.arg_names = list(arg_names)
        self.values = dict(values)

    def run(self, *args, **kwargs):
        for name, heur in self.values.items():
            kwargs[name] = heur({**dict(zip(self.arg_names, args)), **kwargs})
        return self.fn.run(*args, **kwargs)

    def warmup(self, *args, **kwargs):
        for name, heur in self.values.items():
            kwargs[name] = heur({**dict(zip(self.arg_names, args)), **kwargs})
        return self.fn.warmup(*args, **kwargs)

    def __repr__(self):
        return f"Heuristics({self.base_fn!r}, {list(self.values)})"


def heuristics(values):
    """Triton's ``@triton.heuristics({'NAME': lambda args: ...})``."""

    def decorator(fn):
        return Heuristics(fn, _base_jit(fn).arg_names, values)

    return decorator


def _first(t):
    return t[0] if isinstance(t, (list, tuple)) else t


def _hashable(v):
    if isinstance(v, np.generic):
        return v.item()
    try:
        hash(v)
        return v
    except TypeError:
        return repr(v)


def _truthy(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
