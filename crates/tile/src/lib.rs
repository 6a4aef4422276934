//! Tile IR: what a kernel means, as operations on whole-program-instance tensors.
//!
//! Typed SSA with structured control flow (for / if / while with region arguments, like
//! MLIR's scf), stored in arenas with typed handles. Every function has a text form that
//! round-trips exactly (`print` → `parse` → `print` is the identity), so passes are tested
//! as text in, text out.

pub use tm_core::{Arena, Handle};

pub mod builder;
pub mod func;
pub mod ops;
pub mod parse;
pub mod passes;
pub mod print;
pub mod types;
pub mod verify;

pub use builder::Builder;
pub use func::{Block, BlockId, Function, Op, OpId, Param, Value, ValueDef, ValueId};
pub use ops::{
    AtomicOp, BinaryOp, CmpPred, InputPrecision, Literal, MemScope, MemSem, OpKind, UnaryOp,
};
pub use parse::{parse, ParseError};
pub use passes::{cse, dce, fold, fold_dot_acc, run_default_pipeline};
pub use print::print;
pub use types::{Elem, ScalarType, Type};
pub use verify::{verify, VerifyError};
