"""``triton.language.extra.cuda``: kept so that kernels importing ``libdevice`` from here
resolve to the same library."""

from . import libdevice  # noqa: F401
