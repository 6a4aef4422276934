//! The vocabulary every stage of the pipeline shares: scalar dtypes, source locations
//! and diagnostics, target descriptions and the kernel ABI between compiler and runtime.

pub mod abi;
pub mod arena;
pub mod debug;
pub mod diag;
pub mod dtype;
pub mod target;

pub use abi::{
    BufferBinding, KernelAbi, ScalarSlot, ScratchBinding, ScratchKind, SCALAR_HEADER_BYTES,
};
pub use arena::{Arena, Handle};
pub use diag::{CompileError, Loc, SourceFile};
pub use dtype::ScalarType;
pub use target::{Dialect, Target};
