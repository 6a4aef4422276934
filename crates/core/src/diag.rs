//! Source locations and the one error type the compiler reports to users.

use std::fmt;
use std::sync::Arc;

/// A kernel source file as the frontend saw it. `first_line` is the file line number of the
/// text's first line, so that positions inside an extracted function body are reported as
/// positions in the user's file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
    pub first_line: u32,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>, first_line: u32) -> Arc<Self> {
        Arc::new(SourceFile {
            path: path.into(),
            text: text.into(),
            first_line,
        })
    }

    /// The text of a file line (1-based, in file numbering), if it is inside this source.
    pub fn line_text(&self, file_line: u32) -> Option<&str> {
        let idx = file_line.checked_sub(self.first_line)?;
        self.text.lines().nth(idx as usize)
    }
}

/// A position in a user's file: 1-based line, 1-based column (in characters). `file` indexes
/// the list of source files of the function being compiled (the kernel and every inlined
/// callee); `Loc::UNKNOWN` marks compiler-made ops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Loc {
    pub file: u32,
    pub line: u32,
    pub col: u32,
}

impl Loc {
    pub const UNKNOWN: Loc = Loc {
        file: 0,
        line: 0,
        col: 0,
    };

    pub fn new(file: u32, line: u32, col: u32) -> Loc {
        Loc { file, line, col }
    }

    pub fn is_known(&self) -> bool {
        self.line != 0
    }
}

/// A compilation error in Triton's format:
///
/// ```text
/// at /path/kernel.py:12:9:
///         y = tl.foo(x)
///             ^
/// unsupported: 'tl.foo' is not a function of triton.language
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    pub path: String,
    pub line: u32,
    pub col: u32,
    /// The source line the error points into (empty when unknown).
    pub source_line: String,
    pub reason: String,
}

impl CompileError {
    /// An error located in `file` at a 1-based file line and 1-based column.
    pub fn at(file: &SourceFile, line: u32, col: u32, reason: impl Into<String>) -> Self {
        CompileError {
            path: file.path.clone(),
            line,
            col,
            source_line: file.line_text(line).unwrap_or("").to_string(),
            reason: reason.into(),
        }
    }

    /// An error with no position (e.g. a bad signature string given to the CLI).
    pub fn general(reason: impl Into<String>) -> Self {
        CompileError {
            path: String::new(),
            line: 0,
            col: 0,
            source_line: String::new(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return f.write_str(&self.reason);
        }
        writeln!(f, "at {}:{}:{}:", self.path, self.line, self.col)?;
        writeln!(f, "{}", self.source_line)?;
        // The caret goes under the column, counting characters, keeping tabs as tabs.
        let pad: String = self
            .source_line
            .chars()
            .take(self.col.saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        writeln!(f, "{pad}^")?;
        f.write_str(&self.reason)
    }
}

impl std::error::Error for CompileError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_column() {
        let file = SourceFile::new("k.py", "def k(x):\n    y = tl.foo(x)\n", 10);
        let e = CompileError::at(&file, 11, 9, "unsupported");
        assert_eq!(
            e.to_string(),
            "at k.py:11:9:\n    y = tl.foo(x)\n        ^\nunsupported"
        );
    }
}
