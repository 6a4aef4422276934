//! A readable text form of SIMT IR (`asm['simt']`, snapshot tests). Not parsed back yet.

use std::fmt::Write;

use rustc_hash::FxHashMap;
use tm_core::ScalarType;

use crate::ir::{Builtin, Expr, Kernel, LocalId, Operand, SType, SimdOp, Space, Stmt};
use crate::Literal;

pub fn print(k: &Kernel) -> String {
    let mut p = Printer {
        k,
        out: String::new(),
        names: local_names(k),
    };
    p.kernel();
    p.out
}

/// `%name` for named locals whose name is unique, else `%<index>` (`%name.<index>` when a
/// name is shared).
fn local_names(k: &Kernel) -> Vec<String> {
    let mut count: FxHashMap<&str, u32> = FxHashMap::default();
    for (_, l) in k.locals.iter() {
        if let Some(n) = &l.name {
            *count.entry(n.as_str()).or_default() += 1;
        }
    }
    k.locals
        .iter()
        .map(|(h, l)| match &l.name {
            Some(n) if count.get(n.as_str()) == Some(&1) => format!("%{n}"),
            Some(n) => format!("%{n}.{}", h.index()),
            None => format!("%{}", h.index()),
        })
        .collect()
}

fn stype(t: SType) -> String {
    if t.lanes > 1 {
        format!("vec{}<{}>", t.lanes, t.scalar)
    } else {
        t.scalar.to_string()
    }
}

fn simd_name(op: SimdOp) -> &'static str {
    match op {
        SimdOp::ShuffleXor => "shuffle_xor",
        SimdOp::Shuffle => "shuffle",
        SimdOp::ShuffleUp => "shuffle_up",
        SimdOp::ShuffleDown => "shuffle_down",
        SimdOp::Sum => "sum",
        SimdOp::Max => "max",
        SimdOp::Min => "min",
        SimdOp::And => "and",
        SimdOp::Or => "or",
        SimdOp::Xor => "xor",
        SimdOp::PrefixInclusiveSum => "prefix_inclusive_sum",
        SimdOp::PrefixExclusiveSum => "prefix_exclusive_sum",
        SimdOp::All => "all",
        SimdOp::Any => "any",
    }
}

struct Printer<'a> {
    k: &'a Kernel,
    out: String,
    names: Vec<String>,
}

impl Printer<'_> {
    fn local(&self, l: LocalId) -> &str {
        &self.names[l.index()]
    }

    fn operand(&self, o: &Operand) -> String {
        match o {
            Operand::Local(l) => self.local(*l).to_string(),
            Operand::Const(Literal::Int(v), ScalarType::I1) => (*v != 0).to_string(),
            Operand::Const(Literal::Int(v), t) => format!("{v}:{t}"),
            Operand::Const(Literal::Float(v), t) => format!("{v:?}:{t}"),
        }
    }

    fn buf(&self, i: u32) -> String {
        self.k
            .buffers
            .get(i as usize)
            .map_or(format!("b{i}"), |b| b.name.clone())
    }

    fn arr(&self, space: Space, i: u32) -> String {
        match space {
            Space::Device => self.buf(i),
            Space::DeviceWords => format!("{}.words", self.buf(i)),
            Space::Threadgroup => self
                .k
                .shared
                .get(i as usize)
                .map_or(format!("tg{i}"), |s| s.name.clone()),
        }
    }

    fn expr(&self, e: &Expr) -> String {
        let o = |x: &Operand| self.operand(x);
        let lanes = |n: u8| {
            if n > 1 {
                format!(" x{n}")
            } else {
                String::new()
            }
        };
        match e {
            Expr::Operand(x) => o(x),
            Expr::Builtin(Builtin::ThreadIndex) => "thread_index".into(),
            Expr::Builtin(Builtin::GroupId(i)) => {
                format!(
                    "group_id.{}",
                    ["x", "y", "z"].get(*i as usize).unwrap_or(&"?")
                )
            }
            Expr::ScalarArg(i) => {
                let name = self
                    .k
                    .scalars
                    .get(*i as usize)
                    .map_or("?", |s| s.name.as_str());
                format!("scalar_arg {name}")
            }
            Expr::GridHeader(i) => format!("grid_header[{i}]"),
            Expr::Unary(u, a) => format!("{u} {}", o(a)),
            Expr::Binary(b, x, y) => format!("{b} {}, {}", o(x), o(y)),
            Expr::Cmp(p, x, y) => format!("cmp.{p} {}, {}", o(x), o(y)),
            Expr::Select(c, x, y) => format!("select {}, {}, {}", o(c), o(x), o(y)),
            Expr::Fma(x, y, z) => format!("fma {}, {}, {}", o(x), o(y), o(z)),
            Expr::MulAdd(x, y, z) => format!("muladd {}, {}, {}", o(x), o(y), o(z)),
            Expr::Cast(x, t) => format!("cast {} to {}", o(x), stype(*t)),
            Expr::Bitcast(x, t) => format!("bitcast {} to {}", o(x), stype(*t)),
            Expr::Load {
                buf,
                index,
                lanes: n,
            } => {
                format!("load {}[{}]{}", self.buf(*buf), o(index), lanes(*n))
            }
            Expr::SharedLoad {
                arr,
                index,
                lanes: n,
            } => format!(
                "load {}[{}]{}",
                self.arr(Space::Threadgroup, *arr),
                o(index),
                lanes(*n)
            ),
            Expr::Vector(xs) => {
                let v: Vec<String> = xs.iter().map(o).collect();
                format!("vector({})", v.join(", "))
            }
            Expr::Extract(x, i) => format!("extract {}, {i}", o(x)),
            Expr::Simd(op, x, None) => format!("simd.{} {}", simd_name(*op), o(x)),
            Expr::Simd(op, x, Some(y)) => format!("simd.{} {}, {}", simd_name(*op), o(x), o(y)),
        }
    }

    fn line(&mut self, depth: usize, s: &str) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn kernel(&mut self) {
        let k = self.k;
        let _ = writeln!(
            self.out,
            "kernel {} threads={} simd={}",
            k.name, k.threads_per_group, k.simd_width
        );
        for (i, b) in k.buffers.iter().enumerate() {
            let mut flags = String::new();
            if b.writes {
                flags.push_str(" writes");
            }
            if b.atomic {
                flags.push_str(" atomic");
            }
            let _ = writeln!(self.out, "buffer {} {}: {}{flags}", i + 1, b.name, b.elem);
        }
        for s in &k.scalars {
            let _ = writeln!(self.out, "scalar {}: {} @{}", s.name, s.ty, s.offset);
        }
        for s in &k.shared {
            let _ = writeln!(self.out, "shared {}: {}[{}]", s.name, s.elem, s.len);
        }
        for (i, t) in k.matrices.iter().enumerate() {
            let n = k.matrix_size;
            let _ = writeln!(self.out, "matrix m{i}: {t}[{n}x{n}]");
        }
        self.out.push_str("{\n");
        self.stmts(1, &k.body);
        self.out.push_str("}\n");
    }

    fn stmts(&mut self, depth: usize, body: &[Stmt]) {
        for s in body {
            self.stmt(depth, s);
        }
    }

    fn stmt(&mut self, depth: usize, s: &Stmt) {
        match s {
            Stmt::Assign { dst, expr } => {
                let t = stype(self.k.locals[*dst].ty);
                let line = format!("{}: {t} = {}", self.local(*dst), self.expr(expr));
                self.line(depth, &line);
            }
            Stmt::Store { buf, index, value } => {
                let line = format!(
                    "store {}[{}] = {}",
                    self.buf(*buf),
                    self.operand(index),
                    self.operand(value)
                );
                self.line(depth, &line);
            }
            Stmt::SharedStore { arr, index, value } => {
                let line = format!(
                    "store {}[{}] = {}",
                    self.arr(Space::Threadgroup, *arr),
                    self.operand(index),
                    self.operand(value)
                );
                self.line(depth, &line);
            }
            Stmt::AtomicRmw {
                dst,
                op,
                space,
                array,
                index,
                value,
            } => {
                let lhs = dst.map_or(String::new(), |d| {
                    format!("{}: {} = ", self.local(d), stype(self.k.locals[d].ty))
                });
                let line = format!(
                    "{lhs}atomic_{op} {}[{}], {}",
                    self.arr(*space, *array),
                    self.operand(index),
                    self.operand(value)
                );
                self.line(depth, &line);
            }
            Stmt::AtomicCas {
                dst,
                space,
                array,
                index,
                cmp,
                value,
            } => {
                let line = format!(
                    "{}: {} = atomic_cas {}[{}], {}, {}",
                    self.local(*dst),
                    stype(self.k.locals[*dst].ty),
                    self.arr(*space, *array),
                    self.operand(index),
                    self.operand(cmp),
                    self.operand(value)
                );
                self.line(depth, &line);
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let c = self.operand(cond);
                self.line(depth, &format!("if {c} {{"));
                self.stmts(depth + 1, then_body);
                if !else_body.is_empty() {
                    self.line(depth, "} else {");
                    self.stmts(depth + 1, else_body);
                }
                self.line(depth, "}");
            }
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
            } => {
                let line = format!(
                    "for {}: {} = {} to {} step {} {{",
                    self.local(*var),
                    stype(self.k.locals[*var].ty),
                    self.operand(start),
                    self.operand(end),
                    self.operand(step)
                );
                self.line(depth, &line);
                self.stmts(depth + 1, body);
                self.line(depth, "}");
            }
            Stmt::Loop { body } => {
                self.line(depth, "loop {");
                self.stmts(depth + 1, body);
                self.line(depth, "}");
            }
            Stmt::Break => self.line(depth, "break"),
            Stmt::Barrier => self.line(depth, "barrier"),
            Stmt::SharedBarrier => self.line(depth, "barrier.shared"),
            Stmt::Fence { scope, divergent } => self.line(
                depth,
                match (scope, divergent) {
                    (crate::ir::FenceScope::Threadgroup, false) => "fence.threadgroup",
                    (crate::ir::FenceScope::Device, false) => "fence.device",
                    (crate::ir::FenceScope::Threadgroup, true) => "fence.threadgroup.divergent",
                    (crate::ir::FenceScope::Device, true) => "fence.device.divergent",
                },
            ),
            Stmt::Return => self.line(depth, "return"),
            Stmt::MatrixLoad {
                mat,
                arr,
                offset,
                stride,
            } => {
                let line = format!(
                    "m{mat} = matrix_load {}[{} stride {stride}]",
                    self.arr(Space::Threadgroup, *arr),
                    self.operand(offset)
                );
                self.line(depth, &line);
            }
            Stmt::MatrixStore {
                mat,
                arr,
                offset,
                stride,
            } => {
                let line = format!(
                    "matrix_store {}[{} stride {stride}] = m{mat}",
                    self.arr(Space::Threadgroup, *arr),
                    self.operand(offset)
                );
                self.line(depth, &line);
            }
            Stmt::MatrixMulAcc { d, a, b, c } => {
                self.line(depth, &format!("m{d} = matrix_mul_acc m{a}, m{b}, m{c}"));
            }
        }
    }
}
