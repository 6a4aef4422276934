"""``triton_metal.compiler``: where Triton keeps its compiler errors and compiled kernels."""

from .errors import CompilationError  # noqa: F401
from .._jit import CompiledKernel  # noqa: F401
