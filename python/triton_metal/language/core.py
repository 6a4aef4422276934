"""The objects kernels name through ``tl``: ``constexpr``, dtypes and the language's
functions. Kernels are compiled in Rust from their source, so the functions here only have
to exist (the frontend resolves ``tl.load`` by module and name); calling one from ordinary
Python raises an error that says so."""

from __future__ import annotations


class constexpr:
    """A compile-time value: as a parameter annotation (``BLOCK: tl.constexpr``) it makes the
    argument part of the specialization; as a wrapper (``BLOCK = tl.constexpr(128)``) it marks
    a module-level constant that kernels may use."""

    __slots__ = ("value",)

    def __init__(self, value=None):
        self.value = value.value if isinstance(value, constexpr) else value

    def __repr__(self):
        return f"constexpr[{self.value!r}]"

    def __index__(self):
        return self.value.__index__()

    def __int__(self):
        return int(self.value)

    def __float__(self):
        return float(self.value)

    def __bool__(self):
        return bool(self.value)

    def __eq__(self, other):
        other = other.value if isinstance(other, constexpr) else other
        return self.value == other

    def __hash__(self):
        return hash(self.value)


class dtype:
    """A scalar element type. ``name`` is Triton's spelling (``fp32``, ``int32``); ``short`` is
    the compiler's (``f32``, ``i32``)."""

    __slots__ = ("name", "short", "primitive_bitwidth")

    def __init__(self, name: str, short: str, bits: int):
        self.name = name
        self.short = short
        self.primitive_bitwidth = bits

    def __repr__(self):
        return f"triton_metal.language.{_PUBLIC_NAME.get(self.short, self.name)}"

    __str__ = lambda self: self.name  # noqa: E731

    def is_floating(self):
        return self.short in ("f16", "bf16", "f32", "f64") or self.short.startswith("f8")

    def is_int(self):
        return not self.is_floating()

    def is_int_signed(self):
        return self.short in ("i8", "i16", "i32", "i64")

    def is_int_unsigned(self):
        return self.short in ("u8", "u16", "u32", "u64")

    def is_bool(self):
        return self.short == "i1"

    def to(self, *_args, **_kwargs):  # pragma: no cover - only meaningful in kernels
        _outside_kernel("dtype.to")


int1 = dtype("int1", "i1", 1)
int8 = dtype("int8", "i8", 8)
int16 = dtype("int16", "i16", 16)
int32 = dtype("int32", "i32", 32)
int64 = dtype("int64", "i64", 64)
uint8 = dtype("uint8", "u8", 8)
uint16 = dtype("uint16", "u16", 16)
uint32 = dtype("uint32", "u32", 32)
uint64 = dtype("uint64", "u64", 64)
float16 = dtype("fp16", "f16", 16)
bfloat16 = dtype("bf16", "bf16", 16)
float32 = dtype("fp32", "f32", 32)
float64 = dtype("fp64", "f64", 64)
# Triton's 8-bit float formats: named so kernels and host code can compare against them
# (tutorial 06 asks `V.dtype.element_ty == tl.float8e5`); no target stores them yet.
float8e4nv = dtype("fp8e4nv", "f8e4nv", 8)
float8e4b8 = dtype("fp8e4b8", "f8e4b8", 8)
float8e4b15 = dtype("fp8e4b15", "f8e4b15", 8)
float8e5 = dtype("fp8e5", "f8e5", 8)
float8e5b16 = dtype("fp8e5b16", "f8e5b16", 8)

DTYPES = {
    "int1": int1,
    "int8": int8,
    "int16": int16,
    "int32": int32,
    "int64": int64,
    "uint8": uint8,
    "uint16": uint16,
    "uint32": uint32,
    "uint64": uint64,
    "float16": float16,
    "bfloat16": bfloat16,
    "float32": float32,
    "float64": float64,
    "float8e4nv": float8e4nv,
    "float8e4b8": float8e4b8,
    "float8e4b15": float8e4b15,
    "float8e5": float8e5,
    "float8e5b16": float8e5b16,
}
_PUBLIC_NAME = {d.short: n for n, d in DTYPES.items()}


def _outside_kernel(name: str):
    raise RuntimeError(
        f"{name}() can only be used inside a @triton_metal.jit kernel: kernels are compiled "
        "from their source, the Python function is never called"
    )


def _placeholder(qualified: str):
    short = qualified.rsplit(".", 1)[-1]

    def builtin(*_args, **_kwargs):
        _outside_kernel(qualified)

    builtin.__name__ = short
    builtin.__qualname__ = short
    builtin.__doc__ = f"``{qualified}``: a Triton builtin, usable only inside a kernel."
    builtin.__triton_metal_builtin__ = qualified
    return builtin


def define_placeholders(namespace: dict, module: str, names):
    for name in names:
        namespace[name] = _placeholder(f"{module}.{name}")


# The functions of triton.language (Triton 3.x): any of them may appear in a kernel; which
# ones the compiler implements is the frontend's business, and it says so at the use.
LANGUAGE_FUNCTIONS = """
program_id num_programs arange zeros zeros_like full full_like load store where maximum
minimum clamp exp exp2 log log2 log1p sqrt sqrt_rn rsqrt abs cdiv fdiv div_rn fma sin cos
tan floor ceil erf sigmoid softmax static_range range dot dot_scaled sum max min argmax
argmin reduce associative_scan cumsum cumprod xor_sum sort flip histogram atomic_add
atomic_max atomic_min atomic_cas atomic_xchg atomic_and atomic_or atomic_xor broadcast
broadcast_to reshape view trans permute expand_dims cat join split interleave ravel
multiple_of max_contiguous max_constancy debug_barrier static_assert static_print
device_print device_assert umulhi make_block_ptr advance make_tensor_descriptor rand randn
randint randint4x4 rand4x4 randn4x4 philox swizzle2d zeros_like inline_asm_elementwise
assume cast gather
""".split()

MATH_FUNCTIONS = """
abs ceil cos div_rn erf exp exp2 fdiv floor fma log log2 max min rsqrt sin sqrt sqrt_rn
umulhi isnan isinf signbit tanh pow
""".split()

LIBDEVICE_FUNCTIONS = """
abs acos acosh asin asinh atan atan2 atanh cbrt ceil copysign cos cosh erf erfc erfinv exp
exp2 expm1 fast_expf fast_logf fast_powf floor fma fmod hypot ilogb isinf isnan isfinited
isfinitef ldexp lgamma log log10 log1p log2 logb nearbyint nextafter pow rint round rsqrt
signbit sin sinh sqrt tan tanh tgamma trunc div_rn rcp_rn fabs fmax fmin fdim saturatef
sqrt_rn exp10 fast_dividef fast_exp10f fast_log2f fast_log10f fast_sinf fast_cosf fast_tanf
erfcinv erfcx j0 j1 y0 y1 normcdf normcdfinv sinpi cospi umulhi mulhi brev clz popc ffs
""".split()
