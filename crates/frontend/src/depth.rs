//! A guard against pathological nesting: the parser grows its own stack, but the rest of
//! the frontend recurses on the tree and must not overflow.

use ruff_python_ast::visitor::{walk_expr, walk_stmt, Visitor};
use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::{Ranged, TextSize};

use crate::source::MAX_DEPTH;

struct Depth {
    depth: usize,
    hit: Option<TextSize>,
}

impl<'a> Visitor<'a> for Depth {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.enter(stmt.range().start()) {
            walk_stmt(self, stmt);
        }
        self.depth -= 1;
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.enter(expr.range().start()) {
            walk_expr(self, expr);
        }
        self.depth -= 1;
    }
}

impl Depth {
    fn enter(&mut self, at: TextSize) -> bool {
        self.depth += 1;
        if self.hit.is_some() {
            return false;
        }
        if self.depth > MAX_DEPTH {
            self.hit = Some(at);
            return false;
        }
        true
    }
}

/// The position of the first node nested deeper than `MAX_DEPTH`, if any.
pub fn too_deep(body: &[Stmt]) -> Option<TextSize> {
    let mut d = Depth {
        depth: 0,
        hit: None,
    };
    for s in body {
        d.visit_stmt(s);
    }
    d.hit
}
