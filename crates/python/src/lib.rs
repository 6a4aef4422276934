//! Python bindings: the `triton_metal._core` extension module.
//!
//! The Python layer hands us a kernel's source tree (sources and resolved names), the
//! specialization of a call and the launch arguments; everything else happens here. Every
//! entry point runs under `guard`, so a Rust panic reaches Python as a `RuntimeError`.

use pyo3::prelude::*;

mod buffer;
mod convert;
mod device;
mod errors;
mod guard;
mod kernel;
mod pack;

pub use errors::CompilationError;

/// The free names of function `name` in `text` (a file excerpt starting at file line
/// `first_line`): what the Python layer must resolve in the function's globals.
#[pyfunction]
fn free_names(
    py: Python<'_>,
    path: String,
    text: String,
    first_line: u32,
    name: String,
) -> PyResult<Vec<String>> {
    guard::guard("free_names", || {
        let file = tm_core::SourceFile::new(path, text, first_line);
        free_names_of(&file, &name).map_err(|e| errors::compile_error(py, &e))
    })
}

#[cfg(feature = "frontend")]
fn free_names_of(
    file: &tm_core::SourceFile,
    name: &str,
) -> Result<Vec<String>, tm_core::CompileError> {
    tm_frontend::free_names(file, name)
}

#[cfg(not(feature = "frontend"))]
fn free_names_of(
    _file: &tm_core::SourceFile,
    _name: &str,
) -> Result<Vec<String>, tm_core::CompileError> {
    Ok(Vec::new())
}

/// Panics inside `guard`, so tests can check that a Rust panic reaches Python as a
/// RuntimeError instead of unwinding into the interpreter.
#[pyfunction]
fn _panic_for_tests() -> PyResult<()> {
    guard::guard("_panic_for_tests", || panic!("deliberate panic for a test"))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("CompilationError", m.py().get_type::<CompilationError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(free_names, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add_function(wrap_pyfunction!(kernel::compile, m)?)?;
    m.add_class::<device::Device>()?;
    m.add_class::<buffer::DeviceBuffer>()?;
    m.add_class::<kernel::Kernel>()?;
    Ok(())
}
