//! `_core.Device`: one engine that runs kernels — a wgpu GPU, the MSL emulator or the Tile IR
//! interpreter — opened once per selector by the Python layer.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

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
