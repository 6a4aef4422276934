"""``triton.runtime.driver``: ``driver.active`` answers what Triton's CUDA/HIP drivers answer
(device properties, the current device and target) for the engine kernels run on now.

The numbers are the target's facts (see ``tm_core::Target``). Where neither Metal nor wgpu
reports something Triton's drivers do, the value and its origin are documented below."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .. import _devices
from .._jit import NOMINAL_REGS_PER_THREAD

# The interpreter compiles for no target; it reports the Apple target's facts, the ones its
# kernels would meet on the GPUs this project is for.
_INTERPRETER_FACTS = {
    "target": "interpreter",
    "dialect": None,
    "simd_width": 32,
    "max_threads_per_group": 1024,
    "shared_mem_bytes": 32 * 1024,
}

# GPU cores of Apple's chips in their largest configuration (binned parts have fewer): Metal
# does not report the count, so it is looked up by the adapter's name.
_APPLE_CORES = [
    ("m1 ultra", 64), ("m1 max", 32), ("m1 pro", 16), ("m1", 8),
    ("m2 ultra", 76), ("m2 max", 38), ("m2 pro", 19), ("m2", 10),
    ("m3 ultra", 80), ("m3 max", 40), ("m3 pro", 18), ("m3", 10),
    ("m4 max", 40), ("m4 pro", 20), ("m4", 10),
    ("m5", 10),
]


def _core_count(props) -> int:
    """Programs the device runs at once, in Triton's unit (streaming multiprocessors)."""
    kind = props.get("kind")
    if kind != "gpu":
        # The emulator and the interpreter run one program at a time.
        return 1
    if props.get("device_type") == "Cpu":
        # A software rasterizer (lavapipe) spreads workgroups over the CPU's threads.
        return os.cpu_count() or 1
    name = str(props.get("adapter_name", "")).lower()
    for chip, cores in _APPLE_CORES:
        if re.search(rf"\b{re.escape(chip)}\b", name):
            return cores
    # wgpu does not report compute units for other adapters.
    return 1


def _props(device=None):
    dev = _devices.current_device()
    props = dict(dev.properties())
    if props.get("kind") == "interpreter":
        for k, v in _INTERPRETER_FACTS.items():
            props.setdefault(k, v)
    return props


@dataclass(frozen=True)
class GPUTarget:
    """``get_current_target()``: ``backend`` is "metal" for MSL targets, "wgpu" for WGSL
    ones and "interpreter"; ``arch`` the target's name."""

    backend: str
    arch: str
    warp_size: int


class _Utils:
    def get_device_properties(self, device=None):
        """Triton's keys, from the current engine's target: ``max_shared_mem`` (threadgroup
        memory per group, bytes), ``warpSize`` (the SIMD width), ``multiprocessor_count``
        (GPU cores, see ``_core_count``), ``max_num_regs`` (nominal: registers are not
        reported; sized so that kernels of ``n_regs`` nominal registers fill the
        threads-per-group limit), ``max_threads_per_sm`` (threads per group), and clock and
        bus figures as 0 (unknown)."""
        p = _props(device)
        max_threads = int(p["max_threads_per_group"])
        return {
            "max_shared_mem": int(p["shared_mem_bytes"]),
            "max_num_regs": max_threads * NOMINAL_REGS_PER_THREAD,
            "multiprocessor_count": _core_count(p),
            "warpSize": int(p["simd_width"]),
            "max_threads_per_sm": max_threads,
            "sm_clock_rate": 0,
            "mem_clock_rate": 0,
            "mem_bus_width": 0,
        }


class _TorchFreeDevice:
    """What ``get_active_torch_device()`` returns without torch: arrays live on the host."""

    type = "cpu"
    index = None

    def __repr__(self):
        return "device(type='cpu')"

    def __eq__(self, other):
        return str(other) in ("cpu", repr(self)) or getattr(other, "type", None) == "cpu"

    def __hash__(self):
        return hash("cpu")


class _DeviceInterface:
    """The few ``torch.cuda``-like calls Triton's utilities make on a device interface."""

    @staticmethod
    def synchronize(device=None):
        _devices.current_device().synchronize()

    @staticmethod
    def current_device():
        return 0

    @staticmethod
    def device_count():
        return 1

    @staticmethod
    def is_available():
        return True


class ActiveDriver:
    utils = _Utils()

    def get_current_device(self):
        return 0

    def set_current_device(self, device):
        if device not in (0, None):
            raise ValueError(f"device {device}: one device is visible (0); use triton_metal.set_device")

    def get_current_stream(self, device=None):
        return 0

    def get_current_target(self):
        p = _props()
        backend = {"msl": "metal", "wgsl": "wgpu"}.get(p.get("dialect"), "interpreter")
        return GPUTarget(backend, str(p.get("target")), int(p["simd_width"]))

    def get_active_torch_device(self):
        """Arrays are host memory here: torch's CPU device when torch is installed."""
        try:
            import torch
        except ImportError:
            return _TorchFreeDevice()
        return torch.device("cpu")

    def get_device_interface(self):
        return _DeviceInterface()

    def get_benchmarker(self):
        from ..testing import do_bench

        return do_bench

    def is_active(self):
        return True


class DriverConfig:
    def __init__(self):
        self.active = ActiveDriver()
        self.default = self.active

    def set_active(self, driver):
        self.active = driver

    def reset_active(self):
        self.active = self.default


driver = DriverConfig()
