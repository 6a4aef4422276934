//! Printers from SIMT IR to MSL and WGSL.
//!
//! Both printers are dumb on purpose: one SIMT construct becomes one construct of text, and
//! every semantic choice that the target language leaves undefined (integer overflow,
//! division by zero, shifts by the bit width or more, float-to-int conversion out of range)
//! is made explicit in the printed code, the same way in both languages, so that Metal, the
//! MSL emulator and wgpu compute the same results.

mod error;
mod fence;
mod literal;
pub mod msl;
pub mod msl_library;
mod names;
mod types;
pub mod wgsl;
mod wgsl_math;
mod wgsl_matrix;

pub use error::PrintError;
pub use msl::print_msl;
pub use msl_library::MSL_LIBRARY;
pub use wgsl::print_wgsl;
