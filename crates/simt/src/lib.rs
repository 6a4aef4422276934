//! Layouts and the SIMT IR: how each tensor is spread over the threads of one program, and
//! the per-thread program that results.

pub mod ir;

pub use ir::{
    BufferParam, Builtin, Expr, Kernel, Local, LocalId, Operand, ScalarParam, SharedArray,
    SimdOp, Space, Stmt, SType,
};
