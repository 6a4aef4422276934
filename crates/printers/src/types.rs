//! Type facts both printers need about operands and kernel interfaces.

use tm_core::ScalarType;
use tm_simt::{Kernel, Operand, SType};

use crate::PrintError;

pub(crate) fn operand_type(k: &Kernel, op: &Operand) -> Result<SType, PrintError> {
    match op {
        Operand::Local(id) => {
            if id.index() >= k.locals.len() {
                return Err(PrintError::malformed(format!(
                    "local v{} is not declared",
                    id.index()
                )));
            }
            Ok(k.locals[*id].ty)
        }
        Operand::Const(_, t) => Ok(SType::scalar(*t)),
    }
}

pub(crate) fn check_lanes(t: SType) -> Result<(), PrintError> {
    if (1..=4).contains(&t.lanes) {
        Ok(())
    } else {
        Err(PrintError::malformed(format!(
            "vector of {} lanes (1 to 4 allowed)",
            t.lanes
        )))
    }
}

/// Rejects f64 with the reason users should see.
pub(crate) fn no_f64(t: ScalarType) -> Result<(), PrintError> {
    if t == ScalarType::F64 {
        Err(PrintError::unsupported(
            "f64: Apple GPUs and our WGSL targets have no double precision",
        ))
    } else {
        Ok(())
    }
}

pub(crate) fn buffer(k: &Kernel, i: u32) -> Result<&tm_simt::BufferParam, PrintError> {
    k.buffers
        .get(i as usize)
        .ok_or_else(|| PrintError::malformed(format!("buffer {i} is not declared")))
}

pub(crate) fn shared(k: &Kernel, i: u32) -> Result<&tm_simt::SharedArray, PrintError> {
    k.shared
        .get(i as usize)
        .ok_or_else(|| PrintError::malformed(format!("threadgroup array {i} is not declared")))
}

pub(crate) fn scalar(k: &Kernel, i: u32) -> Result<&tm_simt::ScalarParam, PrintError> {
    k.scalars
        .get(i as usize)
        .ok_or_else(|| PrintError::malformed(format!("scalar argument {i} is not declared")))
}

/// Names of vector lanes, in both languages.
pub(crate) const LANES: [&str; 4] = ["x", "y", "z", "w"];
