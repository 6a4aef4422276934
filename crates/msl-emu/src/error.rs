//! Everything that can go wrong between MSL text and a finished launch.

use std::fmt;

/// One diagnostic of clang. `file` is `None` for lines of the MSL itself (then `line` is the
/// MSL's line), else the shim or generated file it points into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClangDiagnostic {
    pub file: Option<String>,
    pub line: u32,
    pub column: u32,
    pub severity: String,
    pub message: String,
}

impl fmt::Display for ClangDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            None => write!(
                f,
                "line {}:{}: {}: {}",
                self.line, self.column, self.severity, self.message
            ),
            Some(file) => write!(
                f,
                "{file}:{}:{}: {}: {}",
                self.line, self.column, self.severity, self.message
            ),
        }
    }
}

fn list(diags: &[ClangDiagnostic]) -> String {
    diags.iter().map(|d| format!("\n  {d}")).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum EmuError {
    #[error("{0}")]
    ClangNotFound(String),

    /// A construct Metal rejects that clang would accept.
    #[error("kernel `{kernel}`: Metal would reject line {line} of the MSL: {reason}")]
    Refused {
        kernel: String,
        line: u32,
        reason: String,
    },

    #[error("kernel `{kernel}`: clang rejected the MSL:{}", if diagnostics.is_empty() { format!("\n{log}") } else { list(diagnostics) })]
    Compile {
        kernel: String,
        diagnostics: Vec<ClangDiagnostic>,
        log: String,
    },

    #[error("msl-emu: {0}")]
    Io(String),

    #[error("kernel `{kernel}`: cannot load the compiled kernel: {reason}")]
    Load { kernel: String, reason: String },

    #[error("kernel `{kernel}`: bad launch: {reason}")]
    BadLaunch { kernel: String, reason: String },

    /// Threads that can not all make progress: a barrier or simd operation reached by only
    /// some of the threads that must meet there.
    #[error("kernel `{kernel}`, threadgroup {group:?}: {detail}")]
    Divergence {
        kernel: String,
        group: [u32; 3],
        detail: String,
    },

    /// A misuse the shim detected while running (e.g. lanes passing different arguments to a
    /// simdgroup_matrix operation).
    #[error("kernel `{kernel}`, threadgroup {group:?}: {detail}")]
    Execution {
        kernel: String,
        group: [u32; 3],
        detail: String,
    },

    /// Two runs that differ only in the order of threads between synchronisation points (and
    /// in the contents of uninitialised threadgroup memory) gave different results.
    #[error(
        "kernel `{kernel}`: data race: buffer(binding {binding}) (argument {arg_index}) differs at \
         byte {byte_offset} between two runs that change only the order in which threads run \
         between barriers and the contents of uninitialised threadgroup memory: a missing \
         threadgroup_barrier, threads writing the same location, or a read of uninitialised \
         threadgroup memory"
    )]
    Race {
        kernel: String,
        binding: u32,
        arg_index: usize,
        byte_offset: usize,
    },

    #[error(
        "kernel `{kernel}`: wrote {} the bounds of buffer(binding {binding}) (argument {arg_index})",
        if *before { "before" } else { "past" }
    )]
    OutOfBounds {
        kernel: String,
        binding: u32,
        arg_index: usize,
        before: bool,
    },

    #[error(
        "kernel `{kernel}`: wrote {} the bounds of its {kind} buffer(binding {binding})",
        if *before { "before" } else { "past" }
    )]
    ScratchOutOfBounds {
        kernel: String,
        binding: u32,
        kind: String,
        before: bool,
    },
}
