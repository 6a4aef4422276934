//! From a file excerpt to a parsed function: dedent (methods and nested defs come indented
//! from `inspect.getsource`), parse, find the `def`, and map parser offsets back to file
//! lines and columns.

use std::sync::Arc;

use ruff_python_ast::{self as ast, Stmt};
use ruff_text_size::{Ranged, TextSize};
use tm_core::{CompileError, SourceFile};

/// Parser offsets are into the dedented text; errors and `Loc`s must be in the user's file.
pub struct PosMap {
    line_starts: Vec<usize>,
    /// Characters of indentation removed from each line.
    removed: Vec<u32>,
    text: String,
    first_line: u32,
}

impl PosMap {
    /// 1-based file line and column (in characters) of a byte offset of the dedented text.
    pub fn line_col(&self, offset: TextSize) -> (u32, u32) {
        let off = (u32::from(offset) as usize).min(self.text.len());
        let idx = match self.line_starts.binary_search(&off) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(idx).copied().unwrap_or(0);
        let chars = self
            .text
            .get(start..off)
            .map(|s| s.chars().count())
            .unwrap_or(0) as u32;
        let removed = self.removed.get(idx).copied().unwrap_or(0);
        (
            self.first_line.saturating_add(idx as u32),
            chars + removed + 1,
        )
    }
}

/// Remove the longest whitespace prefix common to every non-blank line (as
/// `textwrap.dedent`), remembering how much was removed from each line.
pub fn dedent(text: &str) -> PosMap {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut prefix: Option<&str> = None;
    for line in &lines {
        if line.trim().is_empty() {
            continue;
        }
        let ws_len = line.len() - line.trim_start_matches([' ', '\t']).len();
        let ws = &line[..ws_len];
        prefix = Some(match prefix {
            None => ws,
            Some(p) => {
                let common = p
                    .bytes()
                    .zip(ws.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                &p[..common]
            }
        });
    }
    let prefix = prefix.unwrap_or("");
    let mut out = String::with_capacity(text.len());
    let mut line_starts = Vec::with_capacity(lines.len());
    let mut removed = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        line_starts.push(out.len());
        let cut = if line.starts_with(prefix) {
            prefix.len()
        } else {
            // Blank lines shorter than the prefix: drop their whitespace.
            line.len() - line.trim_start_matches([' ', '\t']).len()
        };
        removed.push(cut as u32);
        out.push_str(&line[cut..]);
    }
    PosMap {
        line_starts,
        removed,
        text: out,
        first_line: 0,
    }
}

/// A parsed source file and the position map of its text.
pub struct Parsed {
    pub file: Arc<SourceFile>,
    pub map: PosMap,
    pub module: ast::ModModule,
}

/// Deeper nesting than this is refused: our walkers recurse, the parser grows its stack.
pub const MAX_DEPTH: usize = 100;

pub fn parse(file: &Arc<SourceFile>) -> Result<Parsed, CompileError> {
    let mut map = dedent(&file.text);
    map.first_line = file.first_line;
    let text = map.text.clone();
    // The parser is third-party code: a panic in it must still come out as an error.
    let result = std::panic::catch_unwind(|| ruff_python_parser::parse_module(&text));
    let parsed = match result {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            let (line, col) = map.line_col(e.location.start());
            return Err(CompileError::at(
                file,
                line,
                col,
                format!("invalid syntax: {}", e.error),
            ));
        }
        Err(_) => {
            return Err(CompileError::general(
                "internal error: the Python parser failed on this source",
            ))
        }
    };
    let module = parsed.into_syntax();
    if let Some(offset) = crate::depth::too_deep(&module.body) {
        let (line, col) = map.line_col(offset);
        // Dropping a very deep tree recurses as deep as it is: leak it instead.
        std::mem::forget(module);
        return Err(CompileError::at(
            file,
            line,
            col,
            "unsupported: expression or statement nested too deeply",
        ));
    }
    Ok(Parsed {
        file: file.clone(),
        map,
        module,
    })
}

impl Parsed {
    /// The `def name` in the module: at top level, else inside classes or other defs (the
    /// text may be a method's source).
    pub fn find_def(&self, name: &str) -> Result<&ast::StmtFunctionDef, CompileError> {
        fn search<'a>(body: &'a [Stmt], name: &str) -> Option<&'a ast::StmtFunctionDef> {
            for s in body {
                if let Stmt::FunctionDef(f) = s {
                    if f.name.as_str() == name {
                        return Some(f);
                    }
                }
            }
            for s in body {
                let inner = match s {
                    Stmt::FunctionDef(f) => search(&f.body, name),
                    Stmt::ClassDef(c) => search(&c.body, name),
                    _ => None,
                };
                if inner.is_some() {
                    return inner;
                }
            }
            None
        }
        search(&self.module.body, name).ok_or_else(|| {
            CompileError::at(
                &self.file,
                self.file.first_line,
                1,
                format!("function '{name}' is not defined in this source"),
            )
        })
    }

    pub fn error(&self, node: &impl Ranged, reason: impl Into<String>) -> CompileError {
        let (line, col) = self.map.line_col(node.range().start());
        CompileError::at(&self.file, line, col, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedent_maps_columns_back() {
        let m = dedent("    def f(x):\n\n        return x\n");
        assert_eq!(m.text, "def f(x):\n\n    return x\n");
        // "return" starts at dedented offset 15: line 3, col 9 in the file.
        let mut m = m;
        m.first_line = 10;
        assert_eq!(m.line_col(TextSize::from(15)), (12, 9));
        assert_eq!(m.line_col(TextSize::from(0)), (10, 5));
    }
}
