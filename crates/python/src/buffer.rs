//! `_core.DeviceBuffer`: memory that stays on a GPU device between launches, behind the
//! Python layer's `triton_metal.Tensor`. The CPU engines need none: there a tensor owns
//! host memory, passed to launches like a numpy array.

use pyo3::prelude::*;

use crate::device::Device;

#[pyclass(frozen, module = "triton_metal._core")]
pub struct DeviceBuffer {
    pub device: Py<Device>,
    #[cfg(feature = "gpu")]
    pub buffer: tm_runtime::GpuBuffer,
    #[pyo3(get)]
    pub nbytes: usize,
}

#[cfg(feature = "gpu")]
mod with_gpu {
    use pyo3::exceptions::{PyRuntimeError, PyValueError};
    use pyo3::prelude::*;

    use super::DeviceBuffer;
    use crate::device::{Device, Engine};
    use crate::guard::guard;
    use crate::pack;

    fn gpu_of(device: &Py<Device>) -> PyResult<&tm_runtime::GpuDevice> {
        match &device.get().engine {
            Engine::Gpu(g) => Ok(g),
            _ => Err(PyValueError::new_err(
                "device buffers exist only on GPU devices (the CPU engines use host memory)",
            )),
        }
    }

    fn rt(e: tm_runtime::RuntimeError) -> PyErr {
        PyRuntimeError::new_err(e.to_string())
    }

    #[pymethods]
    impl DeviceBuffer {
        /// A zero-filled buffer of `nbytes` bytes on `device`.
        #[staticmethod]
        fn zeros(py: Python<'_>, device: Py<Device>, nbytes: usize) -> PyResult<DeviceBuffer> {
            guard("DeviceBuffer.zeros", || {
                let buffer =
                    py.detach(|| gpu_of(&device)?.create_buffer(nbytes as u64).map_err(rt))?;
                Ok(DeviceBuffer {
                    device,
                    buffer,
                    nbytes,
                })
            })
        }

        /// A buffer holding a copy of the host array `data`, given as
        /// `(address, nbytes, writeable, array)`.
        #[staticmethod]
        fn from_host(
            py: Python<'_>,
            device: Py<Device>,
            data: Bound<'_, PyAny>,
        ) -> PyResult<DeviceBuffer> {
            guard("DeviceBuffer.from_host", || {
                let host = pack::host_array(std::slice::from_ref(&data), 0)?;
                let gpu = gpu_of(&device)?;
                // SAFETY: the array is alive in `data` for the whole call (see HostArray).
                let buffer =
                    py.detach(|| gpu.buffer_from_bytes(unsafe { host.bytes() }).map_err(rt))?;
                Ok(DeviceBuffer {
                    device,
                    buffer,
                    nbytes: host.nbytes,
                })
            })
        }

        /// Copies the buffer into the writeable host array `out` (same tuple form), after every
        /// launch recorded so far has finished.
        fn read(&self, py: Python<'_>, out: Bound<'_, PyAny>) -> PyResult<()> {
            guard("DeviceBuffer.read", || {
                let host = pack::host_array(std::slice::from_ref(&out), 0)?;
                if !host.writeable || host.nbytes > self.nbytes {
                    return Err(PyValueError::new_err(
                        "triton_metal internal: a readback needs a writeable array no larger than the buffer",
                    ));
                }
                let gpu = gpu_of(&self.device)?;
                // SAFETY: as above, and no other slice of that memory is alive.
                py.detach(|| {
                    gpu.read_buffer(&self.buffer, unsafe { host.bytes_mut() })
                        .map_err(rt)
                })
            })
        }

        /// Identity of the allocation, never reused by its device.
        #[getter]
        fn id(&self) -> u64 {
            self.buffer.id()
        }
    }
}
