//! The error of layout assignment and lowering: a reason and the location of the op that
//! could not be lowered.

use std::fmt;

use tm_core::{CompileError, Loc};
use tm_tile::Function;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LowerError {
    pub message: String,
    pub loc: Loc,
}

impl LowerError {
    pub fn new(message: impl Into<String>, loc: Loc) -> Self {
        LowerError {
            message: message.into(),
            loc,
        }
    }

    /// The user-facing error, pointing into the function's source files where known.
    pub fn to_compile_error(&self, f: &Function) -> CompileError {
        match f.files.get(self.loc.file as usize) {
            Some(file) if self.loc.is_known() => {
                CompileError::at(file, self.loc.line, self.loc.col, self.message.clone())
            }
            _ => CompileError::general(self.message.clone()),
        }
    }
}

impl fmt::Display for LowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.loc.is_known() {
            write!(f, "{}:{}: {}", self.loc.line, self.loc.col, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for LowerError {}
