//! Frontend: Triton-language Python source to Tile IR. It knows Python syntax and Triton's
//! language semantics, nothing of threads.

pub mod api;

pub use api::{ArgSpec, Binding, ConstValue, FunctionSource, Globals, ModuleKind};
