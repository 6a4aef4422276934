//! `_core.Device`: one engine that runs kernels — a wgpu GPU, the MSL emulator or the Tile IR
//! interpreter — opened once per selector by the Python layer.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::guard::guard;

pub enum Engine {
    #[cfg(feature = "gpu")]
    Gpu(tm_runtime::GpuDevice),
    #[cfg(feature = "emu")]
    MslEmu {
        emulator: tm_msl_emu::Emulator,
        check_races: bool,
    },
    Interpreter,
}

#[pyclass(frozen, module = "triton_metal._core")]
pub struct Device {
    /// The normalized selector this device was opened for ("" is the default GPU).
    #[pyo3(get)]
    pub selector: String,
    pub engine: Engine,
}

#[pymethods]
impl Device {
    #[new]
    #[pyo3(signature = (selector, check_races = false))]
    fn new(selector: String, check_races: bool) -> PyResult<Self> {
        guard("Device", || {
            let engine = open(&selector, check_races)?;
            Ok(Device { selector, engine })
        })
    }

    /// "gpu", "msl-emu" or "interpreter".
    #[getter]
    fn kind(&self) -> &'static str {
        match &self.engine {
            #[cfg(feature = "gpu")]
            Engine::Gpu(_) => "gpu",
            #[cfg(feature = "emu")]
            Engine::MslEmu { .. } => "msl-emu",
            Engine::Interpreter => "interpreter",
        }
    }

    /// What runs kernels, in words.
    #[getter]
    pub fn description(&self) -> String {
        match &self.engine {
            #[cfg(feature = "gpu")]
            Engine::Gpu(dev) => dev.description(),
            #[cfg(feature = "emu")]
            Engine::MslEmu { check_races, .. } => {
                format!(
                "MSL emulator (our Metal Shading Language compiled with clang-19 against a shim \
                 of Metal's library, run on the CPU{})",
                if *check_races { ", race checking on" } else { "" }
            )
            }
            Engine::Interpreter => {
                "Tile IR interpreter (on the CPU, Triton's semantics, exact memory checking)"
                    .to_string()
            }
        }
    }

    /// The compile target's name, or None for the interpreter (which runs Tile IR).
    #[getter]
    fn target_name(&self) -> Option<String> {
        self.target().map(|t| t.name)
    }

    /// Waits until every launch recorded on this device has finished. The GPU runtime
    /// batches launches; the CPU engines run each launch to completion before returning.
    fn synchronize(&self, py: Python<'_>) -> PyResult<()> {
        guard("synchronize", || match &self.engine {
            #[cfg(feature = "gpu")]
            Engine::Gpu(dev) => py
                .detach(|| dev.synchronize())
                .map_err(|e| PyRuntimeError::new_err(e.to_string())),
            _ => {
                let _ = py;
                Ok(())
            }
        })
    }

    /// The facts kernels are compiled against, as a dict: the target's (absent for the
    /// interpreter, which has none) and, on a GPU, the adapter's.
    fn properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        guard("properties", || {
            let d = PyDict::new(py);
            d.set_item("kind", self.kind())?;
            if let Some(t) = self.target() {
                d.set_item("target", t.name.clone())?;
                d.set_item(
                    "dialect",
                    match t.dialect {
                        tm_core::Dialect::Msl => "msl",
                        tm_core::Dialect::Wgsl => "wgsl",
                    },
                )?;
                d.set_item("simd_width", t.simd_width)?;
                d.set_item("max_threads_per_group", t.max_threads_per_group)?;
                d.set_item("shared_mem_bytes", t.shared_mem_bytes)?;
                d.set_item("max_grid_dim", t.max_grid_dim)?;
                d.set_item("max_buffers", t.max_buffers)?;
                d.set_item("has_f16", t.has_f16)?;
                d.set_item("has_i64", t.has_i64)?;
                d.set_item("has_f64", t.has_f64)?;
                d.set_item("native_bf16", t.native_bf16)?;
                d.set_item("matrix_shape", t.matrix_shape)?;
                d.set_item("float_atomic_add", t.float_atomic_add)?;
                d.set_item("int64_atomics", t.int64_atomics)?;
            }
            #[cfg(feature = "gpu")]
            if let Engine::Gpu(dev) = &self.engine {
                let info = dev.adapter_info();
                d.set_item("adapter_name", info.name.clone())?;
                d.set_item("device_type", format!("{:?}", info.device_type))?;
                d.set_item("backend", format!("{:?}", info.backend))?;
                let limits = dev.limits();
                d.set_item(
                    "max_storage_buffer_binding_size",
                    limits.max_storage_buffer_binding_size,
                )?;
            }
            Ok(d)
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "<triton_metal device {}: {}>",
            self.kind(),
            self.description()
        )
    }
}

impl Device {
    /// The target kernels are compiled for on this device.
    pub fn target(&self) -> Option<tm_core::Target> {
        match &self.engine {
            #[cfg(feature = "gpu")]
            Engine::Gpu(dev) => Some(dev.target().clone()),
            #[cfg(feature = "emu")]
            Engine::MslEmu { .. } => Some(tm_core::Target::msl_emulator()),
            Engine::Interpreter => None,
        }
    }
}

fn open(selector: &str, check_races: bool) -> PyResult<Engine> {
    match selector {
        "interpreter" => Ok(Engine::Interpreter),
        "msl-emu" => open_emulator(check_races),
        _ => open_gpu(selector),
    }
}

#[cfg(feature = "emu")]
fn open_emulator(check_races: bool) -> PyResult<Engine> {
    let emulator = tm_msl_emu::Emulator::new()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the MSL emulator: {e}")))?;
    Ok(Engine::MslEmu {
        emulator,
        check_races,
    })
}

#[cfg(not(feature = "emu"))]
fn open_emulator(_check_races: bool) -> PyResult<Engine> {
    Err(PyRuntimeError::new_err(
        "this build of triton_metal has no MSL emulator",
    ))
}

#[cfg(feature = "gpu")]
fn open_gpu(selector: &str) -> PyResult<Engine> {
    let dev = tm_runtime::GpuDevice::open(if selector.is_empty() {
        None
    } else {
        Some(selector)
    })
    .map_err(|e| PyRuntimeError::new_err(format!("cannot open a GPU device: {e}")))?;
    Ok(Engine::Gpu(dev))
}

#[cfg(not(feature = "gpu"))]
fn open_gpu(selector: &str) -> PyResult<Engine> {
    Err(pyo3::exceptions::PyValueError::new_err(format!(
        "this build of triton_metal has no GPU runtime (device selector {selector:?})"
    )))
}
