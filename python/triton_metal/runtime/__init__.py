"""``triton.runtime``: the active driver, the JIT and the tuning decorators."""

from .._autotune import Autotuner, Config, Heuristics, KernelInterface, autotune, heuristics  # noqa: F401
from .._jit import CompiledKernel, JITFunction  # noqa: F401
from .driver import driver  # noqa: F401
from . import errors  # noqa: F401
from .errors import OutOfResources  # noqa: F401
