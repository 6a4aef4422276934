"""``triton_metal.language``, usually imported as ``tl``."""

from . import core as _core_lang
from .core import (  # noqa: F401
    DTYPES as _DTYPES,
    bfloat16,
    constexpr,
    dtype,
    float16,
    float32,
    float64,
    float8e4b8,
    float8e4b15,
    float8e4nv,
    float8e5,
    float8e5b16,
    int1,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
)

# Triton's aliases.
bool_ = int1  # noqa: N816
float = float32  # noqa: A001 - Triton names it so
pi32_t = int32

_core_lang.define_placeholders(globals(), "triton.language", _core_lang.LANGUAGE_FUNCTIONS)

from . import math  # noqa: E402,F401
from . import extra  # noqa: E402,F401
