//! Layouts and the SIMT IR: how each tensor is spread over the threads of one program, and
//! the per-thread program that results.
//!
//! `lower(&tile_function, &target, num_warps)` gives a [`Kernel`]; `print` gives its text.

pub mod assign;
pub mod error;
pub mod ir;
pub mod layout;
pub mod lower;
pub mod print;

pub use assign::{assign, assign_for, print_assignment, Assignment};
pub use error::LowerError;
pub use ir::{
    BufferParam, Builtin, Expr, FenceScope, Kernel, Literal, Local, LocalId, Operand, SType,
    ScalarParam, SharedArray, SimdOp, Space, Stmt,
};
pub use layout::{coalesced, resolve, Blocked, DimMap, Layout, MatrixFrags, TensorMap};
pub use lower::lower;
pub use print::print;
