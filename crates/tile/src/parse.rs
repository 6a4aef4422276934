//! Parser of the text form written by `print` (grammar in `print.rs`).
//!
//! Structure only: the parser checks syntax, names and attribute spellings, and leaves the
//! typing rules to the verifier, so that broken IR can be written as text in tests. Uses may
//! come before definitions in the text (the verifier reports them); a name never defined is
//! an error here. Ops end at the end of their line; whitespace elsewhere is free.

use std::collections::HashMap;
use std::fmt;

use tm_core::{Handle, Loc, ScalarType, SourceFile};

use crate::func::{BlockId, Function, ValueDef, ValueId};
use crate::ops::{
    AtomicOp, BinaryOp, CmpPred, InputPrecision, Literal, MemScope, MemSem, OpKind, UnaryOp,
};
use crate::types::{Elem, Type};

/// A syntax error, at a 1-based line and column (in characters) of the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parse one function in the text form.
pub fn parse(text: &str) -> Result<Function, ParseError> {
    let mut p = Parser {
        src: text,
        pos: 0,
        f: Function::new(""),
        names: HashMap::new(),
        forward: HashMap::new(),
        depth: 0,
    };
    p.function()?;
    Ok(p.f)
}

/// Regions nest by recursion in every walker: bound the depth that text can ask for.
const MAX_DEPTH: usize = 200;

type PResult<T> = Result<T, ParseError>;

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    f: Function,
    names: HashMap<String, ValueId>,
    /// Names used before their definition: a placeholder value and where it was first used.
    forward: HashMap<String, (ValueId, usize)>,
    depth: usize,
}

#[derive(Clone, Debug)]
enum AttrVal {
    Flag,
    /// An integer or float literal, as written.
    Num(String),
    Ident(String),
    Str(String),
    List(Vec<u32>),
    NanBits(u64),
}

struct Attrs {
    items: Vec<(String, AttrVal, usize)>,
    used: Vec<bool>,
}

impl<'a> Parser<'a> {
    // --- characters ---------------------------------------------------------------------

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, s: &str) -> PResult<()> {
        if self.eat(s) {
            Ok(())
        } else {
            Err(self.err(format!("expected '{s}'{}", self.found())))
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            None => ", found end of input".into(),
            Some('\n') => ", found end of line".into(),
            Some(c) => format!(", found '{c}'"),
        }
    }

    fn skip_hspace(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump();
        }
    }

    /// Whitespace, newlines and `//` comments.
    fn skip_ws(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\n' | '\r') => self.bump(),
                Some('/') if self.rest().starts_with("//") => {
                    while !matches!(self.peek(), None | Some('\n')) {
                        self.bump();
                    }
                }
                _ => return,
            }
        }
    }

    fn end_of_line(&mut self) -> PResult<()> {
        self.skip_hspace();
        if self.rest().starts_with("//") {
            while !matches!(self.peek(), None | Some('\n')) {
                self.bump();
            }
        }
        match self.peek() {
            None | Some('\n') | Some('\r') => Ok(()),
            Some(c) => Err(self.err(format!("unexpected '{c}', expected end of line"))),
        }
    }

    fn err(&self, message: impl Into<String>) -> ParseError {
        self.err_at(self.pos, message)
    }

    fn err_at(&self, pos: usize, message: impl Into<String>) -> ParseError {
        let before = self.src.get(..pos).unwrap_or(self.src);
        let line = before.matches('\n').count() as u32 + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = before.get(line_start..).unwrap_or("").chars().count() as u32 + 1;
        ParseError {
            line,
            col,
            message: message.into(),
        }
    }

    fn take_while(&mut self, ok: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !ok(c) {
                break;
            }
            self.bump();
        }
        self.src.get(start..self.pos).unwrap_or("")
    }

    /// Identifier-like words: op names (`tt.func`), keys, enum values, value names.
    fn word(&mut self, what: &str) -> PResult<&'a str> {
        let w = self.take_while(|c| c.is_alphanumeric() || c == '_' || c == '.');
        if w.is_empty() {
            Err(self.err(format!("expected {what}{}", self.found())))
        } else {
            Ok(w)
        }
    }

    fn uint(&mut self, what: &str) -> PResult<u64> {
        let start = self.pos;
        let digits = self.take_while(|c| c.is_ascii_digit());
        if digits.is_empty() {
            return Err(self.err(format!("expected {what}{}", self.found())));
        }
        digits
            .parse::<u64>()
            .map_err(|_| self.err_at(start, format!("{what} out of range")))
    }

    fn u32(&mut self, what: &str) -> PResult<u32> {
        let start = self.pos;
        let v = self.uint(what)?;
        u32::try_from(v).map_err(|_| self.err_at(start, format!("{what} out of range")))
    }

    fn string(&mut self) -> PResult<String> {
        self.expect("\"")?;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            self.bump();
            match c {
                '"' => return Ok(out),
                '\n' => return Err(self.err("unterminated string")),
                '\\' => {
                    let Some(e) = self.peek() else {
                        return Err(self.err("unterminated string"));
                    };
                    self.bump();
                    match e {
                        '\\' => out.push('\\'),
                        '"' => out.push('"'),
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'u' => {
                            self.expect("{")?;
                            let start = self.pos;
                            let hex = self.take_while(|c| c.is_ascii_hexdigit());
                            let ch = u32::from_str_radix(hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| self.err_at(start, "bad \\u{...} escape"))?;
                            self.expect("}")?;
                            out.push(ch);
                        }
                        other => return Err(self.err(format!("unknown escape '\\{other}'"))),
                    }
                }
                c => out.push(c),
            }
        }
    }

    // --- types --------------------------------------------------------------------------

    fn scalar(&mut self) -> PResult<ScalarType> {
        let start = self.pos;
        let w = self.take_while(|c| c.is_ascii_alphanumeric());
        w.parse::<ScalarType>()
            .map_err(|_| self.err_at(start, format!("unknown element type '{w}'")))
    }

    fn elem(&mut self) -> PResult<Elem> {
        if self.eat("ptr<") {
            let s = self.scalar()?;
            self.expect(">")?;
            Ok(Elem::Ptr(s))
        } else {
            Ok(Elem::Scalar(self.scalar()?))
        }
    }

    fn ty(&mut self) -> PResult<Type> {
        if self.eat("tensor<") {
            let mut shape = Vec::new();
            loop {
                shape.push(self.u32("dimension")?);
                self.expect("x")?;
                if !matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
                    break;
                }
            }
            let elem = self.elem()?;
            self.expect(">")?;
            Ok(Type { elem, shape })
        } else {
            Ok(Type {
                elem: self.elem()?,
                shape: Vec::new(),
            })
        }
    }

    // --- values -------------------------------------------------------------------------

    /// `%name`: the name (without `%`) and where it starts.
    fn value_name(&mut self) -> PResult<(&'a str, usize)> {
        let start = self.pos;
        self.expect("%")?;
        let w = self.take_while(|c| c.is_alphanumeric() || c == '_');
        if w.is_empty() {
            return Err(self.err("expected a value name after '%'"));
        }
        Ok((w, start))
    }

    fn define(&mut self, name: &str, v: ValueId, pos: usize) -> PResult<()> {
        if self.names.contains_key(name) {
            return Err(self.err_at(pos, format!("value %{name} is defined twice")));
        }
        if let Some((placeholder, _)) = self.forward.remove(name) {
            for i in 0..self.f.ops.len() {
                for o in &mut self.f.ops[Handle::new(i)].operands {
                    if *o == placeholder {
                        *o = v;
                    }
                }
            }
        }
        self.names.insert(name.to_string(), v);
        Ok(())
    }

    fn use_value(&mut self, name: &str, pos: usize) -> ValueId {
        if let Some(&v) = self.names.get(name) {
            return v;
        }
        if let Some(&(v, _)) = self.forward.get(name) {
            return v;
        }
        let v = self.f.values.append(crate::func::Value {
            ty: Type::scalar(ScalarType::I1),
            def: ValueDef::Param(u32::MAX),
            name: None,
        });
        self.forward.insert(name.to_string(), (v, pos));
        v
    }

    // --- structure ----------------------------------------------------------------------

    fn function(&mut self) -> PResult<()> {
        self.skip_ws();
        while self.eat("#file") {
            let start = self.pos;
            let idx = self.uint("file index")?;
            if idx != self.f.files.len() as u64 {
                return Err(self.err_at(
                    start,
                    format!(
                        "expected #file{}, files are numbered in order",
                        self.f.files.len()
                    ),
                ));
            }
            self.skip_hspace();
            self.expect("=")?;
            self.skip_hspace();
            let path = self.string()?;
            self.f.files.push(SourceFile::new(path, "", 1));
            self.end_of_line()?;
            self.skip_ws();
        }
        self.expect("tt.func")?;
        self.skip_hspace();
        self.expect("@")?;
        self.f.name = if self.peek() == Some('"') {
            self.string()?
        } else {
            self.word("a function name")?.to_string()
        };
        self.expect("(")?;
        self.skip_ws();
        if !self.eat(")") {
            loop {
                self.skip_ws();
                self.param()?;
                self.skip_ws();
                if self.eat(")") {
                    break;
                }
                self.expect(",")?;
            }
        }
        self.skip_hspace();
        self.expect("{")?;
        self.end_of_line()?;
        let body = self.f.body;
        self.ops_until_close(body)?;
        self.skip_ws();
        if self.peek().is_some() {
            return Err(self.err("unexpected text after the function"));
        }
        if let Some((name, pos)) = self
            .forward
            .iter()
            .min_by_key(|(_, (_, pos))| *pos)
            .map(|(n, (_, p))| (n.clone(), *p))
        {
            return Err(self.err_at(pos, format!("use of undefined value %{name}")));
        }
        Ok(())
    }

    fn param(&mut self) -> PResult<()> {
        let (name, pos) = self.value_name()?;
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(self.err_at(pos, "parameter names must not start with a digit"));
        }
        self.skip_hspace();
        self.expect(":")?;
        self.skip_hspace();
        let ty = self.ty()?;
        self.skip_hspace();
        self.expect("{")?;
        self.skip_hspace();
        self.expect("arg")?;
        self.skip_hspace();
        self.expect("=")?;
        self.skip_hspace();
        let arg = self.u32("argument index")?;
        self.skip_hspace();
        let mut div16 = false;
        if self.eat(",") {
            self.skip_hspace();
            self.expect("div16")?;
            div16 = true;
            self.skip_hspace();
        }
        self.expect("}")?;
        let v = self.f.add_param(name, ty, arg, div16);
        self.define(name, v, pos)
    }

    /// Ops of `block` up to and including the closing `}` of its region.
    fn ops_until_close(&mut self, block: BlockId) -> PResult<()> {
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(self.err("expected '}', found end of input")),
                Some('}') => {
                    self.bump();
                    return Ok(());
                }
                Some(_) => self.op(block)?,
            }
        }
    }

    /// A region after its `{`: an optional block header, the ops, the closing `}`.
    fn region(&mut self) -> PResult<BlockId> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(format!("regions nested deeper than {MAX_DEPTH}")));
        }
        self.depth += 1;
        self.end_of_line()?;
        self.skip_ws();
        let mut args = Vec::new();
        if self.eat("^bb") {
            self.expect("(")?;
            self.skip_hspace();
            if !self.eat(")") {
                loop {
                    self.skip_hspace();
                    let (name, pos) = self.value_name()?;
                    self.skip_hspace();
                    self.expect(":")?;
                    self.skip_hspace();
                    let ty = self.ty()?;
                    args.push((name, pos, ty));
                    self.skip_hspace();
                    if self.eat(")") {
                        break;
                    }
                    self.expect(",")?;
                }
            }
            self.expect(":")?;
            self.end_of_line()?;
        }
        let types: Vec<Type> = args.iter().map(|a| a.2.clone()).collect();
        let block = self.f.new_block(&types);
        for (i, (name, pos, _)) in args.iter().enumerate() {
            let v = self.f.blocks[block].args[i];
            self.define(name, v, *pos)?;
        }
        self.ops_until_close(block)?;
        self.depth -= 1;
        Ok(block)
    }

    fn op(&mut self, block: BlockId) -> PResult<()> {
        let mut results = Vec::new();
        if self.peek() == Some('%') {
            loop {
                results.push(self.value_name()?);
                self.skip_hspace();
                if !self.eat(",") {
                    break;
                }
                self.skip_hspace();
            }
            self.expect("=")?;
            self.skip_hspace();
        }
        let name_pos = self.pos;
        let name = self.word("an op name")?;
        self.skip_hspace();
        let mut attrs = Attrs {
            items: Vec::new(),
            used: Vec::new(),
        };
        if takes_attrs(name) && self.peek() == Some('{') {
            attrs = self.attr_dict()?;
            self.skip_hspace();
        }
        let mut operands = Vec::new();
        if self.peek() == Some('%') {
            loop {
                let (n, pos) = self.value_name()?;
                operands.push(self.use_value(n, pos));
                self.skip_hspace();
                if !self.eat(",") {
                    break;
                }
                self.skip_hspace();
            }
        }
        let mut types = Vec::new();
        let types_pos = self.pos;
        if self.eat(":") {
            loop {
                self.skip_hspace();
                types.push(self.ty()?);
                self.skip_hspace();
                if !self.eat(",") {
                    break;
                }
            }
        }
        let mut regions = Vec::new();
        while self.eat("{") {
            regions.push(self.region()?);
            self.skip_hspace();
        }
        let mut loc = Loc::UNKNOWN;
        if self.eat("loc(") {
            let file = self.u32("file index")?;
            self.expect(":")?;
            let line = self.u32("line")?;
            self.expect(":")?;
            let col = self.u32("column")?;
            self.expect(")")?;
            loc = Loc::new(file, line, col);
        }
        self.end_of_line()?;
        let kind = op_kind(self, name, name_pos, &mut attrs)?;
        if results.len() != types.len() {
            return Err(self.err_at(
                types_pos,
                format!(
                    "{} result name(s) but {} result type(s)",
                    results.len(),
                    types.len()
                ),
            ));
        }
        let op = self.f.create_op(kind, operands, types, regions, loc);
        self.f.blocks[block].ops.push(op);
        for (i, (n, pos)) in results.into_iter().enumerate() {
            let v = self.f.ops[op].results[i];
            self.define(n, v, pos)?;
        }
        Ok(())
    }

    fn attr_dict(&mut self) -> PResult<Attrs> {
        self.expect("{")?;
        let mut items: Vec<(String, AttrVal, usize)> = Vec::new();
        self.skip_hspace();
        if !self.eat("}") {
            loop {
                self.skip_hspace();
                let pos = self.pos;
                let key = self.word("an attribute name")?.to_string();
                if items.iter().any(|(k, _, _)| *k == key) {
                    return Err(self.err_at(pos, format!("attribute '{key}' given twice")));
                }
                self.skip_hspace();
                let val = if self.eat("=") {
                    self.skip_hspace();
                    self.attr_val()?
                } else {
                    AttrVal::Flag
                };
                items.push((key, val, pos));
                self.skip_hspace();
                if self.eat("}") {
                    break;
                }
                self.expect(",")?;
            }
        }
        let used = vec![false; items.len()];
        Ok(Attrs { items, used })
    }

    fn attr_val(&mut self) -> PResult<AttrVal> {
        match self.peek() {
            Some('"') => Ok(AttrVal::Str(self.string()?)),
            Some('[') => {
                self.bump();
                let mut l = Vec::new();
                self.skip_hspace();
                if !self.eat("]") {
                    loop {
                        self.skip_hspace();
                        l.push(self.u32("a list element")?);
                        self.skip_hspace();
                        if self.eat("]") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                Ok(AttrVal::List(l))
            }
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let start = self.pos;
                self.bump();
                let mut prev = c;
                while let Some(c) = self.peek() {
                    let exp_sign = (c == '-' || c == '+') && (prev == 'e' || prev == 'E');
                    if !(c.is_ascii_alphanumeric() || c == '.' || exp_sign) {
                        break;
                    }
                    prev = c;
                    self.bump();
                }
                Ok(AttrVal::Num(
                    self.src.get(start..self.pos).unwrap_or("").to_string(),
                ))
            }
            Some(c) if c.is_alphabetic() || c == '_' => {
                let w = self.word("a value")?.to_string();
                if w == "nan" && self.eat("(") {
                    self.expect("0x")?;
                    let start = self.pos;
                    let hex = self.take_while(|c| c.is_ascii_hexdigit());
                    let bits = u64::from_str_radix(hex, 16)
                        .map_err(|_| self.err_at(start, "expected the hex bits of a NaN"))?;
                    self.expect(")")?;
                    return Ok(AttrVal::NanBits(bits));
                }
                Ok(AttrVal::Ident(w))
            }
            _ => Err(self.err(format!("expected an attribute value{}", self.found()))),
        }
    }
}

/// Ops whose text may carry an attribute dictionary; for the others a `{` after the name
/// opens a region (`while {` with no operands).
fn takes_attrs(name: &str) -> bool {
    matches!(
        name,
        "constant"
            | "program_id"
            | "num_programs"
            | "make_range"
            | "expand_dims"
            | "reshape"
            | "permute"
            | "cmp"
            | "load"
            | "store"
            | "atomic_rmw"
            | "atomic_cas"
            | "reduce"
            | "scan"
            | "dot"
            | "assert"
            | "print"
            | "hint"
    )
}

impl Attrs {
    fn take(&mut self, key: &str) -> Option<(AttrVal, usize)> {
        let i = self.items.iter().position(|(k, _, _)| k == key)?;
        self.used[i] = true;
        Some((self.items[i].1.clone(), self.items[i].2))
    }
}

fn op_kind(p: &Parser, name: &str, name_pos: usize, a: &mut Attrs) -> PResult<OpKind> {
    let req = |a: &mut Attrs, key: &str| -> PResult<(AttrVal, usize)> {
        a.take(key)
            .ok_or_else(|| p.err_at(name_pos, format!("'{name}' needs attribute '{key}'")))
    };
    let int_at = |a: &mut Attrs, key: &str| -> PResult<(i64, usize)> {
        let (v, pos) = req(a, key)?;
        match v {
            AttrVal::Num(s) => s
                .parse::<i64>()
                .map(|n| (n, pos))
                .map_err(|_| p.err_at(pos, format!("'{key}' must be an integer, not '{s}'"))),
            _ => Err(p.err_at(pos, format!("'{key}' must be an integer"))),
        }
    };
    let int = |a: &mut Attrs, key: &str| int_at(a, key).map(|(v, _)| v);
    let small = |a: &mut Attrs, key: &str, max: i64| -> PResult<i64> {
        let (v, pos) = int_at(a, key)?;
        if v < 0 || v > max {
            return Err(p.err_at(pos, format!("'{key}' out of range")));
        }
        Ok(v)
    };
    let flag = |a: &mut Attrs, key: &str| -> PResult<bool> {
        match a.take(key) {
            None => Ok(false),
            Some((AttrVal::Flag, _)) => Ok(true),
            Some((_, pos)) => Err(p.err_at(pos, format!("'{key}' is a flag and takes no value"))),
        }
    };
    let ident = |a: &mut Attrs, key: &str| -> PResult<(String, usize)> {
        match req(a, key)? {
            (AttrVal::Ident(s), pos) => Ok((s, pos)),
            (_, pos) => Err(p.err_at(pos, format!("'{key}' must be a name"))),
        }
    };
    let string = |a: &mut Attrs, key: &str| -> PResult<String> {
        match req(a, key)? {
            (AttrVal::Str(s), _) => Ok(s),
            (_, pos) => Err(p.err_at(pos, format!("'{key}' must be a string"))),
        }
    };
    let list = |a: &mut Attrs, key: &str, required: bool| -> PResult<Vec<u32>> {
        match a.take(key) {
            None if !required => Ok(Vec::new()),
            None => Err(p.err_at(name_pos, format!("'{name}' needs attribute '{key}'"))),
            Some((AttrVal::List(l), _)) => Ok(l),
            Some((_, pos)) => Err(p.err_at(pos, format!("'{key}' must be a list"))),
        }
    };
    let sem = |a: &mut Attrs| -> PResult<MemSem> {
        let (s, pos) = ident(a, "sem")?;
        MemSem::from_name(&s).ok_or_else(|| p.err_at(pos, format!("unknown sem '{s}'")))
    };
    let scope = |a: &mut Attrs| -> PResult<MemScope> {
        let (s, pos) = ident(a, "scope")?;
        MemScope::from_name(&s).ok_or_else(|| p.err_at(pos, format!("unknown scope '{s}'")))
    };

    let kind = match name {
        "constant" => {
            let (v, pos) = req(a, "value")?;
            OpKind::Constant(literal(p, v, pos)?)
        }
        "program_id" => OpKind::ProgramId(small(a, "axis", 255)? as u8),
        "num_programs" => OpKind::NumPrograms(small(a, "axis", 255)? as u8),
        "make_range" => {
            let start = int(a, "start")?;
            let end = int(a, "end")?;
            let (Ok(start), Ok(end)) = (i32::try_from(start), i32::try_from(end)) else {
                return Err(p.err_at(name_pos, "make_range bounds must fit in i32"));
            };
            OpKind::MakeRange { start, end }
        }
        "splat" => OpKind::Splat,
        "broadcast" => OpKind::Broadcast,
        "expand_dims" => OpKind::ExpandDims(small(a, "axis", u32::MAX as i64)? as u32),
        "reshape" => OpKind::Reshape {
            can_reorder: flag(a, "can_reorder")?,
        },
        "permute" => OpKind::Permute(list(a, "perm", true)?),
        "join" => OpKind::Join,
        "split" => OpKind::Split,
        "cmp" => {
            let (s, pos) = ident(a, "pred")?;
            OpKind::Cmp(
                CmpPred::from_name(&s)
                    .ok_or_else(|| p.err_at(pos, format!("unknown predicate '{s}'")))?,
            )
        }
        "select" => OpKind::Select,
        "cast" => OpKind::Cast,
        "bitcast" => OpKind::Bitcast,
        "fma" => OpKind::Fma,
        "addptr" => OpKind::AddPtr,
        "load" => OpKind::Load {
            has_mask: flag(a, "mask")?,
            has_other: flag(a, "other")?,
            volatile: flag(a, "volatile")?,
        },
        "store" => OpKind::Store {
            has_mask: flag(a, "mask")?,
        },
        "atomic_rmw" => {
            let (s, pos) = ident(a, "op")?;
            let op = AtomicOp::from_name(&s)
                .ok_or_else(|| p.err_at(pos, format!("unknown atomic op '{s}'")))?;
            OpKind::AtomicRmw {
                op,
                has_mask: flag(a, "mask")?,
                sem: sem(a)?,
                scope: scope(a)?,
            }
        }
        "atomic_cas" => OpKind::AtomicCas {
            sem: sem(a)?,
            scope: scope(a)?,
        },
        "reduce" => OpKind::Reduce {
            axis: small(a, "axis", u32::MAX as i64)? as u32,
        },
        "scan" => OpKind::Scan {
            axis: small(a, "axis", u32::MAX as i64)? as u32,
            reverse: flag(a, "reverse")?,
        },
        "dot" => {
            let (s, pos) = ident(a, "precision")?;
            let precision = InputPrecision::from_name(&s)
                .ok_or_else(|| p.err_at(pos, format!("unknown precision '{s}'")))?;
            OpKind::Dot {
                precision,
                max_num_imprecise_acc: small(a, "max_num_imprecise_acc", u32::MAX as i64)? as u32,
            }
        }
        "for" => OpKind::For,
        "if" => OpKind::If,
        "while" => OpKind::While,
        "yield" => OpKind::Yield,
        "condition" => OpKind::Condition,
        "return" => OpKind::Return,
        "assert" => OpKind::Assert {
            message: string(a, "message")?,
        },
        "print" => OpKind::Print {
            prefix: string(a, "prefix")?,
            hex: flag(a, "hex")?,
        },
        "barrier" => OpKind::Barrier,
        "hint" => OpKind::Hint {
            multiple_of: list(a, "multiple_of", false)?,
            max_contiguous: list(a, "max_contiguous", false)?,
            max_constancy: list(a, "max_constancy", false)?,
        },
        other => {
            if let Some(u) = UnaryOp::from_name(other) {
                OpKind::Unary(u)
            } else if let Some(b) = BinaryOp::from_name(other) {
                OpKind::Binary(b)
            } else {
                return Err(p.err_at(name_pos, format!("unknown op '{other}'")));
            }
        }
    };
    if let Some(i) = a.used.iter().position(|u| !u) {
        let (key, _, pos) = &a.items[i];
        return Err(p.err_at(*pos, format!("'{name}' has no attribute '{key}'")));
    }
    Ok(kind)
}

fn literal(p: &Parser, v: AttrVal, pos: usize) -> PResult<Literal> {
    match v {
        AttrVal::Num(s) => {
            let digits = s.strip_prefix('-').unwrap_or(&s);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                s.parse::<i64>()
                    .map(Literal::Int)
                    .map_err(|_| p.err_at(pos, format!("integer '{s}' out of range")))
            } else {
                s.parse::<f64>()
                    .map(Literal::Float)
                    .map_err(|_| p.err_at(pos, format!("bad number '{s}'")))
            }
        }
        AttrVal::Ident(s) if s == "inf" => Ok(Literal::Float(f64::INFINITY)),
        AttrVal::Ident(s) if s == "nan" => Ok(Literal::Float(f64::NAN)),
        AttrVal::NanBits(bits) => Ok(Literal::Float(f64::from_bits(bits))),
        _ => Err(p.err_at(pos, "expected a number")),
    }
}
