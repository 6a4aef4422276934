//! `triton_metal.CompilationError` and the fix-up of positions in indented kernels.

use pyo3::prelude::*;
use tm_core::CompileError;

pyo3::create_exception!(
    triton_metal,
    CompilationError,
    pyo3::exceptions::PyException,
    "A kernel could not be compiled. The message is Triton's format: file:line:col, the source \
     line, a caret under the column and the reason; `path`, `lineno`, `col` and `reason` hold \
     the parts."
);

/// A kernel defined inside a class or a function is indented in its file. The Python layer
/// removes that indentation before the frontend parses it; positions in such a source are
/// moved back here, so errors point at the user's file as it is.
#[derive(Clone, Debug)]
pub struct Indent {
    pub path: String,
    pub first_line: u32,
    pub lines: u32,
    pub indent: String,
}

pub fn reindent(mut e: CompileError, indents: &[Indent]) -> CompileError {
    if e.line == 0 {
        return e;
    }
    let hit = indents.iter().find(|i| {
        !i.indent.is_empty()
            && i.path == e.path
            && e.line >= i.first_line
            && e.line < i.first_line.saturating_add(i.lines)
    });
    if let Some(i) = hit {
        e.col += i.indent.chars().count() as u32;
        e.source_line = format!("{}{}", i.indent, e.source_line);
    }
    e
}

pub fn compile_error(py: Python<'_>, e: &CompileError) -> PyErr {
    let err = CompilationError::new_err(e.to_string());
    let value = err.value(py);
    // Attributes are extras for tools and tests; failing to set one must not hide the error.
    let _ = value.setattr("path", e.path.as_str());
    let _ = value.setattr("lineno", e.line);
    let _ = value.setattr("col", e.col);
    let _ = value.setattr("reason", e.reason.as_str());
    let _ = value.setattr("source_line", e.source_line.as_str());
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use tm_core::SourceFile;

    #[test]
    fn reindent_moves_column_and_restores_line() {
        let file = SourceFile::new("k.py", "def k(x):\n    y = foo(x)\n", 10);
        let e = CompileError::at(&file, 11, 9, "unknown name 'foo'");
        let ind = Indent {
            path: "k.py".into(),
            first_line: 10,
            lines: 2,
            indent: "    ".into(),
        };
        let e = reindent(e, &[ind]);
        assert_eq!(e.col, 13);
        assert_eq!(
            e.to_string(),
            "at k.py:11:13:\n        y = foo(x)\n            ^\nunknown name 'foo'"
        );
    }

    #[test]
    fn reindent_leaves_other_files_alone() {
        let file = SourceFile::new("a.py", "def k(x):\n    y = foo(x)\n", 1);
        let e = CompileError::at(&file, 2, 9, "r");
        let ind = Indent {
            path: "b.py".into(),
            first_line: 1,
            lines: 2,
            indent: "    ".into(),
        };
        assert_eq!(reindent(e.clone(), &[ind]), e);
    }
}
