"""``@jit``: binding launch arguments, specializing on them, caching compiled kernels and
launching. All compilation happens in Rust (``_core.compile``); per launch, this module does a
cache lookup and converts the arguments."""

from __future__ import annotations

import functools
import inspect
import operator
import os
import re
import sys
from collections.abc import Mapping

import numpy as np

from . import _core, _devices
from ._tensor import Tensor
from ._resolve import encode_const, expand_spec, function_source, read_source
from .language import core as _lang

_MISSING = object()

# Launch options a kernel call accepts besides its parameters, with their defaults.
_OPTION_DEFAULTS = {"num_warps": 4, "num_stages": 3, "num_ctas": 1}

_NP_DTYPES = {
    np.dtype(np.bool_): "i1",
    np.dtype(np.int8): "i8",
    np.dtype(np.int16): "i16",
    np.dtype(np.int32): "i32",
    np.dtype(np.int64): "i64",
    np.dtype(np.uint8): "u8",
    np.dtype(np.uint16): "u16",
    np.dtype(np.uint32): "u32",
    np.dtype(np.uint64): "u64",
    np.dtype(np.float16): "f16",
    np.dtype(np.float32): "f32",
    np.dtype(np.float64): "f64",
}

# Signature spellings accepted by warmup() in place of arguments ("*fp32", "i32").
_SIG_NAMES = {
    "i1": "i1", "int1": "i1", "bool": "i1",
    "i8": "i8", "int8": "i8", "i16": "i16", "int16": "i16",
    "i32": "i32", "int32": "i32", "i64": "i64", "int64": "i64",
    "u8": "u8", "uint8": "u8", "u16": "u16", "uint16": "u16",
    "u32": "u32", "uint32": "u32", "u64": "u64", "uint64": "u64",
    "fp16": "f16", "f16": "f16", "float16": "f16", "bf16": "bf16", "bfloat16": "bf16",
    "fp32": "f32", "f32": "f32", "float32": "f32", "fp64": "f64", "f64": "f64", "float64": "f64",
}

_I32 = 2**31
_I64 = 2**63
_U64 = 2**64


def _array_elem(arr: np.ndarray, name: str) -> str:
    dt = _NP_DTYPES.get(arr.dtype)
    if dt is None:
        if arr.dtype.name == "bfloat16":  # ml_dtypes' bfloat16
            return "bf16"
        raise TypeError(f"argument '{name}': arrays of dtype {arr.dtype} are not supported")
    return dt


def _int_spec(v: int, name: str, specialize: bool):
    if -_I32 <= v < _I32:
        ty = "i32"
    elif -_I64 <= v < _I64:
        ty = "i64"
    elif 0 <= v < _U64:
        ty = "u64"
    else:
        raise OverflowError(f"argument '{name}': integer {v} does not fit in 64 bits")
    if not specialize:
        return ("scalar", ty, False, False)
    return ("scalar", ty, v % 16 == 0, v == 1)


# Neither Metal nor wgpu reports a pipeline's register use: kernels report this nominal
# per-thread count, and the device properties report a register file sized so that
# Triton's occupancy formula (max_num_regs // (n_regs * warpSize * num_warps)) gives the
# number of such programs that fit the device's threads-per-group limit.
NOMINAL_REGS_PER_THREAD = 32


class KernelMetadata(dict):
    """A compiled kernel's metadata: a dict that also reads as attributes
    (``metadata.shared``, ``metadata["num_warps"]``), as Triton's does. ``shared`` (bytes of
    threadgroup memory) is worked out on first read."""

    def __init__(self, *args, shared_fn=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._shared_fn = shared_fn

    def __missing__(self, key):
        if key == "shared" and self._shared_fn is not None:
            value = self._shared_fn()
            self[key] = value
            return value
        raise KeyError(key)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class CompiledKernel:
    """A kernel compiled for one specialization and device. ``asm`` maps 'tile', 'simt',
    'msl' and 'wgsl' to each stage's text (each made when first read). ``kernel[grid](*args)``
    launches it with the same arguments as the JIT function (constexprs included, ignored),
    which must specialize the same way."""

    n_regs = NOMINAL_REGS_PER_THREAD
    n_spills = 0

    def __init__(self, core_kernel, fn_name: str, options: dict, jit_fn=None, key=None):
        self._kernel = core_kernel
        self._jit = jit_fn
        self._key = key
        self.name = core_kernel.name
        self.function_name = fn_name
        self.asm = _LazyAsm(core_kernel)
        self._shared = None
        self.metadata = KernelMetadata(
            options,
            device=core_kernel.device_description,
            name=self.name,
            shared_fn=self.shared_bytes,
        )

    def _init_handles(self):
        """Triton loads the binary here; ours is ready when compiled."""

    def shared_bytes(self) -> int:
        """Bytes of threadgroup (shared) memory the kernel declares (0 in the interpreter)."""
        if self._shared is None:
            self._shared = _shared_bytes(self)
        return self._shared

    def __getitem__(self, grid):
        return functools.partial(self.run, grid=grid)

    def run(self, *args, grid):
        jit = self._jit
        if jit is None:
            raise RuntimeError(f"kernel {self.name} cannot be launched by itself")
        values, options = jit._bind(args, {})
        key, launch_args = jit._specialize(values)
        if key != self._key:
            raise ValueError(
                f"kernel {self.name}: these arguments specialize differently from the ones it "
                "was compiled for (an integer that is now 1 or a multiple of 16, or another "
                "dtype); launch the JIT function instead"
            )
        dims = jit._grid(grid, values, dict(self.metadata))
        if dims is not None:
            launch_args = _bind_tensors(jit._device(), launch_args, jit.params)
            _echo(self._kernel.launch(dims, launch_args))
        return self

    def __repr__(self):
        return f"<CompiledKernel {self.name} on {self.metadata['device']}>"


def _shared_bytes(kernel: CompiledKernel) -> int:
    try:
        simt = kernel.asm["simt"]
    except Exception:  # the interpreter's kernels have no SIMT stage on this device
        return 0
    total = 0
    for line in simt.splitlines():
        m = _SHARED_DECL.match(line.strip())
        if m:
            total += _ELEM_BYTES.get(m.group(1), 4) * int(m.group(2))
    return total


_SHARED_DECL = re.compile(r"^shared\s+\S+:\s*(\w+)\[(\d+)\]")
_ELEM_BYTES = {
    "i1": 1, "i8": 1, "u8": 1, "i16": 2, "u16": 2, "f16": 2, "bf16": 2,
    "i32": 4, "u32": 4, "f32": 4, "i64": 8, "u64": 8, "f64": 8,
}


def _echo(prints):
    """``tl.device_print`` lines of a launch (the interpreter's), on Python's stdout."""
    if prints:
        sys.stdout.write("".join(line if line.endswith("\n") else line + "\n" for line in prints))


class _LazyAsm(Mapping):
    KEYS = ("tile", "simt", "msl", "wgsl")

    def __init__(self, core_kernel):
        self._kernel = core_kernel
        self._texts = {}

    def __getitem__(self, key):
        text = self._texts.get(key)
        if text is None:
            if key not in self.KEYS:
                raise KeyError(key)
            text = self._kernel.asm(key)
            self._texts[key] = text
        return text

    def __iter__(self):
        return iter(self.KEYS)

    def __len__(self):
        return len(self.KEYS)

    def __repr__(self):
        return f"<asm: {', '.join(self.KEYS)}>"


class JITFunction:
    """A kernel (or a device function called from kernels): ``kernel[grid](*args, ...)``."""

    def __init__(self, fn, *, interpret=False, do_not_specialize=(), debug=None, **_ignored):
        if not inspect.isfunction(fn):
            raise TypeError(f"@jit applies to functions, not {type(fn).__name__}")
        self.fn = fn
        functools.update_wrapper(self, fn)
        self.interpret = bool(interpret)
        # Triton's debug mode: None follows TRITON_DEBUG at compile time.
        self.debug = debug
        sig = inspect.signature(fn)
        self.params = []
        self.is_constexpr = []
        self.defaults = []
        for p in sig.parameters.values():
            if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                raise TypeError(
                    f"kernel '{fn.__name__}': parameter '{p.name}' must be a plain positional "
                    "parameter (no *args, **kwargs or keyword-only parameters)"
                )
            self.params.append(p.name)
            self.is_constexpr.append(_is_constexpr_annotation(p.annotation))
            self.defaults.append(_MISSING if p.default is p.empty else p.default)
        self.index = {n: i for i, n in enumerate(self.params)}
        self.specialize = [True] * len(self.params)
        for item in do_not_specialize:
            i = self.index.get(item) if isinstance(item, str) else operator.index(item)
            if i is None or not 0 <= i < len(self.params):
                raise ValueError(f"do_not_specialize: '{item}' is not a parameter of {fn.__name__}")
            self.specialize[i] = False
        self._src = None
        self._tree = None
        self._cache = {}

    # -- source ---------------------------------------------------------------------------

    def _source(self):
        if self._src is None:
            self._src = read_source(self.fn)
        return self._src

    @property
    def src(self):
        return self._source()[1]

    @property
    def arg_names(self):
        """The parameter names, in order (Triton's name for them)."""
        return list(self.params)

    # -- calling --------------------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            f"'{self.__name__}' is a @triton_metal.jit kernel: launch it with "
            f"{self.__name__}[grid](...), or call it from another kernel"
        )

    def __getitem__(self, grid):
        return functools.partial(self.run, grid=grid)

    def __repr__(self):
        return f"JITFunction({self.__module__}:{self.__qualname__})"

    def run(self, *args, grid, **kwargs):
        values, options = self._bind(args, kwargs)
        key, launch_args = self._specialize(values)
        dims = self._grid(grid, values, options)
        device = self._device()
        kernel = self._compiled(device, key, options, _shares_memory(launch_args))
        if dims is not None:
            _echo(kernel._kernel.launch(dims, _bind_tensors(device, launch_args, self.params)))
        return kernel

    def warmup(self, *args, grid=None, **kwargs):
        """Compile for these arguments without launching. Arguments may be arrays and scalars
        as for a launch, or signature strings ('*fp32', 'i32')."""
        values, options = self._bind(args, kwargs)
        key, _ = self._specialize(values)
        if grid is not None:
            self._grid(grid, values, options)
        return self._compiled(self._device(), key, options)

    # -- steps of a launch ----------------------------------------------------------------

    def _device(self):
        if self.interpret:
            return _devices.open_device(_devices.INTERPRETER)
        return _devices.current_device()

    def _bind(self, args, kwargs):
        name = self.__name__
        n = len(self.params)
        if len(args) > n:
            raise TypeError(f"{name}() takes {n} arguments but {len(args)} were given")
        values = list(args)
        values.extend([_MISSING] * (n - len(args)))
        options = dict(_OPTION_DEFAULTS)
        for key, v in kwargs.items():
            i = self.index.get(key)
            if i is not None and key in options:
                # A parameter named like a launch option (tutorial 02's `num_stages`) is
                # both, as in Triton.
                options[key] = v
            if i is None:
                if key in options:
                    options[key] = v
                    continue
                raise TypeError(f"{name}() got an unexpected keyword argument '{key}'")
            if values[i] is not _MISSING:
                raise TypeError(f"{name}() got multiple values for argument '{key}'")
            values[i] = v
        for i, v in enumerate(values):
            if v is _MISSING:
                d = self.defaults[i]
                if d is _MISSING:
                    what = "constexpr argument" if self.is_constexpr[i] else "argument"
                    raise TypeError(f"{name}() missing {what} '{self.params[i]}'")
                values[i] = d
        for opt in ("num_warps", "num_stages", "num_ctas"):
            v = options[opt]
            if type(v) is not int or v < 1:
                raise ValueError(f"{opt} must be a positive integer, got {v!r}")
        if options["num_ctas"] != 1:
            raise ValueError("num_ctas other than 1 is not supported")
        return values, options

    def _compiled(self, device, key, options, may_alias=False):
        debug = _debug_mode() if self.debug is None else bool(self.debug)
        cache_key = (device.selector, key, options["num_warps"], options["num_stages"], debug, may_alias)
        kernel = self._cache.get(cache_key)
        if kernel is None:
            if self._tree is None:
                self._tree = function_source(self)
            specs = [expand_spec(k) for k in key]
            core = _core.compile(
                device, self._tree, specs, options["num_warps"], options["num_stages"], debug, may_alias
            )
            kernel = CompiledKernel(core, self.__name__, options, self, key)
            self._cache[cache_key] = kernel
            if _debug_dump():
                _dump(kernel)
        return kernel

    def _specialize(self, values):
        key = []
        launch = []
        for i, v in enumerate(values):
            name = self.params[i]
            if self.is_constexpr[i]:
                c = encode_const(v)
                if c is None:
                    raise TypeError(
                        f"constexpr argument '{name}' must be a bool, int, float, str, None, "
                        f"dtype, @jit function or tuple of those, got {type(v).__name__}"
                    )
                key.append(("constexpr", c))
                launch.append(None)
                continue
            t = type(v)
            if t is Tensor:
                # Resident buffers are 256-byte aligned; the device is checked at launch.
                key.append(("ptr", _array_elem(v, name), True))
                launch.append(v)
            elif t is np.ndarray or (t is not str and not _is_scalar(v) and _has_array(v)):
                # Anything numpy can view without a copy (the buffer protocol,
                # __array_interface__) is taken as an array.
                arr = v if t is np.ndarray else np.asarray(v)
                flags = arr.flags
                if not flags.c_contiguous:
                    raise ValueError(
                        f"argument '{name}': the array is not C-contiguous; pass "
                        "np.ascontiguousarray(...) (results are copied back in place)"
                    )
                # Arrays are copied into device buffers, which are 256-byte aligned.
                key.append(("ptr", _array_elem(arr, name), True))
                launch.append((arr.__array_interface__["data"][0], arr.nbytes, flags.writeable, arr))
            elif t is bool:
                key.append(("scalar", "i1", False, False))
                launch.append(v)
            elif t is int:
                key.append(_int_spec(v, name, self.specialize[i]))
                launch.append(v)
            elif t is float:
                key.append(("scalar", "f32", False, False))
                launch.append(v)
            elif v is None:
                key.append(("constexpr", ("none", None)))
                launch.append(None)
            elif isinstance(v, np.generic):
                ty = _NP_DTYPES.get(v.dtype)
                if ty is None:
                    raise TypeError(f"argument '{name}': numpy scalars of {v.dtype} are not supported")
                if v.dtype.kind in "iu" and self.specialize[i]:
                    iv = int(v)
                    key.append(("scalar", ty, iv % 16 == 0, iv == 1))
                else:
                    key.append(("scalar", ty, False, False))
                launch.append(v.item())
            elif t is str and v.lstrip("*") in _SIG_NAMES:
                # warmup() with a signature instead of values; such a spec cannot launch.
                elem = _SIG_NAMES[v.lstrip("*")]
                key.append(("ptr", elem, True) if v.startswith("*") else ("scalar", elem, False, False))
                launch.append(_NotLaunchable(name))
            else:
                raise TypeError(
                    f"argument '{name}' of {self.__name__}(): expected a numpy array (for a "
                    f"pointer) or a Python/numpy scalar, got {t.__name__}"
                )
        return tuple(key), launch

    def _grid(self, grid, values, options):
        if callable(grid):
            meta = dict(zip(self.params, values))
            meta.update(options)
            grid = grid(meta)
        if not isinstance(grid, (tuple, list)):
            grid = (grid,)
        try:
            dims = tuple(operator.index(g) for g in grid)
        except TypeError:
            raise TypeError(f"grid must be a tuple of up to 3 integers, got {grid!r}") from None
        if not 1 <= len(dims) <= 3:
            raise ValueError(f"grid must have 1, 2 or 3 dimensions, got {len(dims)}: {dims}")
        if any(d < 0 for d in dims):
            raise ValueError(f"grid dimensions must not be negative, got {dims}")
        if any(d == 0 for d in dims):
            return None  # Triton launches nothing for an empty grid
        if any(d >= 2**32 for d in dims):
            raise ValueError(f"grid dimensions must be below 2**32, got {dims}")
        return dims + (1,) * (3 - len(dims))


def _bind_tensors(device, launch_args, params):
    """Tensors become their buffers (GPU) or host memory (CPU engines), once checked to
    live on the launching device."""
    if not any(type(a) is Tensor for a in launch_args):
        return launch_args
    return [
        a._launch_arg(device, params[i]) if type(a) is Tensor else a
        for i, a in enumerate(launch_args)
    ]


class _NotLaunchable:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<signature-only argument '{self.name}'>"


def _shares_memory(launch_args) -> bool:
    """Whether two pointer arguments are the same memory (an array or tensor passed twice):
    the kernel is then compiled with every buffer writable (see tm_compiler::Options)."""
    seen = set()
    for a in launch_args:
        if type(a) is tuple:
            ident = ("host", a[0], a[1])
        elif type(a) is Tensor:
            ident = ("buf", id(a._buf)) if a._buf is not None else ("host", id(a._host))
        else:
            continue
        if ident in seen:
            return True
        seen.add(ident)
    return False


def _debug_mode() -> bool:
    """Triton's TRITON_DEBUG: device asserts are checked (and Python asserts kept)."""
    return os.environ.get("TRITON_DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off")


def _debug_dump() -> bool:
    return os.environ.get("TRITON_METAL_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def _dump(kernel: CompiledKernel):
    """TRITON_METAL_DEBUG=1: every stage of each newly compiled kernel, on stderr."""
    for key in _LazyAsm.KEYS:
        try:
            text = kernel.asm[key]
        except Exception as e:  # a stage that fails to build is reported, not raised
            text = f"<{type(e).__name__}: {e}>"
        print(f"// ---- {kernel.name}: {key} ----\n{text}", file=sys.stderr)


def _is_scalar(v) -> bool:
    return isinstance(v, (int, float, bool, np.generic))


def _has_array(v) -> bool:
    return (
        isinstance(v, (memoryview, bytearray))
        or hasattr(v, "__array_interface__")
        or hasattr(v, "__array__")
    )


def _is_constexpr_annotation(ann) -> bool:
    if ann is _lang.constexpr:
        return True
    if isinstance(ann, str):  # `from __future__ import annotations`
        return ann.replace(" ", "").split(".")[-1] == "constexpr"
    return False


def jit(fn=None, *, interpret=False, do_not_specialize=(), **kwargs):
    """Triton's ``@triton.jit``, with or without arguments."""

    def wrap(f):
        return JITFunction(f, interpret=interpret, do_not_specialize=do_not_specialize, **kwargs)

    return wrap if fn is None else wrap(fn)
