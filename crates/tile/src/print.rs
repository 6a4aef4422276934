//! The text form of Tile IR: an MLIR-like generic syntax, one op per line.
//!
//! Grammar (`[x]` optional, `x*` repeated, `"..."` literal text):
//!
//! ```text
//! function  := file* "tt.func @" NAME "(" [param ("," param)*] ") {" NL block "}" NL
//! file      := "#file" N " = " STRING NL              (one per Function::files entry, in order)
//! param     := "%" NAME ": " type " {arg=" N [", div16"] "}"
//! block     := ["^bb(" [arg ("," arg)*] "):" NL] (op NL)*  (the header only when it has args)
//! arg       := VALUE ": " type
//! op        := [VALUE ("," VALUE)* " = "] OPNAME [" {" attr ("," attr)* "}"] [" " VALUE ("," VALUE)*]
//!              [" : " type ("," type)*] (" {" NL block "}")* [" loc(" FILE ":" LINE ":" COL ")"]
//! attr      := KEY "=" (INT | LITERAL | IDENT | STRING | "[" [INT ("," INT)*] "]") | FLAG
//! type      := scalar | "ptr<" scalar ">" | "tensor<" (DIM "x")+ (scalar | "ptr<" scalar ">") ">"
//! VALUE     := "%" (N | NAME)
//! ```
//!
//! The op's operands come first as values, the result types after ` : `; operand types
//! are those of the values. Value numbers are dense in print order (parameters print by
//! name), so the text does not depend on arena order and is stable after passes. Attributes
//! are printed per op in a fixed order; flags appear only when set. Float literals use
//! Rust's shortest round-tripping form (`1.0`, `1e-7`, `-0.0`), `inf`, `-inf`, `nan`, or
//! `nan(0x...)` with the f64 bits for a NaN with a non-canonical payload. Lines starting
//! with `//` are comments (the parser skips them; the printer writes none).
//!
//! Example (kept in sync with `tests/kernels/doc_example.tile`, which is tested):
//!
//! ```text
//! tt.func @add(%x_ptr: ptr<f32> {arg=0, div16}, %out_ptr: ptr<f32> {arg=1, div16}, %n: i32 {arg=2}) {
//!   %0 = program_id {axis=0} : i32 loc(0:3:11)
//!   %1 = constant {value=128} : i32
//!   %2 = mul %0, %1 : i32
//!   %3 = make_range {start=0, end=128} : tensor<128xi32>
//!   %4 = splat %2 : tensor<128xi32>
//!   %5 = add %4, %3 : tensor<128xi32>
//!   %6 = splat %n : tensor<128xi32>
//!   %7 = cmp {pred=lt} %5, %6 : tensor<128xi1>
//!   %8 = splat %x_ptr : tensor<128xptr<f32>>
//!   %9 = addptr %8, %5 : tensor<128xptr<f32>>
//!   %10 = load {mask} %9, %7 : tensor<128xf32>
//!   %11 = reduce {axis=0} %10 : f32 {
//!     ^bb(%12: f32, %13: f32):
//!     %14 = add %12, %13 : f32
//!     yield %14
//!   }
//!   store {mask} %9, %10, %7
//!   return
//! }
//! ```

use std::fmt::{self, Write};

use crate::func::{BlockId, Function, OpId, ValueId};
use crate::ops::{Literal, OpKind};

/// The printed name of every value reachable from the body, in print order.
pub(crate) struct Names {
    names: Vec<Option<String>>,
}

impl Names {
    pub(crate) fn new(f: &Function) -> Names {
        let mut n = Names {
            names: vec![None; f.values.len()],
        };
        for p in &f.params {
            if let Some(slot) = n.names.get_mut(p.value.index()) {
                *slot = Some(p.name.clone());
            }
        }
        let mut next = 0u32;
        let mut seen = vec![false; f.blocks.len()];
        if mark(&mut seen, f.body) {
            n.number_block(f, f.body, &mut next, &mut seen);
        }
        n
    }

    /// Numbers in exactly the order `print_block` prints: block args, then per op its
    /// results and then its regions.
    fn number_block(&mut self, f: &Function, block: BlockId, next: &mut u32, seen: &mut [bool]) {
        for &a in &f.blocks[block].args {
            self.assign(a, next);
        }
        for &op in &f.blocks[block].ops {
            for &r in &f.ops[op].results {
                self.assign(r, next);
            }
            for &region in &f.ops[op].regions {
                if mark(seen, region) {
                    self.number_block(f, region, next, seen);
                }
            }
        }
    }

    fn assign(&mut self, v: ValueId, next: &mut u32) {
        if let Some(slot) = self.names.get_mut(v.index()) {
            if slot.is_none() {
                *slot = Some(next.to_string());
                *next += 1;
            }
        }
    }

    /// The printed form of a value, `%name`; values not defined anywhere reachable (broken
    /// IR) print as `%dangling<arena index>` so that the text still says something useful.
    pub(crate) fn get(&self, v: ValueId) -> String {
        match self.names.get(v.index()) {
            Some(Some(n)) => format!("%{n}"),
            _ => format!("%dangling{}", v.index()),
        }
    }
}

fn mark(seen: &mut [bool], b: BlockId) -> bool {
    match seen.get_mut(b.index()) {
        Some(s) if !*s => {
            *s = true;
            true
        }
        _ => false,
    }
}

/// Print a function in the text form described in this module's documentation.
pub fn print(f: &Function) -> String {
    let names = Names::new(f);
    let mut out = String::new();
    for (i, file) in f.files.iter().enumerate() {
        let _ = writeln!(out, "#file{i} = {}", quote(&file.path));
    }
    let _ = write!(out, "tt.func @{}(", func_name(&f.name));
    for (i, p) in f.params.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let ty = &f.values[p.value].ty;
        let _ = write!(out, "%{}: {ty} {{arg={}", p.name, p.arg_index);
        if p.divisible_by_16 {
            out.push_str(", div16");
        }
        out.push('}');
    }
    out.push_str(") {\n");
    let mut seen = vec![false; f.blocks.len()];
    mark(&mut seen, f.body);
    print_block(f, &names, f.body, 1, &mut seen, &mut out);
    out.push_str("}\n");
    out
}

impl fmt::Display for Function {
    fn fmt(&self, fm: &mut fmt::Formatter<'_>) -> fmt::Result {
        fm.write_str(&print(self))
    }
}

fn func_name(name: &str) -> String {
    if is_ident(name) {
        name.to_string()
    } else {
        quote(name)
    }
}

pub(crate) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || c == '_')
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn print_block(
    f: &Function,
    names: &Names,
    block: BlockId,
    depth: usize,
    seen: &mut [bool],
    out: &mut String,
) {
    let b = &f.blocks[block];
    if !b.args.is_empty() {
        indent(out, depth);
        out.push_str("^bb(");
        for (i, &a) in b.args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{}: {}", names.get(a), f.values[a].ty);
        }
        out.push_str("):\n");
    }
    for &op in &b.ops {
        indent(out, depth);
        print_op_head(f, names, op, out);
        let o = &f.ops[op];
        for &region in &o.regions {
            out.push_str(" {\n");
            if mark(seen, region) {
                print_block(f, names, region, depth + 1, seen, out);
            }
            indent(out, depth);
            out.push('}');
        }
        print_loc(f, op, out);
        out.push('\n');
    }
}

fn print_loc(f: &Function, op: OpId, out: &mut String) {
    let loc = f.ops[op].loc;
    if loc.is_known() {
        let _ = write!(out, " loc({}:{}:{})", loc.file, loc.line, loc.col);
    }
}

/// Results, name, attributes, operands and result types of an op: everything but its
/// regions and location.
fn print_op_head(f: &Function, names: &Names, op: OpId, out: &mut String) {
    let o = &f.ops[op];
    if !o.results.is_empty() {
        for (i, &r) in o.results.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&names.get(r));
        }
        out.push_str(" = ");
    }
    out.push_str(o.kind.name());
    let attrs = attrs(&o.kind);
    if !attrs.is_empty() {
        let _ = write!(out, " {{{}}}", attrs.join(", "));
    }
    for (i, &v) in o.operands.iter().enumerate() {
        out.push_str(if i == 0 { " " } else { ", " });
        out.push_str(&names.get(v));
    }
    for (i, &r) in o.results.iter().enumerate() {
        out.push_str(if i == 0 { " : " } else { ", " });
        let _ = write!(out, "{}", f.values[r].ty);
    }
}

/// One line naming an op for diagnostics: its head, `{...}` per region, and its location.
pub(crate) fn op_summary(f: &Function, names: &Names, op: OpId) -> String {
    let mut out = String::new();
    print_op_head(f, names, op, &mut out);
    for _ in &f.ops[op].regions {
        out.push_str(" {...}");
    }
    print_loc(f, op, &mut out);
    out
}

/// The attribute dictionary entries of an op, in their fixed order.
fn attrs(kind: &OpKind) -> Vec<String> {
    let mut a = Vec::new();
    match kind {
        OpKind::Constant(lit) => a.push(format!("value={}", literal(*lit))),
        OpKind::ProgramId(axis) | OpKind::NumPrograms(axis) => a.push(format!("axis={axis}")),
        OpKind::MakeRange { start, end } => {
            a.push(format!("start={start}"));
            a.push(format!("end={end}"));
        }
        OpKind::ExpandDims(axis) => a.push(format!("axis={axis}")),
        OpKind::Reshape { can_reorder } => {
            if *can_reorder {
                a.push("can_reorder".into());
            }
        }
        OpKind::Permute(perm) => a.push(format!("perm={}", list(perm))),
        OpKind::Cmp(pred) => a.push(format!("pred={pred}")),
        OpKind::Load {
            has_mask,
            has_other,
            volatile,
        } => {
            flag(&mut a, *has_mask, "mask");
            flag(&mut a, *has_other, "other");
            flag(&mut a, *volatile, "volatile");
        }
        OpKind::Store { has_mask } => flag(&mut a, *has_mask, "mask"),
        OpKind::AtomicRmw {
            op,
            has_mask,
            sem,
            scope,
        } => {
            a.push(format!("op={op}"));
            flag(&mut a, *has_mask, "mask");
            a.push(format!("sem={sem}"));
            a.push(format!("scope={scope}"));
        }
        OpKind::AtomicCas { sem, scope } => {
            a.push(format!("sem={sem}"));
            a.push(format!("scope={scope}"));
        }
        OpKind::Reduce { axis } => a.push(format!("axis={axis}")),
        OpKind::Scan { axis, reverse } => {
            a.push(format!("axis={axis}"));
            flag(&mut a, *reverse, "reverse");
        }
        OpKind::Dot {
            precision,
            max_num_imprecise_acc,
        } => {
            a.push(format!("precision={precision}"));
            a.push(format!("max_num_imprecise_acc={max_num_imprecise_acc}"));
        }
        OpKind::Assert { message } => a.push(format!("message={}", quote(message))),
        OpKind::Print { prefix, hex } => {
            a.push(format!("prefix={}", quote(prefix)));
            flag(&mut a, *hex, "hex");
        }
        OpKind::Hint {
            multiple_of,
            max_contiguous,
            max_constancy,
        } => {
            for (key, l) in [
                ("multiple_of", multiple_of),
                ("max_contiguous", max_contiguous),
                ("max_constancy", max_constancy),
            ] {
                if !l.is_empty() {
                    a.push(format!("{key}={}", list(l)));
                }
            }
        }
        OpKind::Splat
        | OpKind::Broadcast
        | OpKind::Join
        | OpKind::Split
        | OpKind::Unary(_)
        | OpKind::Binary(_)
        | OpKind::Select
        | OpKind::Cast
        | OpKind::Bitcast
        | OpKind::Fma
        | OpKind::AddPtr
        | OpKind::For
        | OpKind::If
        | OpKind::While
        | OpKind::Yield
        | OpKind::Condition
        | OpKind::Return
        | OpKind::Barrier => {}
    }
    a
}

fn flag(a: &mut Vec<String>, set: bool, name: &str) {
    if set {
        a.push(name.to_string());
    }
}

fn list(l: &[u32]) -> String {
    let items: Vec<String> = l.iter().map(|x| x.to_string()).collect();
    format!("[{}]", items.join(", "))
}

/// A literal in a form the parser reads back bit-exactly. Ints are plain decimals; floats
/// always contain `.`, `e`, `inf` or `nan`, so the two never look alike.
pub(crate) fn literal(lit: Literal) -> String {
    match lit {
        Literal::Int(v) => v.to_string(),
        Literal::Float(v) => float(v),
    }
}

pub(crate) fn float(v: f64) -> String {
    if v.is_finite() {
        format!("{v:?}")
    } else if v == f64::INFINITY {
        "inf".into()
    } else if v == f64::NEG_INFINITY {
        "-inf".into()
    } else if v.to_bits() == f64::NAN.to_bits() {
        "nan".into()
    } else {
        format!("nan(0x{:016x})", v.to_bits())
    }
}

/// A double-quoted string; `\\`, `\"`, `\n`, `\t`, `\r` and `\u{X}` for other control
/// characters, so that every string fits on its line.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
