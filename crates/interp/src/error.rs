//! What can go wrong while running a kernel, with enough context to find it in the source.

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum InterpError {
    /// A load, store or atomic through an unmasked lane outside its buffer.
    OutOfBounds {
        kernel: String,
        file: String,
        line: u32,
        col: u32,
        /// The source line of the access (empty when unknown).
        source_line: String,
        program_id: [u32; 3],
        /// The element offset the lane computed, in elements of the pointee type.
        index: i64,
        /// Number of elements in the buffer.
        buffer_len: usize,
        /// The kernel parameter the pointer was derived from.
        buffer: String,
        /// "load", "store" or "atomic".
        access: &'static str,
    },
    /// `tl.device_assert` with a false lane.
    AssertionFailed {
        kernel: String,
        file: String,
        line: u32,
        col: u32,
        source_line: String,
        program_id: [u32; 3],
        /// Multi-index of the first failing lane (empty for a scalar condition).
        lane: Vec<u32>,
        message: String,
    },
    /// The arguments do not fit the kernel's parameters.
    Arguments { kernel: String, reason: String },
    /// An op the interpreter cannot run on these operands (an ill-formed program or a
    /// construct not supported yet).
    Op {
        kernel: String,
        file: String,
        line: u32,
        col: u32,
        program_id: [u32; 3],
        op: &'static str,
        reason: String,
    },
}

/// `{what} in kernel `k` at file:line:col, program_id (x, y, z)`: how every located error
/// starts, so they all read alike.
fn fmt_head(
    f: &mut fmt::Formatter<'_>,
    what: fmt::Arguments<'_>,
    kernel: &str,
    file: &str,
    line: u32,
    col: u32,
    program_id: [u32; 3],
) -> fmt::Result {
    write!(f, "{what} in kernel `{kernel}` ")?;
    if line == 0 {
        f.write_str("at an unknown location")?;
    } else {
        write!(f, "at {file}:{line}:{col}")?;
    }
    let [x, y, z] = program_id;
    write!(f, ", program_id ({x}, {y}, {z})")
}

/// The offending source line on a line of its own, when known.
fn fmt_source(f: &mut fmt::Formatter<'_>, source_line: &str) -> fmt::Result {
    if source_line.is_empty() {
        return Ok(());
    }
    write!(f, "\n{source_line}")
}

impl fmt::Display for InterpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InterpError::OutOfBounds {
                kernel,
                file,
                line,
                col,
                source_line,
                program_id,
                index,
                buffer_len,
                buffer,
                access,
            } => {
                let what = format_args!("out-of-bounds {access}");
                fmt_head(f, what, kernel, file, *line, *col, *program_id)?;
                write!(
                    f,
                    ": index {index} into `{buffer}`, a buffer of {buffer_len} elements"
                )?;
                fmt_source(f, source_line)
            }
            InterpError::AssertionFailed {
                kernel,
                file,
                line,
                col,
                source_line,
                program_id,
                lane,
                message,
            } => {
                // One text for a failed assert on every engine: GPU launchers report theirs
                // through the same type.
                let failure = tm_core::debug::AssertFailure {
                    kernel: kernel.clone(),
                    file: file.clone(),
                    line: *line,
                    col: *col,
                    source_line: source_line.clone(),
                    program_id: *program_id,
                    lane: lane.clone(),
                    message: message.clone(),
                };
                write!(f, "{failure}")
            }
            InterpError::Arguments { kernel, reason } => {
                write!(f, "bad arguments for kernel `{kernel}`: {reason}")
            }
            InterpError::Op {
                kernel,
                file,
                line,
                col,
                program_id,
                op,
                reason,
            } => {
                let what = format_args!("cannot run `{op}`");
                fmt_head(f, what, kernel, file, *line, *col, *program_id)?;
                write!(f, ": {reason}")
            }
        }
    }
}

impl std::error::Error for InterpError {}
