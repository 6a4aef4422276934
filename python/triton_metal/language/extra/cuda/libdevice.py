"""``triton.language.extra.cuda.libdevice``: the same library as ``extra.libdevice``."""

from ..libdevice import *  # noqa: F401,F403
