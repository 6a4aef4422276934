"""Triton's ``triton.compiler.errors`` spelling of the compilation error."""

from .._core import CompilationError  # noqa: F401
