"""``triton.language.extra``."""

from . import libdevice  # noqa: F401
from . import cuda  # noqa: F401
