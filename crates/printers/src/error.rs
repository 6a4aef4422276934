use std::fmt;

/// Why a kernel could not be printed. Lowering should never produce these for its own
/// target; they guard against kernels that the target language cannot express.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrintError {
    /// The kernel uses a type or operation the target cannot express (f64 anywhere, 64-bit
    /// atomics on Metal, 8-bit locals in WGSL...).
    Unsupported(String),
    /// The kernel refers to a local, buffer, scalar or threadgroup array that does not exist,
    /// or combines types inconsistently.
    Malformed(String),
    /// More buffer arguments than the target allows (Metal: 31 with the scalar buffer).
    TooManyBuffers { buffers: usize, max: usize },
}

impl PrintError {
    pub(crate) fn unsupported(msg: impl Into<String>) -> Self {
        PrintError::Unsupported(msg.into())
    }

    pub(crate) fn malformed(msg: impl Into<String>) -> Self {
        PrintError::Malformed(msg.into())
    }
}

impl fmt::Display for PrintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrintError::Unsupported(m) => write!(f, "unsupported by the target: {m}"),
            PrintError::Malformed(m) => write!(f, "malformed SIMT kernel: {m}"),
            PrintError::TooManyBuffers { buffers, max } => write!(
                f,
                "kernel needs {buffers} buffer arguments plus the scalar buffer, the target allows {max} in all"
            ),
        }
    }
}

impl std::error::Error for PrintError {}
