"""Finding a kernel's source and binding the free names it uses.

Rust parses the source and reports the free names; this module looks each one up in the
function's closure and globals and encodes what it finds for the compiler. Names bound to
anything the compiler cannot use are left unbound, so the frontend reports them at their
use, with a position.
"""

from __future__ import annotations

import inspect
import sys

from . import _core
from .language import core as _lang

# Tags of the encoded forms the Rust side reads (crates/python/src/convert.rs).
_NONE = ("none", None)


def encode_const(value):
    """A Python value as a compile-time constant, or None when it is not one."""
    if isinstance(value, _lang.constexpr):
        value = value.value
    if value is None:
        return _NONE
    t = type(value)
    if t is bool:
        return ("bool", value)
    if t is int:
        return ("int", value) if -(2**63) <= value < 2**63 else None
    if t is float:
        return ("float", value)
    if t is str:
        return ("str", value)
    if isinstance(value, _lang.dtype):
        return ("dtype", value.short)
    if t is tuple:
        items = tuple(encode_const(v) for v in value)
        return None if any(i is None for i in items) else ("tuple", items)
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        return encode_const(value.item())
    from ._jit import JITFunction

    if isinstance(value, JITFunction):
        # The function object itself (hashable, for cache keys); expand_const turns it
        # into its source tree for the compiler.
        return ("jit", value)
    return None


def expand_const(encoded, _active=None):
    """An encoded constant with each ``("jit", function)`` replaced by ``("jit", tree)``;
    None where that function is being expanded already (recursion)."""
    tag, payload = encoded
    if tag == "jit":
        if _active is not None and id(payload) in _active:
            return None
        return ("jit", function_source(payload, _active))
    if tag == "tuple":
        items = tuple(expand_const(c, _active) for c in payload)
        return None if any(i is None for i in items) else ("tuple", items)
    return encoded


def expand_spec(spec):
    """An argument specialization ready for the compiler (see expand_const)."""
    if spec[0] == "constexpr":
        return ("constexpr", expand_const(spec[1]))
    return spec


# Modules kernels may name, by their import name. Real Triton's names are listed too, so a
# kernel file that imports `triton.language` still resolves if such a module object is bound.
_MODULE_KINDS = {
    "triton_metal.language": "language",
    "triton_metal.language.math": "math",
    "triton_metal.language.extra.libdevice": "libdevice",
    "triton_metal.language.extra.cuda.libdevice": "libdevice",
    "triton_metal": "triton",
    "triton.language": "language",
    "triton.language.math": "math",
    "triton.language.extra.libdevice": "libdevice",
    "triton.language.extra.cuda.libdevice": "libdevice",
    "triton": "triton",
    "math": "pymath",
}


def _module_kind(obj):
    return _MODULE_KINDS.get(getattr(obj, "__name__", None))


def _member(value):
    """``(kind, name)`` for a builtin of a kernel module imported by itself (``from
    triton.language import program_id``), else None."""
    qualified = getattr(value, "__triton_metal_builtin__", None)
    if not isinstance(qualified, str) or "." not in qualified:
        return None
    module, name = qualified.rsplit(".", 1)
    kind = _MODULE_KINDS.get(module)
    return None if kind is None else (kind, name)


class _Unbound:
    pass


_UNBOUND = _Unbound()


def _lookup(fn, name):
    code = fn.__code__
    if fn.__closure__ and name in code.co_freevars:
        cell = fn.__closure__[code.co_freevars.index(name)]
        try:
            return cell.cell_contents
        except ValueError:  # an empty cell: the name is assigned after the def
            return _UNBOUND
    return fn.__globals__.get(name, _UNBOUND)


def function_source(jit_fn, _active=None):
    """The encoded source tree of a JITFunction: ``(path, text, first_line, indent, name,
    globals)`` where each global is ``("const", c)``, ``("module", kind)``, ``("jit", tree)``
    or ``("member", (kind, name))``.
    Recursion (a function calling itself, directly or not) leaves the name unbound: the
    frontend refuses it at the call."""
    from ._jit import JITFunction

    active = set() if _active is None else _active
    active.add(id(jit_fn))
    path, text, first_line, indent = jit_fn._source()
    name = jit_fn.__name__
    bindings = {}
    for free in _core.free_names(path, text, first_line, name):
        value = _lookup(jit_fn.fn, free)
        if value is _UNBOUND:
            continue
        if isinstance(value, JITFunction):
            if id(value) in active:
                continue
            bindings[free] = ("jit", function_source(value, active))
            continue
        member = _member(value)
        if member is not None:
            bindings[free] = ("member", member)
            continue
        if inspect.ismodule(value):
            kind = _module_kind(value)
            if kind is not None:
                bindings[free] = ("module", kind)
            continue
        const = encode_const(value)
        if const is not None:
            const = expand_const(const, active)
        if const is not None:
            bindings[free] = ("const", const)
    active.discard(id(jit_fn))
    return (path, text, first_line, indent, name, bindings)


def read_source(fn):
    """The function's text as found in its file, with the def line's indentation removed from
    every line (the Rust side adds it back to error positions), and its first file line."""
    try:
        lines, first_line = inspect.getsourcelines(fn)
    except (OSError, TypeError) as e:
        raise RuntimeError(
            f"cannot read the source of kernel '{fn.__qualname__}': {e}. Kernels must be "
            "defined in a file (not typed at an interactive prompt or built with exec)"
        ) from None
    path = inspect.getsourcefile(fn) or fn.__code__.co_filename
    first = lines[0]
    indent = first[: len(first) - len(first.lstrip())]
    if indent:
        lines = [ln[len(indent):] if ln.startswith(indent) else ln for ln in lines]
    return path, "".join(lines), max(first_line, 1), indent
