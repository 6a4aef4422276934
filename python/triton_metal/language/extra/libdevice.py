"""``triton.language.extra.libdevice``: the device math library, usable inside kernels."""

from ..core import LIBDEVICE_FUNCTIONS as _NAMES, define_placeholders as _define

_define(globals(), "triton.language.extra.libdevice", _NAMES)
