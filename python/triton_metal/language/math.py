"""``triton.language.math``: elementwise math usable inside kernels."""

from .core import MATH_FUNCTIONS as _NAMES, define_placeholders as _define

_define(globals(), "triton.language.math", _NAMES)
