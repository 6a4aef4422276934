"""triton_metal: Triton kernels on Apple GPUs through Metal, and on Vulkan/DX12 through wgpu.

Use it as Triton::

    import triton_metal as triton
    import triton_metal.language as tl
"""

from ._core import CompilationError, __version__  # noqa: F401
from ._devices import device, device_info, set_device  # noqa: F401
from ._tensor import Tensor, empty, tensor, zeros  # noqa: F401
from ._jit import CompiledKernel, JITFunction, jit  # noqa: F401
from ._autotune import Config, autotune, heuristics  # noqa: F401
from . import language  # noqa: F401
from . import compiler  # noqa: F401
from . import runtime  # noqa: F401
from . import testing  # noqa: F401
from .runtime.errors import OutOfResources  # noqa: F401


def synchronize():
    """Waits until every kernel launched on the current device has finished (the GPU runtime
    records launches and submits them in batches)."""
    from . import _devices as _d

    _d.current_device().synchronize()


def cdiv(x, y):
    """Ceiling division of integers, as ``triton.cdiv``."""
    return (x + y - 1) // y


def next_power_of_2(n):
    """The smallest power of two >= n (1 for n <= 1), as ``triton.next_power_of_2``."""
    n = int(n)
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


__all__ = [
    "CompilationError",
    "CompiledKernel",
    "Tensor",
    "empty",
    "tensor",
    "zeros",
    "Config",
    "JITFunction",
    "OutOfResources",
    "autotune",
    "heuristics",
    "runtime",
    "synchronize",
    "testing",
    "cdiv",
    "compiler",
    "device",
    "device_info",
    "jit",
    "language",
    "next_power_of_2",
    "set_device",
]
