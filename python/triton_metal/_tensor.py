"""``triton_metal.Tensor``: an array that lives on one device between launches.

On a GPU device its memory is a device buffer (``_core.DeviceBuffer``): launches bind it
as it is and are batched, nothing waits until ``.numpy()``, a launch that takes a numpy
array, or ``triton_metal.synchronize()``. On the MSL emulator and the interpreter, which
run on the CPU, a tensor owns host memory that kernels read and write in place."""

from __future__ import annotations

import math

import numpy as np

from . import _core
from . import _devices


def _dtype(dtype) -> np.dtype:
    from ._jit import _NP_DTYPES

    dt = np.dtype(dtype)
    if dt not in _NP_DTYPES and dt.name != "bfloat16":
        raise TypeError(f"tensors of dtype {dt} are not supported")
    return dt


def _shape(shape) -> tuple:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    return shape


def _host_arg(arr: np.ndarray):
    return (arr.__array_interface__["data"][0], arr.nbytes, arr.flags.writeable, arr)


class Tensor:
    """A C-contiguous array resident on the device it was made on."""

    __slots__ = ("_device", "_shape", "_dtype", "_host", "_buf")

    def __init__(self, *args, **kwargs):
        raise TypeError(
            "make tensors with triton_metal.tensor(array), empty(shape, dtype) or zeros(shape, dtype)"
        )

    @classmethod
    def _make(cls, device, shape, dtype, host=None, buf=None):
        t = object.__new__(cls)
        t._device = device
        t._shape = shape
        t._dtype = dtype
        t._host = host
        t._buf = buf
        return t

    # -- what it is ----------------------------------------------------------------------

    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def device(self) -> str:
        """The device's kind: "gpu", "msl-emu" or "interpreter"."""
        return self._device.kind

    def numel(self) -> int:
        return math.prod(self._shape)

    def element_size(self) -> int:
        return self._dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.numel() * self._dtype.itemsize

    def stride(self, dim=None):
        """Strides in elements (the layout is always C-contiguous)."""
        strides = []
        acc = 1
        for s in reversed(self._shape):
            strides.append(acc)
            acc *= s
        strides = tuple(reversed(strides))
        return strides if dim is None else strides[dim]

    def data_ptr(self) -> int:
        """The host address on CPU engines; on a GPU, the buffer's id (never reused by its
        device; not an address)."""
        if self._buf is not None:
            return self._buf.id
        return self._host.__array_interface__["data"][0]

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    # -- back to the host ----------------------------------------------------------------

    def numpy(self) -> np.ndarray:
        """A copy on the host, after every launch recorded so far has finished."""
        if self._buf is None:
            return self._host.copy()
        out = np.empty(self._shape, self._dtype)
        if out.nbytes:
            self._buf.read(_host_arg(out))
        return out

    def __array__(self, dtype=None, copy=None):
        if copy is False:
            raise ValueError("a triton_metal.Tensor cannot be viewed as a numpy array without a copy")
        a = self.numpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __repr__(self):
        return f"triton_metal.Tensor(shape={self._shape}, dtype={self._dtype}, device={self.device!r})"

    # -- launches --------------------------------------------------------------------------

    def _launch_arg(self, device, name):
        if device is not self._device:
            raise ValueError(
                f"argument '{name}': the tensor lives on {self._device.kind} "
                f"({self._device.description}), the kernel runs on {device.kind}; "
                "copy it with triton_metal.tensor(t.numpy()) under the other device"
            )
        if self._buf is not None:
            return self._buf
        return _host_arg(self._host)


def _new(shape, dtype, data=None) -> Tensor:
    device = _devices.current_device()
    if data is not None:
        shape, dtype = data.shape, data.dtype
    if device.kind == "gpu":
        if data is None:
            buf = _core.DeviceBuffer.zeros(device, math.prod(shape) * dtype.itemsize)
        else:
            buf = _core.DeviceBuffer.from_host(device, _host_arg(data))
        return Tensor._make(device, shape, dtype, buf=buf)
    host = np.zeros(shape, dtype) if data is None else data.copy()
    return Tensor._make(device, shape, dtype, host=host)


def tensor(data, dtype=None) -> Tensor:
    """A tensor on the current device holding a copy of ``data`` (anything numpy takes)."""
    if isinstance(data, Tensor):
        data = data.numpy()
    arr = np.asarray(data, dtype=dtype)
    if not arr.flags.c_contiguous:
        # np.ascontiguousarray would also turn a 0-d array into a 1-d one.
        arr = arr.copy(order="C")
    _dtype(arr.dtype)
    return _new(arr.shape, arr.dtype, arr)


def zeros(shape, dtype=np.float32) -> Tensor:
    return _new(_shape(shape), _dtype(dtype))


def empty(shape, dtype=np.float32) -> Tensor:
    """Uninitialized in Triton; here zero-filled, since fresh device buffers are cleared."""
    return zeros(shape, dtype)
