"""Which engine runs kernels: a wgpu GPU, the MSL emulator or the Tile IR interpreter.

The choice comes from ``set_device`` / ``device(...)`` when given, else from the
environment (``TRITON_METAL_DEVICE``, ``TRITON_METAL_INTERPRET``, ``TRITON_INTERPRET``).
The environment is read once, at the first launch; later changes to it are not seen (use
``set_device``). Opened devices are kept for the life of the process."""

from __future__ import annotations

import contextlib
import os
import threading

from . import _core

INTERPRETER = "interpreter"
MSL_EMU = "msl-emu"
DEFAULT_GPU = ""

_lock = threading.Lock()
_open: dict = {}
_chosen: list = []  # what set_device chose, at most one entry
_stack: list = []  # what enclosing `with device(...)` blocks chose


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _from_env() -> str:
    if _truthy("TRITON_METAL_INTERPRET") or _truthy("TRITON_INTERPRET"):
        return INTERPRETER
    return normalize(os.environ.get("TRITON_METAL_DEVICE", ""))


def normalize(selector) -> str:
    if selector is None:
        return DEFAULT_GPU
    s = str(selector).strip()
    low = s.lower()
    if low in ("", "default", "gpu", "wgpu"):
        return DEFAULT_GPU
    if low in ("interpreter", "interpret", "interp", "cpu"):
        return INTERPRETER
    if low in ("msl-emu", "msl_emu", "emu", "emulator"):
        return MSL_EMU
    return s


_env_selector: list = []  # the environment's choice, read once


def current_selector() -> str:
    if _stack:
        return _stack[-1]
    if _chosen:
        return _chosen[0]
    if not _env_selector:
        _env_selector.append(_from_env())
    return _env_selector[0]


def open_device(selector: str):
    """The opened device for a normalized selector (opened once, then reused)."""
    dev = _open.get(selector)
    if dev is not None:
        return dev
    with _lock:
        dev = _open.get(selector)
        if dev is None:
            check_races = _truthy("TRITON_METAL_EMU_CHECK_RACES")
            dev = _core.Device(selector, check_races)
            _open[selector] = dev
    return dev


def current_device():
    if _stack:
        sel = _stack[-1]
    elif _chosen:
        sel = _chosen[0]
    else:
        sel = current_selector()
    dev = _open.get(sel)
    return dev if dev is not None else open_device(sel)


def set_device(selector=None):
    """Run kernels on ``selector`` from now on: ``"default"`` for the default GPU,
    ``"msl-emu"``, ``"interpreter"``, or a wgpu selector (a backend such as ``"vulkan"``, or a
    piece of an adapter name such as ``"llvmpipe"``). ``None`` goes back to what the
    environment says. The device is opened now, so a selector that matches nothing fails
    here."""
    if selector is None:
        _chosen.clear()
        return
    sel = normalize(selector)
    open_device(sel)
    _chosen[:] = [sel]


@contextlib.contextmanager
def device(selector):
    """``with triton_metal.device("msl-emu"): ...`` runs the kernels launched inside on that
    device."""
    sel = normalize(selector)
    open_device(sel)
    _stack.append(sel)
    try:
        yield open_device(sel)
    finally:
        _stack.pop()


def device_info() -> str:
    """What runs kernels launched now, in words."""
    sel = current_selector()
    try:
        return open_device(sel).description
    except Exception as e:  # reported, not raised: this is a question, not a launch
        return f"no device for selector {sel or 'default'!r}: {e}"
